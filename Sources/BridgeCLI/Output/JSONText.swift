/// Builds JSON text into a byte buffer, for outputs whose key order is part of
/// the documented schema. Strings that need no escaping are copied whole.
struct JSONWriter {
  private(set) var bytes: [UInt8] = []

  init(reservingCapacity capacity: Int = 0) {
    bytes.reserveCapacity(capacity)
  }

  mutating func raw(_ text: StaticString) {
    bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
  }

  mutating func raw(_ text: String) {
    bytes.append(contentsOf: text.utf8)
  }

  mutating func string(_ value: String?) {
    guard var value else { return raw("null") }
    value.withUTF8 { source in
      bytes.append(UInt8(ascii: "\""))
      var runStart = 0
      for index in 0..<source.count {
        let byte = source[index]
        guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: source[runStart..<index]))
        switch byte {
        case UInt8(ascii: "\""): raw("\\\"")
        case UInt8(ascii: "\\"): raw("\\\\")
        case 0x0A: raw("\\n")
        case 0x0D: raw("\\r")
        case 0x09: raw("\\t")
        default:
          let hex: [UInt8] = Array("0123456789abcdef".utf8)
          bytes.append(contentsOf: [
            UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)],
            hex[Int(byte & 0xF)],
          ])
        }
        runStart = index + 1
      }
      bytes.append(contentsOf: UnsafeBufferPointer(rebasing: source[runStart..<source.count]))
      bytes.append(UInt8(ascii: "\""))
    }
  }

  mutating func number(_ value: Double?) {
    guard let value else { return raw("null") }
    raw(JSONText.number(value))
  }

  mutating func number(_ value: Int?) {
    guard let value else { return raw("null") }
    raw(String(value))
  }

  mutating func bool(_ value: Bool) { raw(value ? "true" : "false") }

  /// `"key": ` (keys are written by the code, never from input, so they need no escaping).
  mutating func key(_ name: StaticString, first: Bool = false) {
    if !first { raw(", ") }
    bytes.append(UInt8(ascii: "\""))
    raw(name)
    raw("\": ")
  }

  mutating func stringArray(_ values: [String]) {
    raw("[")
    for (index, value) in values.enumerated() {
      if index > 0 { raw(", ") }
      string(value)
    }
    raw("]")
  }

  /// Hands the text so far to `sink` and empties the buffer.
  mutating func drain(to sink: any TextSink) {
    guard !bytes.isEmpty else { return }
    sink.write(String(decoding: bytes, as: UTF8.self))
    bytes.removeAll(keepingCapacity: true)
  }
}

/// Small JSON fragments built as Strings (totals, command output).
enum JSONText {
  static func string(_ value: String?) -> String {
    var writer = JSONWriter()
    writer.string(value)
    return String(decoding: writer.bytes, as: UTF8.self)
  }

  static func number(_ value: Double) -> String {
    let rounded = (value * 1_000_000).rounded() / 1_000_000
    if rounded == rounded.rounded(), abs(rounded) < 1e15 { return String(Int64(rounded)) }
    return String(rounded)
  }

  static func number(_ value: Double?) -> String { value.map { number($0) } ?? "null" }
  static func number(_ value: Int?) -> String { value.map { String($0) } ?? "null" }

  static func array(_ items: [String]) -> String { "[" + items.joined(separator: ", ") + "]" }

  /// An object from ordered key/value pairs whose values are already JSON text.
  static func object(_ pairs: [(String, String)]) -> String {
    "{" + pairs.map { "\(string($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
  }
}
