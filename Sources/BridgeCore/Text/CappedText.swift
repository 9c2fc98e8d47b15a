/// Accumulates text up to a byte limit and says, visibly, how much was cut.
///
/// Test output can be megabytes; results carry the head of it and a marker
/// such as `[testbridge: output truncated, 51234567 more bytes]`.
public struct CappedText: Sendable {
  public let limit: Int
  private var bytes: [UInt8] = []
  public private(set) var droppedBytes = 0

  public init(limit: Int) {
    self.limit = max(0, limit)
  }

  public var isEmpty: Bool { bytes.isEmpty && droppedBytes == 0 }

  public mutating func append(_ chunk: UnsafeBufferPointer<UInt8>) {
    let room = limit - bytes.count
    if room >= chunk.count {
      bytes.append(contentsOf: chunk)
    } else {
      if room > 0 { bytes.append(contentsOf: chunk[0..<room]) }
      droppedBytes += chunk.count - max(room, 0)
    }
  }

  public mutating func append(_ text: String) {
    var copy = text
    copy.withUTF8 { append($0) }
  }

  /// The kept text, cut back to a whole UTF-8 character, with the truncation marker.
  public var text: String {
    guard droppedBytes > 0 else { return String(decoding: bytes, as: UTF8.self) }
    var end = bytes.count
    // Do not end inside a multi-byte character: step back over continuation bytes.
    var back = end
    while back > 0, bytes[back - 1] & 0xC0 == 0x80 { back -= 1 }
    if back > 0 {
      let lead = bytes[back - 1]
      let width = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
      if back - 1 + width > end { end = back - 1 }
    }
    let dropped = droppedBytes + (bytes.count - end)
    return String(decoding: bytes[0..<end], as: UTF8.self)
      + "\n[testbridge: output truncated, \(dropped) more bytes]"
  }

  /// ``text`` without leading and trailing whitespace; `nil` when nothing is left.
  public var trimmedText: String? {
    let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
    guard let first = bytes.firstIndex(where: { !isSpace($0) }) else { return droppedBytes > 0 ? text : nil }
    if droppedBytes > 0 {
      var copy = self
      copy.bytes.removeFirst(first)
      return copy.text
    }
    let last = bytes.lastIndex(where: { !isSpace($0) }) ?? first
    return String(decoding: bytes[first...last], as: UTF8.self)
  }

  /// The Testomat.io id of a `tid://@T1a2b3c4d` line in the kept bytes.
  public func testomatioID() -> String? {
    guard bytes.count >= 16 else { return nil }
    return bytes.withUnsafeBufferPointer { TestIdentifiers.testomatioID(inOutputBytes: $0) }
  }

  public mutating func reset() {
    bytes.removeAll(keepingCapacity: true)
    droppedBytes = 0
  }
}
