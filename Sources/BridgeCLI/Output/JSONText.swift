/// Minimal JSON text building for outputs whose key order is part of the documented schema.
enum JSONText {
  static func string(_ value: String) -> String {
    var result = "\""
    result.reserveCapacity(value.utf8.count + 2)
    for scalar in value.unicodeScalars {
      switch scalar {
      case "\"": result += "\\\""
      case "\\": result += "\\\\"
      case "\n": result += "\\n"
      case "\r": result += "\\r"
      case "\t": result += "\\t"
      default:
        if scalar.value < 0x20 {
          let hex = String(scalar.value, radix: 16)
          result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        } else {
          result.unicodeScalars.append(scalar)
        }
      }
    }
    return result + "\""
  }

  static func string(_ value: String?) -> String { value.map { string($0) } ?? "null" }

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
