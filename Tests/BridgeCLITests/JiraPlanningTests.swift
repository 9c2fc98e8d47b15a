import BridgeCore
import BridgeHTTP
import Foundation
import Jira
import Testing

@testable import BridgeCLI

/// The pure parts of the Jira step: per-test outcomes, the scope's JQL, which issues get which
/// counts, and the dry run's canned answers.
@Suite struct JiraPlanningTests {
  static func testcase(
    _ name: String, keys: [String] = [], id: String? = nil, failed: Bool = false, skipped: Bool = false
  ) -> TestCaseResult {
    var results: [ResultElement] = []
    if failed { results.append(ResultElement(kind: .failure, message: "boom")) }
    if skipped { results.append(ResultElement(kind: .skipped)) }
    return TestCaseResult(suitePath: ["suite"], classname: "Class", name: name, results: results, testomatioID: id, jiraKeys: keys)
  }

  /// Feeds testcases through `StreamingTotals` exactly as the report streamer does.
  static func index(_ testcases: [TestCaseResult], ids: Bool = true) -> (JiraResultIndex, RunTotals) {
    var totals = StreamingTotals()
    var index = JiraResultIndex(includesTestomatioIDs: ids)
    for testcase in testcases { index.add(testcase, outcome: totals.add(testcase)) }
    return (index, totals.totals)
  }

  @Test func aLaterAttemptReplacesTheEarlierOutcomeSoCountsArePerLogicalTest() {
    let (index, _) = Self.index([
      Self.testcase("a", keys: ["ABC-1"], failed: true),
      Self.testcase("a"),  // the retry carries no key, and still decides the test: flaky
      Self.testcase("b", keys: ["ABC-1"], failed: true),
      Self.testcase("b", failed: true),
      Self.testcase("c", keys: ["ABC-1", "ABC-2"]),
    ])
    #expect(index.tests.count == 3)
    #expect(index.counts(of: index.tests(carrying: "ABC-1")) == JiraRunCounts(passed: 1, failed: 1, skipped: 0, flaky: 1))
    #expect(index.counts(of: index.tests(carrying: "ABC-2")) == JiraRunCounts(passed: 1))
    #expect(index.jiraKeys == ["ABC-1", "ABC-2"])
  }

  @Test func onlyTestsCarryingAKeyOrANeededIDAreKept() {
    let testcases = [Self.testcase("plain"), Self.testcase("with id", id: "1a2b3c4d"), Self.testcase("keyed", keys: ["ABC-1"])]
    #expect(Self.index(testcases, ids: false).0.tests.count == 1)
    let (withIDs, _) = Self.index(testcases, ids: true)
    #expect(withIDs.tests.count == 2)
    #expect(withIDs.outcomesByTestomatioID == ["1a2b3c4d": .passed])
  }

  @Test func issuesGetTheirOwnCountsAndTheRunsIssueGetsTheWholeRun() {
    let (index, totals) = Self.index([
      Self.testcase("a", keys: ["ABC-1"]),
      Self.testcase("b", keys: ["ABC-1"], id: "1a2b3c4d", failed: true),
      Self.testcase("c", id: "5e6f7a8b", skipped: true),
      Self.testcase("d", id: "9a8b7c6d"),
    ])
    let updates = JiraIssuePlanner.plan(
      index: index, runIssues: ["ABC-10"], runTotals: totals,
      linkedTests: [
        "ABC-1": ["@T5e6f7a8b", "1a2b3c4d"],  // one more test, and one already counted by its key
        "ABC-2": ["T9a8b7c6d"],
        "ABC-3": ["deadbeef"],  // linked, but did not run: left out
      ])
    #expect(updates.map(\.key) == ["ABC-1", "ABC-2", "ABC-10"])
    #expect(updates[0].counts == JiraRunCounts(passed: 1, failed: 1, skipped: 1))
    #expect(updates[0].reasons == ["results", "scope"])
    #expect(updates[1].counts == JiraRunCounts(passed: 1) && updates[1].allPassed)
    #expect(updates[2].counts == JiraRunCounts(passed: 2, failed: 1, skipped: 1) && !updates[2].allPassed)
    #expect(updates[2].reasons == ["run"])
  }

  @Test func theRunsOwnIssuesAreReadFromALooseList() {
    #expect(JiraIssuePlanner.runIssues("abc-1, ABC-2;ABC-1  XY-3") == ["ABC-1", "ABC-2", "XY-3"])
    #expect(JiraIssuePlanner.runIssues(nil).isEmpty)
  }

  @Test(arguments: [
    (JiraScope(project: "ABC"), JiraDeployment.cloud, #"project = "ABC" ORDER BY key ASC"#),
    (JiraScope(epic: "ABC-1"), .cloud, #"parent = "ABC-1" ORDER BY key ASC"#),
    (JiraScope(epic: "ABC-1"), .dataCenter, #""Epic Link" = "ABC-1" ORDER BY key ASC"#),
    (JiraScope(project: "ABC", sprint: "42"), .cloud, #"project = "ABC" AND sprint = 42 ORDER BY key ASC"#),
    (JiraScope(sprint: "Sprint \"7\""), .cloud, #"sprint = "Sprint \"7\"" ORDER BY key ASC"#),
    (JiraScope(parent: "ABC-2", jql: "status = Done OR labels = x"), .cloud, #"parent = "ABC-2" AND (status = Done OR labels = x)"#),
    (JiraScope(jql: "project = ABC ORDER BY rank"), .cloud, "project = ABC ORDER BY rank"),
  ])
  func theScopeBecomesOneBoundedQuery(_ scope: JiraScope, _ deployment: JiraDeployment, _ expected: String) {
    #expect(scope.query(deployment: deployment) == expected)
  }

  @Test func anEmptyScopeIsNoSearch() {
    #expect(JiraScope(project: " ", jql: "").isEmpty)
    #expect(JiraScope().query(deployment: .dataCenter) == nil)
  }

  @Test func theReportURLIsTheFirstHTTPCandidate() {
    #expect(JiraRunReference.reportURL([nil, "(dry run: no run was created)", "https://ci/1"]) == "https://ci/1")
    #expect(JiraRunReference.reportURL(["https://app/public/1", "https://app/1"]) == "https://app/public/1")
    #expect(JiraRunReference.reportURL([nil, "ftp://x"]) == nil)
  }

  @Test func issueKeysSortByProjectThenNumber() {
    let keys = ["SHOP-10", "ABC-3", "SHOP-2", "SHOP-1"]
    #expect(keys.sorted(by: JiraIssuePlanner.areInIssueOrder) == ["ABC-3", "SHOP-1", "SHOP-2", "SHOP-10"])
  }

  @Test func permanentFailuresAreNotSpooledAndOutagesStopTheRest() {
    let notFound = JiraError.status(action: "reading", issue: "ABC-1", code: 404, messages: [], requestLine: "GET x")
    let busy = JiraError.status(action: "reading", issue: "ABC-1", code: 429, messages: [], requestLine: "GET x")
    let forbidden = JiraError.status(action: "linking", issue: "ABC-1", code: 403, messages: [], requestLine: "POST x")
    #expect(JiraIssueWriter.isPermanent(notFound) && !JiraIssueWriter.isOutage(notFound))
    #expect(!JiraIssueWriter.isPermanent(busy) && JiraIssueWriter.isOutage(busy))
    #expect(!JiraIssueWriter.isPermanent(forbidden) && !JiraIssueWriter.isOutage(forbidden))
    #expect(JiraIssueWriter.isPermanent(.forbiddenRequest(method: "DELETE", path: "/x", level: .links)))
  }

  @Test func theCommentCarriesAMarkerThatReadsTheSameInWikiAndADF() {
    let run = JiraRunReference(
      historyID: "r1", testomatioRunID: "r1", title: "Night*ly [x]", linkKey: "Nightly", url: "https://app/r1",
      at: "2026-03-01T10:00:00Z")
    let document = JiraIssueWriter.commentDocument(
      JiraIssueUpdate(key: "ABC-1", counts: JiraRunCounts(passed: 2), reasons: ["results"]), run: run)
    let marker = JiraIssueWriter.commentMarker(run)
    #expect(document.wikiMarkup().contains(marker))
    #expect(JiraCommentDocument.plainText(fromADF: document.adfJSON()).contains(marker))
    #expect(document.wikiMarkup().contains(#"Night\*ly \[x\]"#))
  }

  @Test func dryRunAnswersDecodeAsEmptyResults() async throws {
    let config = JiraConfig(
      siteURL: URL(string: "https://acme.atlassian.net")!, auth: .basic(email: "a@b.c", apiToken: "t"), deployment: .cloud)
    let client = JiraClient(config: config, transport: DryRunTransport(responseBody: JiraServices.dryRunAnswer), level: .comments)
    #expect(try await client.search(jql: "project = ABC").isEmpty)
    #expect(RunHistoryProperty.decode(try await client.property(issue: "ABC-1", key: RunHistoryProperty.key)).runs.isEmpty)
    #expect(try await client.comments(issue: "ABC-1").isEmpty)
    #expect(try await client.upsertRemoteLink(issue: "ABC-1", globalID: "g", title: "t", url: "https://x").id == 0)
    #expect(try await client.addComment(issue: "ABC-1", JiraCommentDocument(text: "x")).id == "0")
    #expect(try await client.myPermissions(projectKey: "ABC").granted.isEmpty)
  }
}
