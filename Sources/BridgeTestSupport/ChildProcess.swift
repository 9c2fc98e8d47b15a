import Foundation

/// What a finished child process left behind.
public struct ProcessOutput: Sendable {
  public var status: Int32
  public var stdout: String
  public var stderr: String
}

/// Runs programs for tests: the built `testbridge` binary and helper scripts.
public enum ChildProcess {
  /// The `testbridge` executable built next to the test bundle.
  public static var testbridgeBinary: URL {
    var directory = Bundle.main.bundleURL
    for _ in 0..<4 {
      let candidate = directory.appendingPathComponent("testbridge")
      if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
      directory = directory.deletingLastPathComponent()
    }
    return ProjectPaths.packageRoot.appendingPathComponent(".build/debug/testbridge")
  }

  /// Runs `testbridge` with `arguments`; the environment is exactly `environment`
  /// (plus PATH), so the developer's own variables cannot change the outcome.
  public static func testbridge(
    _ arguments: [String], environment: [String: String] = [:], directory: URL? = nil, stdin: String? = nil
  ) throws -> ProcessOutput {
    var env = environment
    if env["PATH"] == nil { env["PATH"] = "/usr/local/bin:/usr/bin:/bin" }
    return try run(testbridgeBinary, arguments, environment: env, directory: directory, stdin: stdin)
  }

  /// Runs a program to completion, draining stdout and stderr concurrently so a
  /// chatty child can never block on a full pipe.
  public static func run(
    _ executable: URL, _ arguments: [String], environment: [String: String], directory: URL? = nil,
    stdin: String? = nil
  ) throws -> ProcessOutput {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.environment = environment
    if let directory { process.currentDirectoryURL = directory }
    let out = Pipe()
    let err = Pipe()
    let input = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = stdin == nil ? FileHandle.nullDevice : input
    try process.run()
    if let stdin {
      input.fileHandleForWriting.write(Data(stdin.utf8))
      try? input.fileHandleForWriting.close()
    }
    let collected = Collected()
    let group = DispatchGroup()
    for (pipe, isOut) in [(out, true), (err, false)] {
      group.enter()
      Thread.detachNewThread {
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        collected.set(data, isOut: isOut)
        group.leave()
      }
    }
    group.wait()
    process.waitUntilExit()
    return ProcessOutput(
      status: process.terminationStatus, stdout: String(decoding: collected.out, as: UTF8.self),
      stderr: String(decoding: collected.err, as: UTF8.self))
  }

  private final class Collected: @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var outData = Data()
    private var errData = Data()
    func set(_ data: Data, isOut: Bool) {
      lock.lock()
      if isOut { outData = data } else { errData = data }
      lock.unlock()
    }
    var out: Data { lock.lock(); defer { lock.unlock() }; return outData }
    var err: Data { lock.lock(); defer { lock.unlock() }; return errData }
  }
}

extension ChildProcess {
  /// `run(...)` without blocking the Swift concurrency pool (tests run in parallel on
  /// a pool as small as the machine's core count; a blocked pool starves every server).
  public static func runAsync(
    _ executable: URL, _ arguments: [String], environment: [String: String], directory: URL? = nil,
    stdin: String? = nil
  ) async throws -> ProcessOutput {
    try await withCheckedThrowingContinuation { continuation in
      Thread.detachNewThread {
        do {
          continuation.resume(
            returning: try run(executable, arguments, environment: environment, directory: directory, stdin: stdin))
        } catch {
          continuation.resume(throwing: error)
        }
      }
    }
  }

  /// `testbridge(...)` without blocking the Swift concurrency pool: the wait
  /// happens on a thread of its own, so in-process servers keep answering.
  public static func testbridgeAsync(
    _ arguments: [String], environment: [String: String] = [:], directory: URL? = nil, stdin: String? = nil
  ) async throws -> ProcessOutput {
    try await withCheckedThrowingContinuation { continuation in
      Thread.detachNewThread {
        do {
          continuation.resume(
            returning: try testbridge(arguments, environment: environment, directory: directory, stdin: stdin))
        } catch {
          continuation.resume(throwing: error)
        }
      }
    }
  }
}
