/// A shell-style path pattern: `*` and `?` within one path segment, `[abc]` /
/// `[a-z]` / `[!x]` classes, and `**` as a whole segment for any number of
/// directories (including none). Matching is pure; walking the disk is
/// ``ReportFinder``'s job.
public struct GlobPattern: Sendable, Hashable {
  public let pattern: String
  let segments: [Substring]

  public init(_ pattern: String) {
    self.pattern = pattern
    self.segments = pattern.split(separator: "/", omittingEmptySubsequences: true)
  }

  /// True when `text` contains glob syntax; plain paths are used as they are.
  public static func isPattern(_ text: String) -> Bool {
    text.contains { $0 == "*" || $0 == "?" || $0 == "[" }
  }

  /// Matches one path segment (no `/`) against one pattern segment.
  public static func matchSegment(_ name: Substring, _ pattern: Substring) -> Bool {
    matchSegment(Array(name.unicodeScalars), 0, Array(pattern.unicodeScalars), 0)
  }

  private static func matchSegment(
    _ name: [Unicode.Scalar], _ nameIndex: Int, _ pattern: [Unicode.Scalar], _ patternIndex: Int
  ) -> Bool {
    var n = nameIndex
    var p = patternIndex
    // Iterative matching with one backtrack point for the last `*` (linear in practice).
    var starPattern = -1
    var starName = 0
    while n < name.count {
      if p < pattern.count {
        switch pattern[p] {
        case "*":
          starPattern = p
          starName = n
          p += 1
          continue
        case "?":
          n += 1
          p += 1
          continue
        case "[":
          if let (matched, next) = matchClass(name[n], pattern, p + 1) {
            if matched {
              n += 1
              p = next
              continue
            }
          } else if name[n] == "[" {
            n += 1
            p += 1
            continue
          }
        default:
          if pattern[p] == name[n] {
            n += 1
            p += 1
            continue
          }
        }
      }
      guard starPattern >= 0 else { return false }
      starName += 1
      n = starName
      p = starPattern + 1
    }
    while p < pattern.count, pattern[p] == "*" { p += 1 }
    return p == pattern.count
  }

  /// Returns whether `scalar` is in the class starting after `[`, and the index after `]`.
  private static func matchClass(_ scalar: Unicode.Scalar, _ pattern: [Unicode.Scalar], _ start: Int) -> (Bool, Int)? {
    var index = start
    var negate = false
    if index < pattern.count, pattern[index] == "!" || pattern[index] == "^" {
      negate = true
      index += 1
    }
    var matched = false
    var first = true
    while index < pattern.count {
      let current = pattern[index]
      if current == "]", !first { return (matched != negate, index + 1) }
      first = false
      if index + 2 < pattern.count, pattern[index + 1] == "-", pattern[index + 2] != "]" {
        if scalar.value >= current.value && scalar.value <= pattern[index + 2].value { matched = true }
        index += 3
      } else {
        if scalar == current { matched = true }
        index += 1
      }
    }
    return nil  // no closing bracket: not a class
  }
}
