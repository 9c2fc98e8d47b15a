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
    if let plain = plainDecimal(bytes) { return plain }
    var start = 0
    var end = bytes.count
    while start < end, isSpace(bytes[start]) { start += 1 }
    while end > start, isSpace(bytes[end - 1]) { end -= 1 }
    guard start < end else { return nil }
    if start > 0 || end < bytes.count, let plain = plainDecimal(UnsafeBufferPointer(rebasing: bytes[start..<end])) {
      return plain
    }
    return slowPath(bytes, start, end)
  }

  /// Digits with at most one '.', nothing else: what nearly every tool writes,
  /// read with no trimming or bounds checks; nil for anything else. While the
  /// integer is exact in a Double, integer / 10^k is one correctly rounded
  /// division of exact values: the same result as strtod.
  @inline(__always)
  private static func plainDecimal(_ bytes: UnsafeBufferPointer<UInt8>) -> Double? {
    guard let base = bytes.baseAddress, bytes.count > 0, bytes.count <= 17 else { return nil }
    var integer: UInt64 = 0
    var fractionDigits = -1
    for index in 0..<bytes.count {
      let digit = base[index] &- 0x30
      if digit < 10 {
        integer = integer &* 10 &+ UInt64(digit)
        if fractionDigits >= 0 { fractionDigits += 1 }
      } else if base[index] == UInt8(ascii: "."), fractionDigits < 0 {
        fractionDigits = 0
      } else {
        return nil
      }
    }
    // A lone "." has no digit. Past 2^53 the integer itself would be rounded
    // before the division, and the result could differ from strtod's.
    guard bytes.count > 1 || fractionDigits < 0, integer <= 1 << 53 else { return nil }
    var scale: Double = 1  // exact: at most 10^16
    for _ in 0..<max(0, fractionDigits) { scale *= 10 }
    let value = Double(integer) / scale
    return value <= maxSeconds ? value : nil
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
