import BridgeCore
import Foundation

/// Reads a manual test plan written in Markdown.
///
/// ```markdown
/// # Checkout release plan            <- plan title (optional; else the file name)
/// Run against staging.               <- plan description
///
/// ## Login works @T1a2b3c4d @SHOP-12 <- one test; id and Jira tags are taken from the heading
/// Use the demo account.              <- test description (before the first step)
/// 1. Open the login page
///    Expected: the form is shown     <- expected result of the step above
/// 2. Seed the data: `$ make seed`    <- a step with a command testbridge runs
/// $ curl -s localhost:8080/health    <- a command line: attaches to the step above, or is a step
///    Expected: prints ok
/// ```
///
/// Steps are numbered lines (`1.` or `1)`; the numbers themselves are not
/// checked). Other lines after a step continue it. `Expected:` may be written
/// `- Expected:` or `**Expected:**`. Inside fenced code blocks nothing is
/// interpreted. Errors name the file and line: no tests, duplicate titles or
/// ids, empty headings or steps, `Expected:` before any step, a second `#` title,
/// an unclosed code fence.
public enum ManualPlanParser {
  /// Parses `text`; `path` is used in error messages, for the fallback title and as the plan's path.
  public static func parse(_ text: String, path: String) throws(ManualPlanError) -> ManualPlan {
    var parser = Parser(path: path)
    var lineNumber = 0
    // `\r\n` is one Character in Swift, so split on any newline rather than on "\n".
    for line in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
      lineNumber += 1
      try parser.consume(String(line), at: lineNumber)
    }
    return try parser.finish(lastLine: max(lineNumber, 1))
  }

  // MARK: - Line classification (also used by tests of the format)

  /// The heading level and text of `line`, if it is an ATX heading (`## Title`).
  static func heading(_ line: String) -> (level: Int, text: String)? {
    let trimmed = line.drop { $0 == " " }
    guard line.count - trimmed.count < 4 else { return nil }  // indented 4+: code, not a heading
    let hashes = trimmed.prefix { $0 == "#" }
    guard (1...6).contains(hashes.count) else { return nil }
    let rest = trimmed.dropFirst(hashes.count)
    guard rest.isEmpty || rest.first == " " || rest.first == "\t" else { return nil }
    var text = rest.trimmingCharacters(in: .whitespaces)
    // Closing hashes (`## Title ##`) are decoration.
    if text.hasSuffix("#") {
      let stripped = String(text.reversed().drop { $0 == "#" }.reversed())
      if stripped.isEmpty || stripped.hasSuffix(" ") { text = stripped.trimmingCharacters(in: .whitespaces) }
    }
    return (hashes.count, text)
  }

  /// The text of a numbered step line (`1. Open the page`, `2) Log in`).
  static func numberedStep(_ line: String) -> String? {
    let trimmed = line.drop { $0 == " " || $0 == "\t" }
    let digits = trimmed.prefix { $0.isASCII && $0.isNumber }
    guard !digits.isEmpty, digits.count <= 9 else { return nil }
    let afterDigits = trimmed.dropFirst(digits.count)
    guard let marker = afterDigits.first, marker == "." || marker == ")" else { return nil }
    let rest = afterDigits.dropFirst()
    guard rest.isEmpty || rest.first == " " || rest.first == "\t" else { return nil }
    return rest.trimmingCharacters(in: .whitespaces)
  }

  /// The value of an `Expected:` line, in its plain, list or bold spelling.
  static func expected(_ line: String) -> String? {
    var text = Substring(line.trimmingCharacters(in: .whitespaces))
    for marker in ["- ", "* ", "+ ", "> "] where text.hasPrefix(marker) {
      text = text.dropFirst(marker.count).drop { $0 == " " }
      break
    }
    for emphasis in ["**", "__", "*", "_"] where text.hasPrefix(emphasis) {
      text = text.dropFirst(emphasis.count)
      break
    }
    for label in ["expected result", "expected"] {
      guard text.lowercased().hasPrefix(label) else { continue }
      var rest = text.dropFirst(label.count)
      var sawColon = false
      // Accept `Expected:`, `**Expected:**` and `**Expected**:`.
      while let first = rest.first, first == ":" || first == "*" || first == "_" {
        if first == ":" { sawColon = true }
        rest = rest.dropFirst()
      }
      guard sawColon else { return nil }
      return rest.trimmingCharacters(in: .whitespaces)
    }
    return nil
  }

  /// The command of a `$ command` line.
  static func commandLine(_ line: String) -> String? {
    let trimmed = line.trimmingCharacters(in: .whitespaces)
    guard trimmed.hasPrefix("$ ") || trimmed == "$" else { return nil }
    return trimmed.dropFirst().trimmingCharacters(in: .whitespaces)
  }

  /// The first inline code span that starts with `$ ` (`` `$ make seed` ``).
  static func inlineCommand(_ text: String) -> String? {
    var rest = Substring(text)
    while let open = rest.range(of: "`$ ") {
      let after = rest[open.upperBound...]
      guard let close = after.firstIndex(of: "`") else { return nil }
      let command = after[..<close].trimmingCharacters(in: .whitespaces)
      if !command.isEmpty { return command }
      rest = after[after.index(after: close)...]
    }
    return nil
  }

  /// The heading without id and Jira tags, the id, and the keys.
  static func splitHeading(_ heading: String) -> (title: String, id: String?, jiraKeys: [String]) {
    let id = TestIdentifiers.testomatioID(inTitle: heading)
    let keys = TestIdentifiers.jiraKeys(inTitle: heading)
    let words = heading.split(whereSeparator: { $0 == " " || $0 == "\t" }).filter { word in
      if let id, word == "@T\(id)" { return false }
      if word.hasPrefix("@"), keys.contains(String(word.dropFirst())) { return false }
      return true
    }
    return (words.joined(separator: " "), id, keys)
  }
}

private struct Parser {
  let path: String
  var title: String?
  var titleLine = 0
  var descriptionLines: [String] = []
  var tests: [TestDraft] = []
  var fenceLine: Int?

  struct TestDraft {
    var test: ManualTest
    var descriptionLines: [String] = []
  }

  init(path: String) {
    self.path = path
  }

  func error(_ line: Int, _ message: String) -> ManualPlanError {
    .invalid(path: path, line: line, message: message)
  }

  mutating func consume(_ line: String, at number: Int) throws(ManualPlanError) {
    let trimmed = line.trimmingCharacters(in: .whitespaces)
    if trimmed.hasPrefix("```") || trimmed.hasPrefix("~~~") {
      fenceLine = fenceLine == nil ? number : nil
      appendText(line, at: number)
      return
    }
    if fenceLine != nil {
      appendText(line, at: number)
      return
    }
    if let heading = ManualPlanParser.heading(line) {
      switch heading.level {
      case 1:
        guard tests.isEmpty else {
          throw error(number, "the '#' plan title must come before the first '##' test")
        }
        guard title == nil else { throw error(number, "a second '#' plan title (the first is at line \(titleLine))") }
        guard !heading.text.isEmpty else { throw error(number, "the '#' plan title is empty") }
        title = heading.text
        titleLine = number
        return
      case 2:
        try startTest(heading.text, at: number)
        return
      default:
        break  // deeper headings are text inside a test or the description
      }
    }
    guard !tests.isEmpty else {
      descriptionLines.append(line)
      return
    }
    if let stepText = ManualPlanParser.numberedStep(line) {
      guard !stepText.isEmpty else { throw error(number, "empty step") }
      let command = ManualPlanParser.inlineCommand(stepText)
      tests[tests.count - 1].test.steps.append(ManualStep(text: stepText, command: command, line: number))
      return
    }
    if let expected = ManualPlanParser.expected(line) {
      guard !expected.isEmpty else { throw error(number, "empty 'Expected:'") }
      let draft = tests[tests.count - 1]
      guard var step = draft.test.steps.last else {
        throw error(number, "'Expected:' before the first step of test '\(draft.test.title)'")
      }
      step.expected = step.expected.map { $0 + "\n" + expected } ?? expected
      tests[tests.count - 1].test.steps[draft.test.steps.count - 1] = step
      return
    }
    if let command = ManualPlanParser.commandLine(line) {
      guard !command.isEmpty else { throw error(number, "'$' without a command") }
      let steps = tests[tests.count - 1].test.steps
      if let last = steps.last, last.command == nil, last.expected == nil {
        tests[tests.count - 1].test.steps[steps.count - 1].command = command
      } else {
        tests[tests.count - 1].test.steps.append(ManualStep(text: "$ " + command, command: command, line: number))
      }
      return
    }
    appendText(line, at: number)
  }

  /// A line that is neither heading, step, expectation nor command.
  mutating func appendText(_ line: String, at number: Int) {
    guard !tests.isEmpty else {
      descriptionLines.append(line)
      return
    }
    let index = tests.count - 1
    guard var step = tests[index].test.steps.last else {
      tests[index].descriptionLines.append(line)
      return
    }
    let trimmed = line.trimmingCharacters(in: .whitespaces)
    guard !trimmed.isEmpty else { return }
    step.text += "\n" + trimmed
    if step.command == nil, fenceLine == nil { step.command = ManualPlanParser.inlineCommand(trimmed) }
    tests[index].test.steps[tests[index].test.steps.count - 1] = step
  }

  mutating func startTest(_ heading: String, at number: Int) throws(ManualPlanError) {
    guard !heading.isEmpty else { throw error(number, "test heading without a title") }
    let parts = ManualPlanParser.splitHeading(heading)
    guard !parts.title.isEmpty else { throw error(number, "test heading '\(heading)' has tags but no title") }
    if let first = tests.first(where: { $0.test.title == parts.title }) {
      throw error(number, "duplicate test title '\(parts.title)' (first at line \(first.test.line))")
    }
    if let id = parts.id, let first = tests.first(where: { $0.test.testomatioID == id }) {
      throw error(number, "duplicate test id '@T\(id)' (first at line \(first.test.line))")
    }
    tests.append(
      TestDraft(
        test: ManualTest(
          title: parts.title, heading: heading, testomatioID: parts.id, jiraKeys: parts.jiraKeys, line: number)))
  }

  func finish(lastLine: Int) throws(ManualPlanError) -> ManualPlan {
    if let fenceLine { throw error(fenceLine, "code fence is never closed") }
    guard !tests.isEmpty else {
      throw error(lastLine, "no tests: start each test with a '## Title' heading")
    }
    var finished: [ManualTest] = []
    for draft in tests {
      var test = draft.test
      test.description = Self.paragraphs(draft.descriptionLines)
      if test.steps.isEmpty, test.description.isEmpty {
        throw error(test.line, "test '\(test.title)' has no steps")
      }
      finished.append(test)
    }
    let fallbackTitle = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
    return ManualPlan(
      path: path, title: title ?? (fallbackTitle.isEmpty ? "Manual tests" : fallbackTitle),
      description: Self.paragraphs(descriptionLines), tests: finished)
  }

  /// Lines joined with newlines: trailing spaces and outer blank lines dropped, runs of blank lines kept as one.
  static func paragraphs(_ lines: [String]) -> String {
    var result: [String] = []
    for line in lines {
      let cleaned = String(line.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
      if cleaned.isEmpty, result.last?.isEmpty ?? true { continue }
      result.append(cleaned)
    }
    while result.last?.isEmpty == true { result.removeLast() }
    return result.joined(separator: "\n")
  }
}
