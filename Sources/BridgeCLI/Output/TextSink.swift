import BridgeCore
import Foundation

/// Where the CLI writes text: stdout, stderr, a file, or memory in tests.
public protocol TextSink: AnyObject, Sendable {
  func write(_ text: String)
  /// Writes bytes as they are (a child's output, which need not be UTF-8).
  func write(bytes: [UInt8])
  func flush()
}

extension TextSink {
  /// Sinks that hold text keep invalid UTF-8 as replacement characters.
  public func write(bytes: [UInt8]) { write(String(decoding: bytes, as: UTF8.self)) }
}

/// A TextOutputStream over a sink, for writers that take `inout some TextOutputStream`.
public struct SinkStream: TextOutputStream {
  let sink: any TextSink
  public init(_ sink: any TextSink) { self.sink = sink }
  public mutating func write(_ string: String) { sink.write(string) }
}

/// Buffered writes to a file descriptor (64 KiB at a time), or each write as it comes
/// when `unbuffered` (standard error: progress and warnings must show while the work goes on).
public final class FileDescriptorSink: TextSink {
  private struct State {
    var buffer: [UInt8] = []
  }
  private let descriptor: Int32
  private let closesOnDeinit: Bool
  private let bufferLimit: Int
  private let state = Locked(State())

  public init(descriptor: Int32, closesOnDeinit: Bool = false, unbuffered: Bool = false) {
    self.descriptor = descriptor
    self.closesOnDeinit = closesOnDeinit
    bufferLimit = unbuffered ? 1 : 64 * 1024
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
    append(text.utf8)
  }

  public func write(bytes: [UInt8]) {
    append(bytes)
  }

  private func append(_ bytes: some Sequence<UInt8>) {
    let pending: [UInt8]? = state.withLock { state in
      state.buffer.append(contentsOf: bytes)
      guard state.buffer.count >= bufferLimit else { return nil }
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
/// Bytes are kept as written; ``text`` decodes them as a whole.
public final class MemorySink: TextSink {
  private let storage = Locked<[UInt8]>([])
  public init() {}
  public func write(_ text: String) { storage.withLock { $0 += text.utf8 } }
  public func write(bytes: [UInt8]) { storage.withLock { $0 += bytes } }
  public func flush() {}
  public var text: String { storage.withLock { String(decoding: $0, as: UTF8.self) } }
  /// Everything written, byte for byte.
  public var bytes: [UInt8] { storage.withLock { $0 } }
}
