import BridgeCore
import Foundation
import Synchronization

/// Where the CLI writes text: stdout, stderr, a file, or memory in tests.
public protocol TextSink: AnyObject, Sendable {
  func write(_ text: String)
  func flush()
}

/// A TextOutputStream over a sink, for writers that take `inout some TextOutputStream`.
public struct SinkStream: TextOutputStream {
  let sink: any TextSink
  public init(_ sink: any TextSink) { self.sink = sink }
  public mutating func write(_ string: String) { sink.write(string) }
}

/// Buffered writes to a file descriptor (64 KiB at a time).
public final class FileDescriptorSink: TextSink {
  private struct State {
    var buffer: [UInt8] = []
  }
  private let descriptor: Int32
  private let closesOnDeinit: Bool
  private let state = Mutex(State())
  private static let bufferLimit = 64 * 1024

  public init(descriptor: Int32, closesOnDeinit: Bool = false) {
    self.descriptor = descriptor
    self.closesOnDeinit = closesOnDeinit
  }

  /// Opens (creating or truncating) a file for writing.
  public convenience init(path: String) throws(CLIError) {
    let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else {
      throw CLIError("cannot write '\(path)': \(String(cString: strerror(errno)))", exitStatus: .failure)
    }
    self.init(descriptor: descriptor, closesOnDeinit: true)
  }

  deinit {
    flush()
    if closesOnDeinit { close(descriptor) }
  }

  public func write(_ text: String) {
    let pending: [UInt8]? = state.withLock { state in
      state.buffer.append(contentsOf: text.utf8)
      guard state.buffer.count >= Self.bufferLimit else { return nil }
      defer { state.buffer.removeAll(keepingCapacity: true) }
      return state.buffer
    }
    if let pending { writeAll(pending) }
  }

  public func flush() {
    let pending = state.withLock { state in
      defer { state.buffer.removeAll(keepingCapacity: true) }
      return state.buffer
    }
    if !pending.isEmpty { writeAll(pending) }
  }

  private func writeAll(_ bytes: [UInt8]) {
    // A closed pipe (`| head`) fails the write; there is nothing useful left to do with the output.
    bytes.withUnsafeBytes { _ = FileDescriptorIO.writeAll(descriptor, $0) }
  }
}

/// Collects text in memory (tests, and output that is decided before it is written).
public final class MemorySink: TextSink {
  private let storage = Mutex("")
  public init() {}
  public func write(_ text: String) { storage.withLock { $0 += text } }
  public func flush() {}
  public var text: String { storage.withLock { $0 } }
}
