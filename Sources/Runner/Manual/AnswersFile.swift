import BridgeCore
import Foundation

/// Answers given in advance, for running `manual` without a terminal (CI) or in bulk.
///
/// One answer per line: an outcome, then the test by `@T` id or exact title,
/// then optionally `note:` and a note. Blank lines and lines starting with `#`
/// are ignored.
///
/// ```text
/// # release 4.2, staging
/// pass  Login works
/// fail  Checkout total — note: rounding off by 1
/// skip  @T1a2b3c4d
/// fail  @T5e6f7a8b note: spinner never stops
/// ```
///
/// Outcomes are `pass`, `fail` or `skip` (also `passed`, `failed`, `skipped`,
/// any case). A dash, `--` or `|` before `note:` is only a separator. Titles
/// match exactly, with or without the heading's tags; a title that itself
/// contains `note:` must be referred to by its id.
public enum AnswersFile {
  /// Parses the answers; errors name the file and line.
  public static func parse(_ text: String, path: String) throws(ManualPlanError) -> [ManualAnswer] {
    var answers: [ManualAnswer] = []
    var number = 0
    for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
      number += 1
      let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
      if line.isEmpty || line.hasPrefix("#") { continue }
      let word = line.prefix { !$0.isWhitespace }
      guard let outcome = outcome(String(word)) else {
        throw .invalid(path: path, line: number, message: "unknown outcome '\(word)': use pass, fail or skip")
      }
      var rest = line.dropFirst(word.count).trimmingCharacters(in: .whitespaces)
      var note: String?
      if let marker = noteMarker(in: rest) {
        let value = rest[marker.upperBound...].trimmingCharacters(in: .whitespaces)
        note = value.isEmpty ? nil : value
        rest = trimSeparator(String(rest[..<marker.lowerBound]))
      }
      guard !rest.isEmpty else {
        throw .invalid(path: path, line: number, message: "'\(word)' needs a test title or '@T' id after it")
      }
      answers.append(ManualAnswer(reference: reference(rest), outcome: outcome, note: note, line: number))
    }
    return answers
  }

  /// Pairs answers with the plan's tests (by test index).
  ///
  /// - Throws: ``ManualPlanError/invalid(path:line:message:)`` for an answer that
  ///   names no test of the plan, or a second answer for the same test.
  public static func match(
    _ answers: [ManualAnswer], to plan: ManualPlan, path: String
  ) throws(ManualPlanError) -> [Int: ManualAnswer] {
    var matched: [Int: ManualAnswer] = [:]
    for answer in answers {
      let line = answer.line ?? 0
      guard let index = plan.index(of: answer.reference) else {
        let what: String
        switch answer.reference {
        case .id(let id): what = "no test with id '@T\(id)'"
        case .title(let title): what = "no test titled '\(title)'"
        }
        throw .invalid(path: path, line: line, message: "\(what) in plan '\(plan.path)'")
      }
      if let earlier = matched[index] {
        let at = earlier.line.map { " (first at line \($0))" } ?? ""
        throw .invalid(
          path: path, line: line, message: "second answer for test '\(plan.tests[index].title)'\(at)")
      }
      matched[index] = answer
    }
    return matched
  }

  static func outcome(_ word: String) -> ManualOutcome? {
    switch word.lowercased() {
    case "pass", "passed": return .pass
    case "fail", "failed": return .fail
    case "skip", "skipped": return .skip
    default: return nil
    }
  }

  /// `@T1a2b3c4d` (optionally followed by the title, for readability) is an id; anything else a title.
  static func reference(_ text: String) -> TestReference {
    let first = text.prefix { !$0.isWhitespace }
    if first.hasPrefix("@T"), let id = TestIdentifiers.testomatioID(inTitle: String(first)), first == "@T\(id)" {
      return .id(id)
    }
    return .title(text)
  }

  /// The `note:` that starts the note: at the start or after whitespace, any case.
  private static func noteMarker(in text: String) -> Range<String.Index>? {
    var searchStart = text.startIndex
    while let found = text.range(of: "note:", options: .caseInsensitive, range: searchStart..<text.endIndex) {
      if found.lowerBound == text.startIndex || text[text.index(before: found.lowerBound)].isWhitespace {
        return found
      }
      searchStart = found.upperBound
    }
    return nil
  }

  private static func trimSeparator(_ text: String) -> String {
    var result = text.trimmingCharacters(in: .whitespaces)
    for separator in ["—", "–", "--", "-", "|", ",", ";"] where result.hasSuffix(separator) {
      result = String(result.dropLast(separator.count)).trimmingCharacters(in: .whitespaces)
      break
    }
    return result
  }
}
