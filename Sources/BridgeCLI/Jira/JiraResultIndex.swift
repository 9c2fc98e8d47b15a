import BridgeCore
import Jira
import Testomatio

/// The outcomes of the tests that carry a Jira key or a Testomat.io id, per logical test.
///
/// Filled while the reports stream (``ReportStreamer``), from the outcome
/// `StreamingTotals.add` returns for each testcase: a later attempt of a test replaces the
/// earlier outcome (and a pass after a failure is already flaky there), so counts are per
/// logical test, never per attempt. Memory is bounded by the tests that carry a key or an id;
/// tests that carry neither are not kept.
struct JiraResultIndex: Sendable, Hashable, Codable {
  /// One logical test that carries a key or an id.
  struct Entry: Sendable, Hashable, Codable {
    var outcome: TestOutcome
    /// Jira keys any attempt carried, in order of first appearance.
    var keys: [String]
    /// The Testomat.io id (8 characters, no `@T`), when an attempt carried one.
    var testomatioID: String?

    enum CodingKeys: String, CodingKey {
      case outcome, keys
      case testomatioID = "testomatio_id"
    }
  }

  /// Logical tests by the stable part of their `rid` (a hash of suite path, classname and name).
  private(set) var tests: [String: Entry] = [:]
  /// Whether tests are kept for their Testomat.io id alone (needed only to match the tests a
  /// scope search links to issues); otherwise only tests carrying a Jira key are kept.
  let includesTestomatioIDs: Bool

  init(includesTestomatioIDs: Bool) {
    self.includesTestomatioIDs = includesTestomatioIDs
  }

  enum CodingKeys: String, CodingKey {
    case tests
    case includesTestomatioIDs = "includes_testomatio_ids"
  }

  /// Records one attempt and the outcome its test has so far.
  mutating func add(_ testcase: TestCaseResult, outcome: TestOutcome) {
    let id = includesTestomatioIDs ? testcase.testomatioID : nil
    let carries = !testcase.jiraKeys.isEmpty || id != nil
    // Only an earlier attempt can make an unmarked testcase interesting.
    guard carries || !tests.isEmpty else { return }
    let rid = Payloads.ridSuffix(for: testcase.logicalKey)
    if var entry = tests[rid] {
      entry.outcome = outcome
      for key in testcase.jiraKeys where !entry.keys.contains(key) { entry.keys.append(key) }
      if entry.testomatioID == nil { entry.testomatioID = id }
      tests[rid] = entry
    } else if carries {
      var keys: [String] = []
      for key in testcase.jiraKeys where !keys.contains(key) { keys.append(key) }
      tests[rid] = Entry(outcome: outcome, keys: keys, testomatioID: id)
    }
  }

  /// Records a test from a shard's results file (already one outcome per logical test).
  mutating func add(_ test: ShardResults.Test) {
    let id = includesTestomatioIDs ? test.testomatioID : nil
    guard !test.jira.isEmpty || id != nil else { return }
    var keys: [String] = []
    for key in test.jira where !keys.contains(key) { keys.append(key) }
    tests[test.rid] = Entry(outcome: test.outcome, keys: keys, testomatioID: id)
  }

  /// Every Jira key the results carry, sorted.
  var jiraKeys: [String] {
    Array(Set(tests.values.flatMap(\.keys))).sorted()
  }

  /// The tests (by rid) that carry `key`.
  func tests(carrying key: String) -> Set<String> {
    Set(tests.filter { $0.value.keys.contains(key) }.map(\.key))
  }

  /// Per Jira key, the tests (by rid) carrying it.
  var testsByKey: [String: Set<String>] {
    var result: [String: Set<String>] = [:]
    for (rid, entry) in tests {
      for key in entry.keys { result[key, default: []].insert(rid) }
    }
    return result
  }

  /// Per Testomat.io id (8 characters), the test (by rid) carrying it.
  var testsByTestomatioID: [String: String] {
    var result: [String: String] = [:]
    for (rid, entry) in tests {
      if let id = entry.testomatioID { result[id] = rid }
    }
    return result
  }

  /// Per Testomat.io id, the outcome of its test in this run.
  var outcomesByTestomatioID: [String: TestOutcome] {
    testsByTestomatioID.compactMapValues { tests[$0]?.outcome }
  }

  /// The counts over `rids` (unknown ones ignored), errors counted as failures.
  func counts(of rids: Set<String>) -> JiraRunCounts {
    var counts = JiraRunCounts()
    for rid in rids {
      guard let outcome = tests[rid]?.outcome else { continue }
      switch outcome {
      case .passed: counts.passed += 1
      case .failed, .error: counts.failed += 1
      case .skipped: counts.skipped += 1
      case .flaky: counts.flaky += 1
      }
    }
    return counts
  }

  /// `@T1a2b3c4d`, `T1a2b3c4d` and `1a2b3c4d` all become `1a2b3c4d`.
  static func normalisedTestomatioID(_ text: String) -> String {
    var id = Substring(text.trimmingCharacters(in: .whitespaces))
    if id.hasPrefix("@") { id = id.dropFirst() }
    if id.count == 9, id.hasPrefix("T") { id = id.dropFirst() }
    return String(id)
  }
}
