import Foundation

/// `testbridge serve` started by the demo as a child process, configured the way
/// an operator configures it: flags and environment variables, nothing in-process.
///
/// Its log (standard error) is read without blocking: serve writes a webhook's log
/// lines before it answers the webhook, so once the answer has arrived they are
/// already in the pipe, and the demo prints them in order.
final class DemoServeProcess {
  private let process: Process
  private let log = Pipe()
  private let listening = Pipe()
  private var pendingLog: [UInt8] = []

  /// The webhook URL serve printed when it started listening.
  private(set) var hookURL: URL?

  /// Starts serve and waits (at most `timeout`) for its "listening on" line.
  init(executable: String, arguments: [String], environment: [String: String], timeout: Duration = .seconds(20))
    throws(CLIError)
  {
    process = DemoCommand.childProcess(executable, arguments, environment: environment, output: listening, log: log)
    do {
      try process.run()
    } catch {
      throw CLIError("cannot start testbridge serve: \(error.localizedDescription)")
    }
    let logDescriptor = log.fileHandleForReading.fileDescriptor
    _ = fcntl(logDescriptor, F_SETFL, fcntl(logDescriptor, F_GETFL) | O_NONBLOCK)
    let line = Self.firstLine(of: listening.fileHandleForReading.fileDescriptor, timeout: timeout)
    guard let line, let start = line.range(of: "http://"), let url = URL(string: String(line[start.lowerBound...]))
    else {
      let said = drainLog().joined(separator: "; ")
      stop()
      throw CLIError("testbridge serve did not start\(said.isEmpty ? "" : ": \(said)")")
    }
    hookURL = url
  }

  /// The complete log lines serve has written since the last call.
  func drainLog() -> [String] {
    let descriptor = log.fileHandleForReading.fileDescriptor
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
      let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
      if count > 0 {
        pendingLog += chunk[..<count]
      } else if count < 0, errno == EINTR {
        continue
      } else {
        break
      }
    }
    guard let lastNewline = pendingLog.lastIndex(of: UInt8(ascii: "\n")) else { return [] }
    let complete = pendingLog[...lastNewline]
    pendingLog.removeSubrange(...lastNewline)
    return complete.split(separator: UInt8(ascii: "\n")).map { String(decoding: $0, as: UTF8.self) }
  }

  /// Sends SIGTERM, as a service manager would, and waits for serve to finish the
  /// requests in flight and exit; returns its exit status.
  @discardableResult
  func stop() -> Int32 {
    if process.isRunning { process.terminate() }
    process.waitUntilExit()
    return process.terminationStatus
  }

  /// Reads up to the first newline, giving up after `timeout` or at end of file.
  private static func firstLine(of descriptor: Int32, timeout: Duration) -> String? {
    let deadline = ContinuousClock.now + timeout
    var bytes: [UInt8] = []
    var byte: UInt8 = 0
    while ContinuousClock.now < deadline {
      var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
      let remaining = ContinuousClock.now.duration(to: deadline).components
      let milliseconds = Int32(clamping: remaining.seconds * 1000 + remaining.attoseconds / 1_000_000_000_000_000 + 1)
      let ready = poll(&poller, 1, milliseconds)
      if ready < 0, errno == EINTR { continue }
      guard ready > 0 else { return nil }
      let count = read(descriptor, &byte, 1)
      if count < 0, errno == EINTR { continue }
      guard count == 1 else { return nil }
      if byte == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
      bytes.append(byte)
    }
    return nil
  }
}
