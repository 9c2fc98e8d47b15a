import BridgeCore
import Foundation

/// Reads a child's stdout and stderr pipes on a dedicated thread and hands each
/// chunk to the ``OutputHandler`` as soon as it is read.
///
/// One thread polls both pipes, so neither can fill up and stall the child while
/// the other is being read, and nothing is accumulated here.
final class OutputPump: Sendable {
  private let stdoutHandle: FileHandle
  private let stderrHandle: FileHandle
  private let handler: any OutputHandler
  /// When set, reading stops at this instant even if a pipe is still open.
  private let deadline = Locked<ContinuousClock.Instant?>(nil)
  /// Fulfilled after the last chunk was delivered and the pipes were closed.
  let finished = OneShot<Void>()

  private static let chunkSize = 64 * 1024

  init(stdout: FileHandle, stderr: FileHandle, handler: any OutputHandler) {
    self.stdoutHandle = stdout
    self.stderrHandle = stderr
    self.handler = handler
  }

  func start() {
    let thread = Thread { [self] in self.pump() }
    thread.name = "testbridge-output"
    thread.start()
  }

  /// Keep reading until both pipes reach end of file, but no longer than `limit` from now.
  func stop(after limit: Duration) {
    deadline.withLock { $0 = ContinuousClock.now + limit }
  }

  private func pump() {
    let descriptors = [stdoutHandle.fileDescriptor, stderrHandle.fileDescriptor]
    var open = [true, true]
    var buffer = [UInt8](repeating: 0, count: Self.chunkSize)
    var fds = [pollfd](repeating: pollfd(), count: 2)
    while open[0] || open[1] {
      if let deadline = deadline.withLock({ $0 }), ContinuousClock.now >= deadline { break }
      for index in 0..<2 {
        fds[index] = pollfd(fd: open[index] ? descriptors[index] : -1, events: Int16(POLLIN), revents: 0)
      }
      // A bounded wait so a deadline set while both pipes are quiet is noticed.
      let ready = poll(&fds, 2, 100)
      if ready < 0 {
        if errno == EINTR { continue }
        break
      }
      guard ready > 0 else { continue }
      for index in 0..<2 where open[index] && fds[index].revents != 0 {
        let count = buffer.withUnsafeMutableBytes { read(descriptors[index], $0.baseAddress, Self.chunkSize) }
        if count > 0 {
          let chunk = Array(buffer[0..<count])
          if index == 0 { handler.stdout(chunk) } else { handler.stderr(chunk) }
        } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
          open[index] = false
        }
      }
    }
    try? stdoutHandle.close()
    try? stderrHandle.close()
    finished.fulfil(())
  }
}
