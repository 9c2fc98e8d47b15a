import Foundation

/// Reads the `time` attribute as tools really write it.
///
/// Accepted: `1.5`, `1e-3`, ` 2 `, `0,5` (decimal comma, as some locales
/// write it), `2,503.1` (thousands separators). Negative values become 0 (a
/// clock went backwards; the test did not take negative time). Empty,
/// non-numeric, infinite and NaN values give `nil` (unknown duration).
public enum DurationParser {
  public static func seconds(_ raw: String?) -> Double? {
    guard let raw else { return nil }
    var text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
    guard !text.isEmpty else { return nil }
    if text.contains(",") {
      if text.contains(".") {
        text.removeAll { $0 == "," }
      } else if text.filter({ $0 == "," }).count == 1 {
        text = text.replacingOccurrences(of: ",", with: ".")
      } else {
        text.removeAll { $0 == "," }
      }
    }
    guard let value = Double(text), value.isFinite else { return nil }
    return max(0, value)
  }
}

