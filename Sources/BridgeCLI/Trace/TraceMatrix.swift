import BridgeCore
import Foundation
import Jira

/// A test's latest outcome in the traceability matrix.
enum TraceOutcome: String, Sendable, Hashable, CaseIterable {
  case passed, failed, error, skipped, flaky
  case neverRun = "never_run"

  init(_ outcome: TestOutcome) {
    switch outcome {
    case .passed: self = .passed
    case .failed: self = .failed
    case .error: self = .error
    case .skipped: self = .skipped
    case .flaky: self = .flaky
    }
  }

  /// Failed or errored.
  var isFailing: Bool { self == .failed || self == .error }
  /// Passed, at once or on a retry.
  var isPassing: Bool { self == .passed || self == .flaky }
  /// The label people read.
  var label: String { self == .neverRun ? "never run" : rawValue }

  /// The worse of two outcomes, for a test reported more than once: failed, error, flaky,
  /// passed, skipped, never run.
  func worse(_ other: TraceOutcome) -> TraceOutcome {
    Self.rank(self) >= Self.rank(other) ? self : other
  }

  private static func rank(_ outcome: TraceOutcome) -> Int {
    switch outcome {
    case .neverRun: return 0
    case .skipped: return 1
    case .passed: return 2
    case .flaky: return 3
    case .error: return 4
    case .failed: return 5
    }
  }
}

/// Where the outcomes of the matrix came from.
enum TraceOutcomeSource: String, Sendable, Hashable {
  /// A results file (`--results`): one outcome per test.
  case results
  /// Each issue's `testbridge.runs` property: the latest run's verdict for all its tests.
  case history = "jira-history"
}

/// What an issue's row says as a whole (the HTML page filters on it).
enum TraceIssueState: String, Sendable, Hashable, CaseIterable {
  /// Every linked test passed (or was flaky) in its latest run.
  case passing
  /// At least one linked test failed or errored.
  case failing
  /// Tests are linked, none failed, but some were skipped or never run.
  case incomplete
  /// No test is linked.
  case untested
}

/// One linked test and its latest outcome.
struct TraceTest: Sendable, Hashable {
  /// The Testomat.io id without `@T` (8 characters), when known.
  var id: String?
  /// The test's name, when a results file names it.
  var name: String?
  var outcome: TraceOutcome

  /// How the test is shown: `@T` + id, or the name.
  var label: String { id.map { "@T\($0)" } ?? name ?? "?" }
}

/// One issue in scope: its fields, linked tests and (from the history) latest run.
struct TraceRow: Sendable, Hashable {
  var key: String
  var summary: String
  var status: String
  var tests: [TraceTest]
  /// The latest entry of `testbridge.runs`, when outcomes come from the history.
  var latestRun: RunSummary?

  var failingCount: Int { tests.count { $0.outcome.isFailing } }
  var passedCount: Int { tests.count { $0.outcome.isPassing } }
  var neverRunCount: Int { tests.count { $0.outcome == .neverRun } }

  var state: TraceIssueState {
    if tests.isEmpty { return .untested }
    if failingCount > 0 { return .failing }
    return passedCount == tests.count ? .passing : .incomplete
  }
}

/// The coverage figures of a scope.
struct TraceFigures: Sendable, Hashable {
  var issues = 0
  var issuesWithTests = 0
  var issuesPassing = 0
  var issuesFailing = 0
  var issuesUntested = 0
  /// Distinct linked tests (by id, or by name for tests without one).
  var tests = 0
  var testsFailing = 0
  var testsNeverRun = 0

  /// Issues with at least one linked test, in percent of the issues in scope (100 for an empty scope).
  var coveragePercent: Double { Self.percent(issuesWithTests, of: issues) }
  /// Issues whose tests all passed, in percent of the issues in scope.
  var passingPercent: Double { Self.percent(issuesPassing, of: issues) }

  /// `part / whole` in percent, rounded to one decimal; 100 when `whole` is 0.
  static func percent(_ part: Int, of whole: Int) -> Double {
    guard whole > 0 else { return 100 }
    return (Double(part) * 1000 / Double(whole)).rounded() / 10
  }

  /// `42.5` or `100` (no trailing `.0`).
  static func format(_ percent: Double) -> String { JSONText.number(percent) }
}

/// The traceability matrix of a scope: pure data, built in O(issues + tests).
struct TraceMatrix: Sendable, Hashable {
  var scope: String
  var source: TraceOutcomeSource
  var rows: [TraceRow]
  var figures: TraceFigures

  init(scope: String, source: TraceOutcomeSource, rows: [TraceRow]) {
    self.scope = scope
    self.source = source
    self.rows = rows
    var figures = TraceFigures()
    figures.issues = rows.count
    var outcomes: [String: TraceOutcome] = [:]
    for row in rows {
      switch row.state {
      case .untested: figures.issuesUntested += 1
      case .passing: figures.issuesPassing += 1
      case .failing: figures.issuesFailing += 1
      case .incomplete: break
      }
      if !row.tests.isEmpty { figures.issuesWithTests += 1 }
      for test in row.tests {
        let identity = test.id.map { "id:\($0)" } ?? "name:\(test.name ?? "")"
        outcomes[identity] = outcomes[identity].map { $0.worse(test.outcome) } ?? test.outcome
      }
    }
    figures.tests = outcomes.count
    for outcome in outcomes.values {
      if outcome.isFailing { figures.testsFailing += 1 }
      if outcome == .neverRun { figures.testsNeverRun += 1 }
    }
    self.figures = figures
  }
}

/// Outcomes by test, read from a results file.
struct TraceResults: Sendable, Hashable {
  /// By Testomat.io id (without `@T`).
  var byID: [String: TraceOutcome] = [:]
  /// Tests that carry each Jira key: they count as linked to that issue.
  var byIssue: [String: [TraceTest]] = [:]

  /// Reads a `testbridge-results/1` file or a `parse --format json` document: both list
  /// `tests` with `outcome`, `testomatio_id` and `jira`.
  static func read(_ data: Data, path: String) throws(CLIError) -> TraceResults {
    struct Document: Decodable {
      struct Test: Decodable {
        var name: String?
        var outcome: String
        var testomatioID: String?
        var jira: [String]?
        enum CodingKeys: String, CodingKey {
          case name, outcome, jira
          case testomatioID = "testomatio_id"
        }
      }
      var format: String?
      var tests: [Test]
    }
    let document: Document
    do {
      document = try JSONDecoder().decode(Document.self, from: data)
    } catch {
      throw CLIError(
        "'\(path)' is neither a testbridge-results/1 file nor a 'parse --format json' document (no 'tests' list)",
        exitStatus: .usage)
    }
    if let format = document.format, !format.hasPrefix("testbridge-results/") {
      throw CLIError("'\(path)' has the unknown format '\(format)'", exitStatus: .usage)
    }
    var results = TraceResults()
    for test in document.tests {
      guard let known = TestOutcome(rawValue: test.outcome) else { continue }
      let outcome = TraceOutcome(known)
      let id = test.testomatioID.map(JiraResultIndex.normalisedTestomatioID).flatMap { $0.isEmpty ? nil : $0 }
      if let id { results.byID[id] = results.byID[id].map { $0.worse(outcome) } ?? outcome }
      for key in Set((test.jira ?? []).map { $0.uppercased() }) {
        results.byIssue[key, default: []].append(TraceTest(id: id, name: id == nil ? test.name : nil, outcome: outcome))
      }
    }
    return results
  }
}

/// What the loader found for one issue, before outcomes are attached.
struct TraceIssueData: Sendable, Hashable {
  var key: String
  var summary: String
  var status: String
  /// Linked Testomat.io ids (property, then test_grep), deduplicated, without `@T`.
  var testIDs: [String]
  /// The issue's `testbridge.runs`, newest first (empty when none or not read).
  var history: [RunSummary]
}

enum TraceBuilder {
  /// The matrix from the loaded issues and either a results file or the issues' histories.
  static func matrix(scope: String, issues: [TraceIssueData], results: TraceResults?) -> TraceMatrix {
    let rows = issues.map { issue -> TraceRow in
      var tests: [TraceTest] = []
      if let results {
        var index: [String: Int] = [:]
        for id in issue.testIDs {
          index[id] = tests.count
          tests.append(TraceTest(id: id, name: nil, outcome: results.byID[id] ?? .neverRun))
        }
        for test in results.byIssue[issue.key] ?? [] {
          if let id = test.id {
            if let at = index[id] { tests[at].outcome = tests[at].outcome.worse(test.outcome); continue }
            index[id] = tests.count
            tests.append(TraceTest(id: id, name: nil, outcome: results.byID[id] ?? test.outcome))
          } else {
            tests.append(test)
          }
        }
        return TraceRow(key: issue.key, summary: issue.summary, status: issue.status, tests: tests, latestRun: nil)
      }
      let latest = issue.history.first
      let outcome: TraceOutcome
      switch latest?.status.lowercased() {
      case nil: outcome = .neverRun
      case "passed": outcome = .passed
      default: outcome = .failed
      }
      tests = issue.testIDs.map { TraceTest(id: $0, name: nil, outcome: outcome) }
      return TraceRow(key: issue.key, summary: issue.summary, status: issue.status, tests: tests, latestRun: latest)
    }
    return TraceMatrix(scope: scope, source: results == nil ? .history : .results, rows: rows)
  }
}
