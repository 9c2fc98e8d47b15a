/// Groups results into upload batches bounded in count and in bytes.
///
/// A result whose `rid` is already in the open batch replaces the earlier one
/// (a retried test's later attempt), so one request never carries a rid twice.
public struct BatchAccumulator: Sendable {
  public let maxCount: Int
  public let maxBytes: Int
  private var pending: [TestResultPayload] = []
  private var positions: [String: Int] = [:]
  private var pendingBytes = 0
  private var nextIndex = 1

  public init(maxCount: Int, maxBytes: Int) {
    self.maxCount = max(1, maxCount)
    self.maxBytes = max(1024, maxBytes)
  }

  /// Adds a result; returns a full batch when this one would overflow the open batch.
  public mutating func add(_ result: TestResultPayload) -> BatchBody? {
    if let position = positions[result.rid] {
      pendingBytes += Self.estimatedBytes(result) - Self.estimatedBytes(pending[position])
      pending[position] = result
      return nil
    }
    let size = Self.estimatedBytes(result)
    var full: BatchBody?
    if !pending.isEmpty, pending.count >= maxCount || pendingBytes + size > maxBytes {
      full = close()
    }
    positions[result.rid] = pending.count
    pending.append(result)
    pendingBytes += size
    return full
  }

  /// The open batch, if any; call at the end of the stream.
  public mutating func flush() -> BatchBody? {
    pending.isEmpty ? nil : close()
  }

  private mutating func close() -> BatchBody {
    let batch = BatchBody(apiKey: nil, tests: pending, batchIndex: nextIndex)
    nextIndex += 1
    pending.removeAll(keepingCapacity: true)
    positions.removeAll(keepingCapacity: true)
    pendingBytes = 0
    return batch
  }

  /// An upper bound of the result's JSON size as `TestomatioClient` encodes it: every string
  /// counted as escaped (``escapedBytes(_:)``), a fixed allowance for the keys, numbers and
  /// punctuation, and one byte for the comma that separates it from the next result.
  static func estimatedBytes(_ result: TestResultPayload) -> Int {
    var bytes = 320
    for text in [result.status, result.title, result.suiteTitle, result.file, result.message, result.stack, result.testID, result.rid] {
      if let text { bytes += escapedBytes(text) }
    }
    for (key, value) in result.meta ?? [:] { bytes += escapedBytes(key) + escapedBytes(value) + 2 }
    for link in result.links ?? [] {
      bytes += 3
      for (key, value) in link { bytes += escapedBytes(key) + escapedBytes(value) + 2 }
    }
    return bytes
  }

  /// The most bytes `text` can take as a JSON string, quotes included: `"` and `\` become two
  /// bytes, control characters at most six (`\u001f`), U+2028 and U+2029 six (`\u2028`, in case
  /// an encoder escapes them), everything else its UTF-8 bytes as they are.
  static func escapedBytes(_ text: String) -> Int {
    var bytes = 2
    var previous: (UInt8, UInt8) = (0, 0)
    for byte in text.utf8 {
      switch byte {
      case 0x22, 0x5C: bytes += 2
      case 0x00..<0x20, 0x7F: bytes += 6
      case 0xA8...0xA9 where previous == (0xE2, 0x80): bytes += 4  // its first two bytes counted 1 each
      default: bytes += 1
      }
      previous = (previous.1, byte)
    }
    return bytes
  }
}
