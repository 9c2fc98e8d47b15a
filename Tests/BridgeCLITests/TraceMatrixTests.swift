import BridgeCore
import Foundation
import Jira
import Testing

@testable import BridgeCLI

/// The pure parts of `trace`: outcomes, states, figures, reading results and the renderers'
/// escaping.
@Suite struct TraceMatrixTests {
  static func issue(_ key: String, _ ids: [String], history: [RunSummary] = []) -> TraceIssueData {
    TraceIssueData(key: key, summary: "Summary of \(key)", status: "To Do", testIDs: ids, history: history)
  }

  static func run(_ status: String) -> RunSummary {
    RunSummary(
      runID: "r-\(status)", title: "Nightly", url: nil, status: status, passed: 1, failed: status == "failed" ? 1 : 0,
      skipped: 0, flaky: 0, at: "2026-03-01T10:00:00Z")
  }

  @Test func worstOutcomeWins() {
    #expect(TraceOutcome.passed.worse(.failed) == .failed)
    #expect(TraceOutcome.flaky.worse(.passed) == .flaky)
    #expect(TraceOutcome.skipped.worse(.neverRun) == .skipped)
    #expect(TraceOutcome.error.worse(.failed) == .failed)
    #expect(TraceOutcome.neverRun.label == "never run")
  }

  @Test func percentagesRoundToOneDecimal() {
    #expect(TraceFigures.percent(2, of: 3) == 66.7)
    #expect(TraceFigures.percent(1, of: 3) == 33.3)
    #expect(TraceFigures.percent(0, of: 0) == 100)
    #expect(TraceFigures.format(100) == "100")
    #expect(TraceFigures.format(66.7) == "66.7")
  }

  @Test func resultsGiveStatesAndFigures() throws {
    let results = try TraceResults.read(
      Data(
        #"""
        {"tests": [{"name": "a", "outcome": "passed", "testomatio_id": "@Taaaaaaaa", "jira": []},
                   {"name": "a again", "outcome": "failed", "testomatio_id": "Tbbbbbbbb", "jira": []},
                   {"name": "c", "outcome": "skipped", "testomatio_id": "cccccccc", "jira": ["x-9"]},
                   {"name": "tagged", "outcome": "error", "testomatio_id": null, "jira": ["X-4"]},
                   {"name": "odd", "outcome": "weird", "testomatio_id": "dddddddd", "jira": []}]}
        """#.utf8), path: "r.json")
    let matrix = TraceBuilder.matrix(
      scope: "project = X",
      issues: [
        Self.issue("X-1", ["aaaaaaaa"]), Self.issue("X-2", ["aaaaaaaa", "bbbbbbbb"]), Self.issue("X-3", []),
        Self.issue("X-4", []), Self.issue("X-9", []), Self.issue("X-5", ["eeeeeeee"]),
      ], results: results)
    #expect(matrix.source == .results)
    #expect(matrix.rows.map(\.state) == [.passing, .failing, .untested, .failing, .incomplete, .incomplete])
    #expect(matrix.rows[4].tests == [TraceTest(id: "cccccccc", name: nil, outcome: .skipped)])
    #expect(matrix.rows[3].tests == [TraceTest(id: nil, name: "tagged", outcome: .error)])
    #expect(matrix.rows[5].tests.map(\.outcome) == [.neverRun])
    let figures = matrix.figures
    #expect(figures.issues == 6)
    #expect(figures.issuesWithTests == 5)
    #expect(figures.issuesUntested == 1)
    #expect(figures.issuesPassing == 1)
    #expect(figures.issuesFailing == 2)
    // aaaaaaaa counted once; the id-less test by its name.
    #expect(figures.tests == 5)
    #expect(figures.testsFailing == 2)
    #expect(figures.testsNeverRun == 1)
  }

  @Test func historyVerdictStandsForEveryTest() {
    let matrix = TraceBuilder.matrix(
      scope: "sprint = 1",
      issues: [
        Self.issue("S-1", ["aaaaaaaa", "bbbbbbbb"], history: [Self.run("passed"), Self.run("failed")]),
        Self.issue("S-2", ["cccccccc"], history: [Self.run("failed")]),
        Self.issue("S-3", ["dddddddd"]),
      ], results: nil)
    #expect(matrix.source == .history)
    #expect(matrix.rows.map(\.state) == [.passing, .failing, .incomplete])
    #expect(matrix.rows[0].tests.map(\.outcome) == [.passed, .passed])
    #expect(matrix.rows[0].latestRun?.runID == "r-passed")
    #expect(matrix.rows[2].latestRun == nil)
    #expect(matrix.figures.testsNeverRun == 1)
  }

  @Test func unknownResultsAreUsageErrors() {
    #expect(throws: CLIError.self) { try TraceResults.read(Data("<xml/>".utf8), path: "x") }
    #expect(throws: CLIError.self) {
      try TraceResults.read(Data(#"{"format": "other/2", "tests": []}"#.utf8), path: "x")
    }
  }

  @Test func renderersEscapeWhatIssuesSay() {
    let hostile = "<script>alert(1)</script> | `x` & \"q\""
    let matrix = TraceMatrix(
      scope: "project = \"A\"", source: .results,
      rows: [
        TraceRow(
          key: "A-1", summary: hostile, status: "Done", tests: [TraceTest(id: nil, name: "a|b`c", outcome: .passed)],
          latestRun: nil)
      ])
    let html = TraceHTML.render(matrix, generatedAt: "2026-03-01T10:00:00Z")
    #expect(!html.contains("<script>alert"))
    #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; | `x` &amp; &quot;q&quot;"))
    #expect(html.components(separatedBy: "<script>").count == 2)
    #expect(!html.contains("http://") && !html.contains("https://"))
    let markdown = TraceRenderer.markdown(matrix)
    #expect(markdown.contains(#"\<script\>alert(1)\</script\> \| \`x\` & "q""#))
    #expect(markdown.contains(#"`a\|b'c` ✅ passed"#))
    let json = TraceRenderer.json(matrix)
    let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
    let rows = object?["issues"] as? [[String: Any]]
    #expect(rows?.first?["summary"] as? String == hostile)
  }

  @Test func emptyScopeIsFullyCovered() {
    let matrix = TraceMatrix(scope: "project = E", source: .history, rows: [])
    #expect(matrix.figures.coveragePercent == 100)
    #expect(TraceRenderer.table(matrix).hasSuffix("No issue in scope.\n"))
    #expect(TraceRenderer.json(matrix).hasSuffix("\"issues\": []\n}\n"))
  }
}
