/// "Did you mean" suggestions for mistyped option and command names.
public enum Suggestions {
  /// The largest edit distance still worth suggesting.
  static let maximumDistance = 2

  /// The candidate closest to `input`, if its Levenshtein distance is at most
  /// 2. Ties go to the candidate listed first.
  ///
  ///     Suggestions.closest(to: "frmat", among: ["format", "output"])
  ///     // "format"
  public static func closest(to input: String, among candidates: [String]) -> String? {
    var best: (candidate: String, distance: Int)?
    for candidate in candidates {
      let distance = editDistance(input, candidate)
      guard distance <= maximumDistance else { continue }
      if best.map({ distance < $0.distance }) ?? true {
        best = (candidate, distance)
      }
    }
    return best?.candidate
  }

  /// The Levenshtein distance between two strings, counted in characters.
  static func editDistance(_ source: String, _ target: String) -> Int {
    let source = Array(source)
    let target = Array(target)
    if source.isEmpty { return target.count }
    if target.isEmpty { return source.count }
    var previous = Array(0...target.count)
    var current = [Int](repeating: 0, count: target.count + 1)
    for (row, sourceCharacter) in source.enumerated() {
      current[0] = row + 1
      for (column, targetCharacter) in target.enumerated() {
        let substitution = previous[column] + (sourceCharacter == targetCharacter ? 0 : 1)
        let deletion = previous[column + 1] + 1
        let insertion = current[column] + 1
        current[column + 1] = min(substitution, deletion, insertion)
      }
      swap(&previous, &current)
    }
    return previous[target.count]
  }
}
