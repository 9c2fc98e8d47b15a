import BridgeCore
import Dispatch
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
  /// serve's standard input. Only the demo holds its writing end and never writes:
  /// when the demo ends, even killed with SIGKILL, serve reads the end and stops
  /// (it runs with --stop-when-stdin-closes) instead of living on unattended.
  private let lifeline = Pipe()
  private let logLines: LineDrain
  private let relayRunning = Locked(false)
  private var relayFinished: DispatchSemaphore?

  /// The webhook URL serve printed when it started listening.
  private(set) var hookURL: URL?

  /// Starts serve and waits (at most `timeout`) for its "listening on" line.
  init(executable: String, arguments: [String], environment: [String: String], timeout: Duration = .seconds(20))
    throws(CLIError)
  {
    process = DemoCommand.childProcess(
      executable, arguments, environment: environment, output: listening, log: log, input: lifeline)
    do {
      try process.run()
    } catch {
      throw CLIError("cannot start testbridge serve: \(error.localizedDescription)")
    }
    let logDescriptor = log.fileHandleForReading.fileDescriptor
    _ = fcntl(logDescriptor, F_SETFL, fcntl(logDescriptor, F_GETFL) | O_NONBLOCK)
    logLines = LineDrain(descriptor: logDescriptor)
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
  func drainLog() -> [String] { logLines.drain() }

  /// Relays serve's log to `output` as it comes, until ``stopRelaying()``: while the demo
  /// waits with `--keep`, webhooks sent by hand must not fill the pipe and stall serve.
  func relayContinuously(to output: any TextSink) {
    relayRunning.withLock { $0 = true }
    let finished = DispatchSemaphore(value: 0)
    relayFinished = finished
    let (running, lines) = (relayRunning, logLines)
    Thread.detachNewThread {
      while running.withLock({ $0 }) {
        var poller = pollfd(fd: lines.descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, 200) >= 0 || errno == EINTR else { break }
        for line in lines.drain() { output.write("    serve: \(line)\n") }
        output.flush()
        if poller.revents & Int16(POLLHUP) != 0 { break }
      }
      finished.signal()
    }
  }

  /// Stops the relay and waits for its thread, so the log is read by one thread at a time.
  func stopRelaying() {
    guard let relayFinished else { return }
    relayRunning.withLock { $0 = false }
    relayFinished.wait()
    self.relayFinished = nil
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

/// Complete lines read without blocking from a non-blocking descriptor; the part of a
/// line not yet ended waits for the next call. Safe to call from any thread.
final class LineDrain: Sendable {
  let descriptor: Int32
  private let pending = Locked<[UInt8]>([])

  init(descriptor: Int32) {
    self.descriptor = descriptor
  }

  func drain() -> [String] {
    pending.withLock { pending in
      var chunk = [UInt8](repeating: 0, count: 4096)
      while true {
        let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        if count > 0 {
          pending += chunk[..<count]
        } else if count < 0, errno == EINTR {
          continue
        } else {
          break
        }
      }
      guard let lastNewline = pending.lastIndex(of: UInt8(ascii: "\n")) else { return [] }
      let complete = pending[...lastNewline]
      pending.removeSubrange(...lastNewline)
      return complete.split(separator: UInt8(ascii: "\n")).map { String(decoding: $0, as: UTF8.self) }
    }
  }
}
