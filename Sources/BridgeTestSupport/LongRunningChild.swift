import BridgeCore
import Foundation

/// A child process that keeps running while a test talks to it (`testbridge serve`,
/// `testbridge sandbox`): read its output as it comes, signal it, then collect it.
public final class LongRunningChild: Sendable {
  private let process: Process
  private let output = Locked((stdout: "", stderr: ""))
  private let done = DispatchGroup()

  public init(_ executable: URL, _ arguments: [String], environment: [String: String], directory: URL? = nil) throws {
    process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.environment = environment
    if let directory { process.currentDirectoryURL = directory }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    for (pipe, isOut) in [(out, true), (err, false)] {
      done.enter()
      let handle = pipe.fileHandleForReading
      Thread.detachNewThread {
        while true {
          let data = handle.availableData
          if data.isEmpty { break }
          self.append(String(decoding: data, as: UTF8.self), isOut: isOut)
        }
        self.done.leave()
      }
    }
  }

  /// `testbridge` from the build folder.
  public static func testbridge(_ arguments: [String], environment: [String: String]) throws -> LongRunningChild {
    var env = environment
    if env["PATH"] == nil { env["PATH"] = "/usr/local/bin:/usr/bin:/bin" }
    return try LongRunningChild(ChildProcess.testbridgeBinary, arguments, environment: env)
  }

  private func append(_ text: String, isOut: Bool) {
    output.withLock { if isOut { $0.stdout += text } else { $0.stderr += text } }
  }

  public var stdout: String { output.withLock { $0.stdout } }
  public var stderr: String { output.withLock { $0.stderr } }
  public var pid: Int32 { process.processIdentifier }
  public var isRunning: Bool { process.isRunning }

  /// Waits until stdout contains `text`; returns the stdout so far, or nil on timeout.
  public func waitForOutput(containing text: String, timeout: Duration = .seconds(20)) async -> String? {
    await waitFor(text, in: { $0.stdout }, timeout: timeout)
  }

  /// Waits until stderr contains `text`; returns the stderr so far, or nil on timeout.
  public func waitForError(containing text: String, timeout: Duration = .seconds(20)) async -> String? {
    await waitFor(text, in: { $0.stderr }, timeout: timeout)
  }

  private func waitFor(
    _ text: String, in stream: @Sendable ((stdout: String, stderr: String)) -> String, timeout: Duration
  ) async -> String? {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
      let current = output.withLock { stream($0) }
      if current.contains(text) { return current }
      if !process.isRunning {
        let last = output.withLock { stream($0) }
        return last.contains(text) ? last : nil
      }
      try? await Task.sleep(for: .milliseconds(25))
    }
    return nil
  }

  public func signal(_ number: Int32) {
    kill(process.processIdentifier, number)
  }

  /// Waits for the exit (off the concurrency pool) and returns everything it printed.
  public func wait() async -> ProcessOutput {
    await withCheckedContinuation { continuation in
      Thread.detachNewThread {
        self.process.waitUntilExit()
        self.done.wait()
        let texts = self.output.withLock { $0 }
        let process = self.process
        continuation.resume(
          returning: ProcessOutput(status: process.terminationStatus, stdout: texts.stdout, stderr: texts.stderr))
      }
    }
  }
}
