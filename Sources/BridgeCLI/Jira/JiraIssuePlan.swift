import BridgeCore
import Foundation
import Jira

/// What one run tells Jira, the same for every issue it touches.
struct JiraRunReference: Sendable, Hashable, Codable {
  /// The identity of the run in `testbridge.runs`: the Testomat.io run id, or a local one.
  var historyID: String
  /// The Testomat.io run id, when there is a run.
  var testomatioRunID: String?
  /// The run title shown in link titles, comments and history.
  var title: String?
  /// What identifies "the same link" across reruns (the run title by default).
  var linkKey: String
  /// The report link: Testomat.io's public URL when published, else the run URL, else the CI build URL.
  var url: String?
  /// When the run finished, ISO 8601 UTC.
  var at: String

  enum CodingKeys: String, CodingKey {
    case historyID = "history_id"
    case testomatioRunID = "testomatio_run_id"
    case title
    case linkKey = "link_key"
    case url, at
  }

  /// The remote link `globalId`: one per issue per link key.
  var globalID: String { RemoteLinkTitle.globalID(linkKey: linkKey) }

  /// The title shown in link titles: the run title, else the link key.
  var shownTitle: String { title ?? linkKey }

  /// The first usable report URL of `candidates` (http or https only).
  static func reportURL(_ candidates: [String?]) -> String? {
    for candidate in candidates {
      guard let text = candidate?.trimmingCharacters(in: .whitespaces), !text.isEmpty,
        let scheme = URL(string: text)?.scheme?.lowercased(), scheme == "https" || scheme == "http"
      else { continue }
      return text
    }
    return nil
  }

  /// `2026-03-01T10:00:00Z`.
  static func timestamp(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.string(from: date)
  }
}

/// What testbridge writes to one issue: its own counts, and why the issue was picked.
struct JiraIssueUpdate: Sendable, Hashable, Codable {
  var key: String
  var counts: JiraRunCounts
  /// `results` (a test carries the key), `run` (the run's own issue), `scope` (found by the scope search).
  var reasons: [String]

  /// True when every one of the issue's tests passed (flaky ones count as passed): the link
  /// shows as resolved.
  var allPassed: Bool {
    counts.failed == 0 && counts.skipped == 0 && counts.passed + counts.flaky > 0
  }

  /// `passed` or `failed`, as recorded in the run history.
  var status: String { counts.failed == 0 ? "passed" : "failed" }
}

/// Works out which issues a run touches and the counts each one gets. Pure.
enum JiraIssuePlanner {
  /// The issues of a run, in key order:
  /// - every key the results carry, counted over the tests carrying it;
  /// - the run's own issues (`--jira`), counted over the whole run;
  /// - the issues the scope search found, counted over their linked tests that ran
  ///   (`linkedTests`: issue key → Testomat.io ids); a found issue none of whose linked tests
  ///   ran is left out.
  ///
  /// An issue picked for several reasons is counted over the union of its tests; the run's
  /// own issue always gets the whole run.
  static func plan(
    index: JiraResultIndex, runIssues: [String], runTotals: RunTotals, linkedTests: [String: [String]]
  ) -> [JiraIssueUpdate] {
    var tests: [String: Set<String>] = index.testsByKey
    var reasons: [String: [String]] = [:]
    for key in tests.keys { reasons[key] = ["results"] }
    let byID = index.testsByTestomatioID
    for (key, ids) in linkedTests {
      let rids = Set(ids.compactMap { byID[JiraResultIndex.normalisedTestomatioID($0)] })
      guard !rids.isEmpty else { continue }
      tests[key, default: []].formUnion(rids)
      reasons[key, default: []].append("scope")
    }
    var updates: [String: JiraIssueUpdate] = [:]
    for (key, rids) in tests {
      updates[key] = JiraIssueUpdate(key: key, counts: index.counts(of: rids), reasons: reasons[key] ?? [])
    }
    for key in runIssues {
      var update = updates[key] ?? JiraIssueUpdate(key: key, counts: JiraRunCounts(), reasons: [])
      update.counts = JiraRunCounts(runTotals)
      update.reasons.insert("run", at: 0)
      updates[key] = update
    }
    return updates.values.sorted { areInIssueOrder($0.key, $1.key) }
  }

  /// Project, then issue number: `SHOP-2` before `SHOP-10`.
  static func areInIssueOrder(_ lhs: String, _ rhs: String) -> Bool {
    func split(_ key: String) -> (String, Int, String) {
      guard let dash = key.lastIndex(of: "-"), let number = Int(key[key.index(after: dash)...]) else {
        return (key, 0, key)
      }
      return (String(key[..<dash]), number, key)
    }
    let left = split(lhs)
    let right = split(rhs)
    return (left.0, left.1, left.2) < (right.0, right.1, right.2)
  }

  /// Issue keys from `--jira` / `TESTOMATIO_JIRA_ID`: comma or space separated, upper-cased,
  /// deduplicated.
  static func runIssues(_ text: String?) -> [String] {
    guard let text else { return [] }
    var seen = Set<String>()
    return text.split(whereSeparator: { $0 == "," || $0 == " " || $0 == ";" })
      .map { $0.trimmingCharacters(in: .whitespaces).uppercased() }
      .filter { !$0.isEmpty && seen.insert($0).inserted }
  }
}
