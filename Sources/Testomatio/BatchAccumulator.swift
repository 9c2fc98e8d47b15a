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

  /// An upper bound of the result's JSON size: its strings (escaping can at most
  /// double them, but real text rarely grows) plus room for keys and numbers.
  static func estimatedBytes(_ result: TestResultPayload) -> Int {
    var bytes = 320
    for text in [result.title, result.suiteTitle, result.file, result.message, result.stack, result.testID, result.rid] {
      if let text { bytes += text.utf8.count + text.utf8.count / 8 }
    }
    for (key, value) in result.meta ?? [:] { bytes += key.utf8.count + value.utf8.count + 8 }
    bytes += (result.links?.count ?? 0) * 32
    return bytes
  }
}
