import Foundation
import Jira

/// The `trace` formats other than HTML: a terminal table, Markdown and JSON.
enum TraceRenderer {
  /// The JSON document's format name.
  static let jsonFormat = "testbridge-trace/1"

  // MARK: - Table

  static func table(_ matrix: TraceMatrix) -> String {
    let figures = matrix.figures
    var text = "testbridge trace: \(matrix.scope)\n"
    text += "Outcomes: \(sourceLine(matrix.source))\n\n"
    text += "Coverage: \(figures.issuesWithTests) of \(figures.issues) issue(s) have tests "
    text += "(\(TraceFigures.format(figures.coveragePercent))%); "
    text += "\(figures.issuesPassing) all passing (\(TraceFigures.format(figures.passingPercent))%), "
    text += "\(figures.issuesFailing) failing, \(figures.issuesUntested) untested\n"
    text += "Tests: \(figures.tests) linked, \(figures.testsFailing) failing, \(figures.testsNeverRun) never run\n"
    guard !matrix.rows.isEmpty else { return text + "\nNo issue in scope.\n" }
    let history = matrix.source == .history
    var header = ["ISSUE", "STATE", "STATUS", "TESTS", "FAILING"]
    if history { header.append("LATEST RUN") }
    header.append("SUMMARY")
    var lines: [[String]] = [header]
    for row in matrix.rows {
      var cells = [row.key, row.state.rawValue, clip(row.status, 20), String(row.tests.count), String(row.failingCount)]
      if history { cells.append(row.latestRun.map(runLine) ?? "none") }
      cells.append(clip(row.summary, 60))
      lines.append(cells)
    }
    var widths = Array(repeating: 0, count: header.count)
    for line in lines {
      for (index, cell) in line.enumerated() { widths[index] = max(widths[index], cell.count) }
    }
    let numeric: Set<Int> = [3, 4]
    text += "\n"
    for (number, line) in lines.enumerated() {
      var out = ""
      for (index, cell) in line.enumerated() {
        let pad = String(repeating: " ", count: widths[index] - cell.count)
        if index == line.count - 1 {
          out += cell
        } else {
          out += (numeric.contains(index) ? pad + cell : cell + pad) + "  "
        }
      }
      text += out + "\n"
      guard number > 0 else { continue }
      let row = matrix.rows[number - 1]
      if !row.tests.isEmpty {
        let indent = String(repeating: " ", count: widths[0] + 2)
        text += indent + row.tests.map { "\($0.label) \($0.outcome.label)" }.joined(separator: ", ") + "\n"
      }
    }
    return text
  }

  static func sourceLine(_ source: TraceOutcomeSource) -> String {
    switch source {
    case .results: return "from the results file (each test's own outcome)"
    case .history:
      return "from each issue's latest run in 'testbridge.runs' (the run's verdict stands for every linked test)"
    }
  }

  static func runLine(_ run: RunSummary) -> String {
    "\(run.status) \(run.at) (\(run.passed) passed, \(run.failed) failed, \(run.skipped) skipped, \(run.flaky) flaky)"
  }

  private static func clip(_ text: String, _ limit: Int) -> String {
    let flat = text.replacingOccurrences(of: "\n", with: " ")
    return flat.count <= limit ? flat : String(flat.prefix(limit - 1)) + "…"
  }

  // MARK: - Markdown

  static func markdown(_ matrix: TraceMatrix) -> String {
    let figures = matrix.figures
    let escape = GitHubOutput.markdownEscape
    var text = "### Traceability: \(TraceFigures.format(figures.coveragePercent))% of \(figures.issues) issue(s) have tests\n\n"
    text += "Scope: `\(matrix.scope.replacingOccurrences(of: "`", with: "'"))`. Outcomes \(escape(sourceLine(matrix.source))).\n\n"
    text += "| Issues | With tests | Coverage | All passing | Failing | Untested | Tests | Failing tests | Never run |\n"
    text += "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
    text += "| \(figures.issues) | \(figures.issuesWithTests) | \(TraceFigures.format(figures.coveragePercent))% "
    text += "| \(figures.issuesPassing) | \(figures.issuesFailing) | \(figures.issuesUntested) | \(figures.tests) "
    text += "| \(figures.testsFailing) | \(figures.testsNeverRun) |\n"
    guard !matrix.rows.isEmpty else { return text + "\nNo issue in scope.\n" }
    let history = matrix.source == .history
    text += "\n| Issue | Summary | Status | State | Failing | Tests |\(history ? " Latest run |" : "")\n"
    text += "| --- | --- | --- | --- | ---: | --- |\(history ? " --- |" : "")\n"
    for row in matrix.rows {
      let tests = row.tests.isEmpty
        ? "none"
        : row.tests.map { "`\(codeCell($0.label))` \(icon($0.outcome)) \($0.outcome.label)" }
          .joined(separator: "<br>")
      text += "| \(escape(row.key)) | \(escape(row.summary)) | \(escape(row.status)) | \(icon(row.state)) \(row.state.rawValue) "
      text += "| \(row.failingCount) | \(tests) |"
      if history { text += " \(row.latestRun.map { escape(runLine($0)) } ?? "none") |" }
      text += "\n"
    }
    return text
  }

  /// Text for a code span inside a table cell: no backticks, pipes escaped, one line.
  static func codeCell(_ text: String) -> String {
    text.replacingOccurrences(of: "`", with: "'").replacingOccurrences(of: "|", with: "\\|")
      .replacingOccurrences(of: "\n", with: " ")
  }

  static func icon(_ state: TraceIssueState) -> String {
    switch state {
    case .passing: return "✅"
    case .failing: return "❌"
    case .incomplete: return "⚠️"
    case .untested: return "➖"
    }
  }

  static func icon(_ outcome: TraceOutcome) -> String {
    switch outcome {
    case .passed: return "✅"
    case .flaky: return "🔁"
    case .failed, .error: return "❌"
    case .skipped: return "⏭️"
    case .neverRun: return "➖"
    }
  }

  // MARK: - JSON

  static func json(_ matrix: TraceMatrix) -> String {
    let figures = matrix.figures
    var json = JSONWriter(reservingCapacity: 4096 + matrix.rows.count * 256)
    json.raw("{\n  ")
    json.key("format", first: true)
    json.string(jsonFormat)
    json.raw(",\n  ")
    json.key("scope", first: true)
    json.string(matrix.scope)
    json.raw(",\n  ")
    json.key("outcomes_from", first: true)
    json.string(matrix.source.rawValue)
    json.raw(",\n  ")
    json.key("figures", first: true)
    json.raw(figuresObject(figures))
    json.raw(",\n  ")
    json.key("issues", first: true)
    json.raw("[")
    for (index, row) in matrix.rows.enumerated() {
      json.raw(index == 0 ? "\n    {" : ",\n    {")
      json.key("key", first: true)
      json.string(row.key)
      json.key("summary")
      json.string(row.summary)
      json.key("status")
      json.string(row.status)
      json.key("state")
      json.string(row.state.rawValue)
      json.key("failing")
      json.number(row.failingCount)
      json.key("never_run")
      json.number(row.neverRunCount)
      json.key("tests")
      json.raw("[")
      for (number, test) in row.tests.enumerated() {
        json.raw(number == 0 ? "{" : ", {")
        json.key("id", first: true)
        json.string(test.id)
        json.key("name")
        json.string(test.name)
        json.key("outcome")
        json.string(test.outcome.rawValue)
        json.raw("}")
      }
      json.raw("]")
      json.key("latest_run")
      if let run = row.latestRun {
        json.raw("{")
        json.key("run_id", first: true)
        json.string(run.runID)
        json.key("title")
        json.string(run.title)
        json.key("url")
        json.string(run.url)
        json.key("status")
        json.string(run.status)
        json.key("passed")
        json.number(run.passed)
        json.key("failed")
        json.number(run.failed)
        json.key("skipped")
        json.number(run.skipped)
        json.key("flaky")
        json.number(run.flaky)
        json.key("at")
        json.string(run.at)
        json.raw("}")
      } else {
        json.raw("null")
      }
      json.raw("}")
    }
    json.raw(matrix.rows.isEmpty ? "]\n}\n" : "\n  ]\n}\n")
    return String(decoding: json.bytes, as: UTF8.self)
  }

  static func figuresObject(_ figures: TraceFigures) -> String {
    JSONText.object([
      ("issues", String(figures.issues)), ("issues_with_tests", String(figures.issuesWithTests)),
      ("coverage_percent", TraceFigures.format(figures.coveragePercent)),
      ("issues_passing", String(figures.issuesPassing)),
      ("passing_percent", TraceFigures.format(figures.passingPercent)),
      ("issues_failing", String(figures.issuesFailing)), ("issues_untested", String(figures.issuesUntested)),
      ("tests", String(figures.tests)), ("tests_failing", String(figures.testsFailing)),
      ("tests_never_run", String(figures.testsNeverRun)),
    ])
  }
}
