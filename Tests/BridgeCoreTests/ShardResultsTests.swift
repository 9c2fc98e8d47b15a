import BridgeCore
import Foundation
import Testing

@Suite struct ShardResultsTests {
  func test(_ rid: String, _ outcome: TestOutcome, jira: [String] = []) -> ShardResults.Test {
    ShardResults.Test(
      rid: rid, suite: ["s"], classname: "c", name: rid, outcome: outcome, duration: 1, testomatioID: nil, jira: jira)
  }

  func file(_ id: String, total: Int? = 3, attempt: Int = 1, start: Double, end: Double, _ tests: [ShardResults.Test])
    -> ShardResults
  {
    ShardResults(
      runID: "run1", title: "t", shard: .init(id: id, total: total, attempt: attempt),
      startedAt: Date(timeIntervalSince1970: start), endedAt: Date(timeIntervalSince1970: end), exitCode: 0, tests: tests)
  }

  @Test func mergesShardsIntoOneRunWithWallClockNotSummedDurations() {
    let merged = MergedShardResults([
      file("1", start: 100, end: 160, [test("a", .passed, jira: ["P-1"]), test("b", .failed, jira: ["P-1", "P-2"])]),
      file("2", start: 110, end: 190, [test("c", .passed, jira: ["P-2"])]),
      file("3", start: 105, end: 150, [test("d", .skipped)]),
    ])
    #expect(merged.tests.map(\.rid) == ["a", "b", "c", "d"])
    #expect(merged.totals.tests == 4 && merged.totals.failed == 1 && merged.totals.passed == 2)
    #expect(merged.wallClock == 90)
    #expect(merged.totals.duration == 4)
    #expect(merged.missingShards.isEmpty)
    #expect(merged.jiraCounts["P-1"]?.tests == 2)
    #expect(merged.jiraCounts["P-2"]?.failed == 1)
    #expect(merged.runIDs == ["run1"])
    #expect(merged.shouldFail)
  }

  @Test func aRetriedShardReplacesItsEarlierAttempt() {
    let merged = MergedShardResults([
      file("1", attempt: 1, start: 0, end: 10, [test("a", .failed), test("b", .passed)]),
      file("1", attempt: 2, start: 20, end: 30, [test("a", .passed), test("b", .passed)]),
      file("2", start: 0, end: 5, [test("c", .passed)]),
      file("3", start: 0, end: 5, [test("d", .passed)]),
    ])
    #expect(merged.totals.tests == 4)
    #expect(merged.totals.failed == 0)
    #expect(merged.replacedAttempts == [.init(id: "1", total: 3, attempt: 1)])
    #expect(!merged.shouldFail)
  }

  @Test func missingShardsAreNamedAndFailTheRun() {
    let merged = MergedShardResults(
      [file("1", total: nil, start: 0, end: 1, [test("a", .passed)]), file("3", total: nil, start: 0, end: 1, [])],
      expectedShards: 4)
    #expect(merged.missingShards == ["2", "4"])
    #expect(merged.shouldFail)
  }

  @Test func roundTripsThroughJSON() throws {
    let original = file("2", start: 1_700_000_000, end: 1_700_000_100, [test("a", .flaky, jira: ["P-9"])])
    let encoder = JSONEncoder()
    encoder.dateEncodingStrategy = .iso8601
    let data = try encoder.encode(original)
    let text = String(decoding: data, as: UTF8.self)
    #expect(text.contains("\"format\":\"testbridge-results\\/1\"") || text.contains("\"format\":\"testbridge-results/1\""))
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    #expect(try decoder.decode(ShardResults.self, from: data) == original)
  }

  @Test func thePipelinesStartOpensTheWallClockAndAFailedCommandFailsTheRun() {
    var first = file("1", start: 100, end: 160, [test("a", .passed)])
    first.pipelineStartedAt = Date(timeIntervalSince1970: 40)
    var second = file("2", start: 110, end: 190, [test("b", .passed)])
    second.exitCode = 137
    let merged = MergedShardResults([first, second, file("3", start: 105, end: 150, [])])
    #expect(merged.wallClock == 150)
    #expect(merged.failedCommands == ["2"])
    #expect(!merged.totals.hasFailures && merged.shouldFail)
  }

  @Test func theAttemptSetNamesEachShardsLatestAttempt() {
    let one = MergedShardResults([file("1", start: 0, end: 1, []), file("2", start: 0, end: 1, [])])
    let retried = MergedShardResults([
      file("1", start: 0, end: 1, []), file("2", start: 0, end: 1, []), file("2", attempt: 2, start: 5, end: 6, []),
    ])
    #expect(one.attemptSet == "1:1,2:1")
    #expect(retried.attemptSet == "1:1,2:2")
  }

  @Test func undeliveredShardsAreNamed() {
    var spooled = file("2", start: 0, end: 1, [])
    spooled.delivered = false
    var delivered = file("1", start: 0, end: 1, [])
    delivered.delivered = true
    #expect(MergedShardResults([delivered, spooled, file("3", start: 0, end: 1, [])]).undelivered == ["2"])
  }

  @Test func timesKeepMillisecondsAndOlderFilesStillRead() throws {
    var original = file("2", start: 1_700_000_000.125, end: 1_700_000_100.5, [test("a", .passed)])
    original.pipeline = "github:org/app:1"
    original.pipelineStartedAt = Date(timeIntervalSince1970: 1_699_999_000.25)
    let data = try ShardResults.encoder().encode(original)
    #expect(String(decoding: data, as: UTF8.self).contains("\"started_at\":\"2023-11-14T22:13:20.125Z\""))
    #expect(try ShardResults.decoder().decode(ShardResults.self, from: data) == original)
    let whole = Data(
      #"{"format":"testbridge-results/1","shard":{"id":"1","attempt":1},"started_at":"2026-12-03T19:00:00Z","ended_at":"2026-12-03T19:04:10Z","tests":[]}"#
        .utf8)
    let old = try ShardResults.decoder().decode(ShardResults.self, from: whole)
    #expect(old.endedAt.timeIntervalSince(old.startedAt) == 250)
    #expect(old.pipeline == nil && old.delivered == nil)
  }

  @Test func thePipelinesStartComesFromTheCI() {
    let gitlab = CIEnvironment.detect([
      "GITLAB_CI": "true", "CI_PIPELINE_ID": "9", "CI_PIPELINE_CREATED_AT": "2026-12-03T19:00:00Z",
    ])
    #expect(gitlab.pipelineStartedAt == ISO8601Time.parse("2026-12-03T19:00:00Z"))
    let explicit = CIEnvironment.detect([
      "GITHUB_ACTIONS": "true", "GITHUB_RUN_ID": "1", "TESTBRIDGE_PIPELINE_STARTED_AT": "1700000000.5",
    ])
    #expect(explicit.pipelineStartedAt == Date(timeIntervalSince1970: 1_700_000_000.5))
    #expect(CIEnvironment.detect(["GITHUB_ACTIONS": "true", "GITHUB_RUN_ID": "1"]).pipelineStartedAt == nil)
    #expect(CIEnvironment.detect(["CI_PIPELINE_CREATED_AT": "2026-12-03T19:00:00Z"]).pipelineStartedAt == nil)
  }
}
