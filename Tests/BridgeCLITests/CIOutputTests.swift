import BridgeCore
import Foundation
import Testing

@testable import BridgeCLI

@Suite struct CIOutputTests {
  let failing = [
    TestCaseResult(
      suitePath: ["checkout"], name: "total, with tax", file: "tests/test_cart.py", line: 12,
      results: [ResultElement(kind: .failure, message: "expected 100%\nbut got 90")])
  ]

  @Test func annotationsEscapeWorkflowCommands() {
    #expect(
      GitHubOutput.annotations(failing: failing) == [
        "::error file=tests/test_cart.py,line=12,title=checkout › total%2C with tax::expected 100%25%0Abut got 90"
      ])
  }

  @Test func annotationsAreCapped() {
    #expect(GitHubOutput.annotations(failing: Array(repeating: failing[0], count: 80), cap: 50).count == 50)
  }

  @Test func outputsNameEveryFigure() {
    var totals = RunTotals()
    totals.add(outcome: .passed)
    totals.add(outcome: .failed)
    totals.add(outcome: .error)
    totals.add(outcome: .flaky)
    #expect(
      GitHubOutput.outputs(runURL: "https://app.testomat.io/projects/p/runs/1", totals: totals)
        == "run_url=https://app.testomat.io/projects/p/runs/1\npassed=1\nfailed=2\nskipped=0\nflaky=1\n")
  }

  @Test func summaryHasTotalsFailuresAndLinks() {
    var totals = RunTotals()
    totals.add(outcome: .failed)
    let markdown = GitHubOutput.summary(
      title: "Nightly", totals: totals, failing: failing, links: [("Testomat.io run", "https://t/r/1")])
    #expect(markdown.hasPrefix("### ❌ Nightly\n"))
    #expect(markdown.contains("| 0 | 1 | 0 | 0 | 0 | 1 |"))
    #expect(markdown.contains("- **checkout › total, with tax** `tests/test_cart.py:12`: expected 100%"))
    #expect(markdown.contains("[Testomat.io run](https://t/r/1)"))
  }

  @Test func gitLabSectionsUseTheDocumentedMarkers() {
    let time = Date(timeIntervalSince1970: 1_700_000_000)
    #expect(
      GitLabOutput.sectionStart("tests run", header: "Tests", collapsed: true, at: time)
        == "\u{1B}[0Ksection_start:1700000000:tests_run[collapsed=true]\r\u{1B}[0KTests\n")
    #expect(GitLabOutput.sectionEnd("tests run", at: time) == "\u{1B}[0Ksection_end:1700000000:tests_run\r\u{1B}[0K\n")
  }
}
