/// Reads the `time` attribute as tools really write it.
///
/// Accepted: `1.5`, `1e-3`, ` 2 `, `0,5` (decimal comma, as some locales
/// write it), `2,503.1` (thousands separators). Negative values become 0 (a
/// clock went backwards; the test did not take negative time). Empty,
/// non-numeric, infinite and NaN values give `nil` (unknown duration), and so
/// do values over ``maxSeconds``: no clock measured them, and sums, millisecond
/// conversions and JSON built from them would overflow.
public enum DurationParser {
  /// The longest duration taken as a measurement: 10^9 seconds, about 31 years.
  public static let maxSeconds: Double = 1e9

  public static func seconds(_ raw: String?) -> Double? {
    guard var raw else { return nil }
    return raw.withUTF8 { seconds(bytes: $0) }
  }

  /// Parses straight from attribute bytes; runs once per testcase.
  public static func seconds(bytes: UnsafeBufferPointer<UInt8>) -> Double? {
    var start = 0
    var end = bytes.count
    while start < end, isSpace(bytes[start]) { start += 1 }
    while end > start, isSpace(bytes[end - 1]) { end -= 1 }
    guard start < end else { return nil }
    // Fast path: digits with an optional '.' fraction (what nearly every tool writes).
    // integer / 10^k is one correctly rounded division, the same result as strtod.
    var integer: UInt64 = 0
    var scale: Double = 1
    var digits = 0
    var sawDot = false
    var simple = true
    for index in start..<end {
      let byte = bytes[index]
      if byte >= 0x30, byte <= 0x39 {
        guard digits < 17 else {
          simple = false
          break
        }
        integer = integer * 10 + UInt64(byte - 0x30)
        digits += 1
        if sawDot { scale *= 10 }
      } else if byte == UInt8(ascii: "."), !sawDot {
        sawDot = true
      } else {
        simple = false
        break
      }
    }
    if simple, digits > 0 {
      let value = Double(integer) / scale
      return value <= maxSeconds ? value : nil
    }
    return slowPath(bytes, start, end)
  }

  private static func isSpace(_ byte: UInt8) -> Bool {
    byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
  }

  private static func slowPath(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Double? {
    var text = Array(bytes[start..<end])
    let commas = text.count { $0 == UInt8(ascii: ",") }
    if commas > 0 {
      if text.contains(UInt8(ascii: ".")) || commas > 1 {
        text.removeAll { $0 == UInt8(ascii: ",") }  // thousands separators
      } else if let comma = text.firstIndex(of: UInt8(ascii: ",")) {
        text[comma] = UInt8(ascii: ".")  // decimal comma
      }
    }
    guard let value = Double(String(decoding: text, as: UTF8.self)), value.isFinite, value <= maxSeconds else {
      return nil
    }
    return max(0, value)
  }
}
