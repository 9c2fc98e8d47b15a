/// The attributes libxml2 hands to `startElementNs`: five pointers per attribute
/// (local name, prefix, URI, value start, value end). Values are not
/// NUL-terminated and are only valid during the callback.
struct AttributeList {
  let base: UnsafeMutablePointer<UnsafePointer<UInt8>?>?
  let count: Int

  /// The value of the attribute with this local name, decoded to a String.
  func value(_ name: StaticString) -> String? {
    guard let base else { return nil }
    let nameBytes = name.utf8Start
    let nameCount = name.utf8CodeUnitCount
    for index in 0..<count {
      let slot = base + index * 5
      guard let localName = slot[0] else { continue }
      var matches = true
      for offset in 0..<nameCount where localName[offset] != nameBytes[offset] {
        matches = false
        break
      }
      guard matches, localName[nameCount] == 0, let start = slot[3], let end = slot[4] else { continue }
      return Self.decode(UnsafeBufferPointer(start: start, count: end - start))
    }
    return nil
  }

  /// Calls `body` with each attribute's local name and raw value bytes.
  func forEach(_ body: (UnsafePointer<UInt8>, UnsafeBufferPointer<UInt8>) -> Void) {
    guard let base else { return }
    for index in 0..<count {
      let slot = base + index * 5
      guard let localName = slot[0], let start = slot[3], let end = slot[4] else { continue }
      body(localName, UnsafeBufferPointer(start: start, count: end - start))
    }
  }

  /// With entity substitution off, libxml2 writes an attribute's `&` as the
  /// literal `&#38;` (it expects the tree builder to decode it); undo that.
  static func decode(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
    let raw = String(decoding: bytes, as: UTF8.self)
    guard bytes.contains(UInt8(ascii: "&")) else { return raw }
    var result = ""
    var rest = raw[...]
    while let range = rest.firstRange(of: "&#38;") {
      result += rest[..<range.lowerBound]
      result += "&"
      rest = rest[range.upperBound...]
    }
    return result + rest
  }
}
