import BridgeTestSupport
import Foundation
import Sandbox
import Testing

/// Sharded CI runs: many jobs, one Testomat.io run, one close.
@Suite(.serialized) struct ShardingEndToEndTests {
  static let apiKey = "tstmt_shards_e2e_5d1c"

  /// A shard's JUnit report: `count` tests named after the shard, the first failing when asked.
  static func writeReport(shard: Int, count: Int, failFirst: Bool, in directory: URL) throws -> String {
    var xml = "<testsuites><testsuite name=\"shard\(shard)\">"
    for index in 0..<count {
      let failure = failFirst && index == 0 ? "<failure message=\"boom\">trace</failure>" : ""
      xml += "<testcase classname=\"suite.s\(shard)\" name=\"test_\(index)\" time=\"0.5\">\(failure)</testcase>"
    }
    xml += "</testsuite></testsuites>"
    let url = directory.appendingPathComponent("junit-\(shard).xml")
    try Data(xml.utf8).write(to: url)
    return url.path
  }

  static func environment(_ sandbox: URL, attempt: Int = 1) -> [String: String] {
    [
      "TESTOMATIO": apiKey, "TESTOMATIO_URL": sandbox.absoluteString, "TESTOMATIO_TITLE": "Nightly",
      "GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "org/app", "GITHUB_RUN_ID": "424242",
      "GITHUB_RUN_ATTEMPT": String(attempt),
    ]
  }

  @Test func eightShardsStartedAtOnceAddUpToOneRunClosedOnce() async throws {
    let server = SandboxServer(emulator: TestomatioEmulator(apiKey: Self.apiKey))
    let url = try await server.start()
    let directory = try ProjectPaths.temporaryDirectory("shards")
    defer {
      Task { await server.stop(graceful: false) }
      try? FileManager.default.removeItem(at: directory)
    }
    let outputs = try await withThrowingTaskGroup(of: ProcessOutput.self) { group in
      for shard in 1...8 {
        let report = try Self.writeReport(shard: shard, count: 25, failFirst: shard == 5, in: directory)
        group.addTask {
          try await ChildProcess.testbridgeAsync(
            ["report", "--run-from-ci", "--shard", "\(shard)/8", "--results-out", directory.appendingPathComponent("shard-\(shard).json").path, report],
            environment: Self.environment(url))
        }
      }
      return try await group.reduce(into: []) { $0.append($1) }
    }
    #expect(outputs.filter { $0.status == 1 }.count == 1, "only shard 5 has a failing test")
    #expect(outputs.filter { $0.status == 0 }.count == 7, "\(outputs.map(\.stderr))")
    var state = await server.emulator.state()
    #expect(state.runs.count == 1, "one run for the whole pipeline")
    let run = try #require(state.runs.first)
    #expect(run.title == "Nightly · github:org/app:424242")
    #expect(run.results.count == 200)
    #expect(run.ridCounts.values.allSatisfy { $0 == 1 })
    #expect(!run.finished, "no shard closes the run")
    #expect(run.parallelFinishCount == 8)

    let finish = try await ChildProcess.testbridgeAsync(
      ["finish", "--merge", directory.path + "/shard-*.json", "--shards", "8"], environment: Self.environment(url))
    #expect(finish.status == 0, "\(finish.stderr)")
    #expect(finish.stdout.contains("Merged 8 shard(s): 200 tests"))
    state = await server.emulator.state()
    let closed = try #require(state.run(run.uid))
    #expect(closed.finished && closed.finishCount == 1)
    #expect(closed.statusEvents.last == "fail")
    // The pipeline's wall-clock time, not the sum of 200 × 0.5 s of test time.
    let duration = try #require(closed.duration)
    #expect(duration < 100)
  }

  @Test func aMissingShardIsReportedAndFailsTheRun() async throws {
    let server = SandboxServer(emulator: TestomatioEmulator(apiKey: Self.apiKey))
    let url = try await server.start()
    let directory = try ProjectPaths.temporaryDirectory("shards")
    defer {
      Task { await server.stop(graceful: false) }
      try? FileManager.default.removeItem(at: directory)
    }
    for shard in [1, 2, 4] {
      let report = try Self.writeReport(shard: shard, count: 3, failFirst: false, in: directory)
      let output = try await ChildProcess.testbridgeAsync(
        ["report", "--run-from-ci", "--shard", "\(shard)/4", "--results-out", directory.appendingPathComponent("shard-\(shard).json").path, report],
        environment: Self.environment(url))
      #expect(output.status == 0, "\(output.stderr)")
    }
    let finish = try await ChildProcess.testbridgeAsync(
      ["finish", "--merge", directory.path + "/*.json", "--shards", "4"], environment: Self.environment(url))
    #expect(finish.status == 1)
    #expect(finish.stderr.contains("shard(s) 3 never reported"))
    let run = try #require(await server.emulator.state().runs.first)
    #expect(run.finished && run.statusEvents.last == "fail")
  }

  @Test func aRetriedShardReplacesItsEarlierAttemptInsteadOfAddingToIt() async throws {
    let server = SandboxServer(emulator: TestomatioEmulator(apiKey: Self.apiKey))
    let url = try await server.start()
    let directory = try ProjectPaths.temporaryDirectory("shards")
    defer {
      Task { await server.stop(graceful: false) }
      try? FileManager.default.removeItem(at: directory)
    }
    let results = { (shard: Int, attempt: Int) in directory.appendingPathComponent("shard-\(shard)-attempt-\(attempt).json").path }
    let first = try Self.writeReport(shard: 1, count: 4, failFirst: true, in: directory)
    _ = try await ChildProcess.testbridgeAsync(
      ["report", "--run-from-ci", "--shard", "1/2", "--results-out", results(1, 1), first], environment: Self.environment(url))
    let second = try Self.writeReport(shard: 2, count: 4, failFirst: false, in: directory)
    _ = try await ChildProcess.testbridgeAsync(
      ["report", "--run-from-ci", "--shard", "2/2", "--results-out", results(2, 1), second], environment: Self.environment(url))
    // The failed job is re-run (attempt 2) and passes this time.
    let rerun = try Self.writeReport(shard: 1, count: 4, failFirst: false, in: directory)
    let retried = try await ChildProcess.testbridgeAsync(
      ["report", "--run-from-ci", "--shard", "1/2", "--results-out", results(1, 2), rerun],
      environment: Self.environment(url, attempt: 2))
    #expect(retried.status == 0, "\(retried.stderr)")
    var state = await server.emulator.state()
    #expect(state.runs.count == 1, "the re-run joined the same run")
    #expect(state.runs.first?.results.count == 8, "replaced, not added")
    #expect(state.runs.first?.results(withStatus: "failed").isEmpty == true)
    let finish = try await ChildProcess.testbridgeAsync(
      ["finish", "--merge", directory.path + "/*.json", "--shards", "2"], environment: Self.environment(url))
    #expect(finish.status == 0, "\(finish.stderr)")
    #expect(finish.stdout.contains("shard 1: attempt 1 replaced by a later attempt"))
    state = await server.emulator.state()
    #expect(state.runs.first?.statusEvents.last == "pass")
  }
}

/// Jira is updated once per run, by the final job, with counts over every shard.
@Suite(.serialized) struct ShardingJiraEndToEndTests {
  @Test func finishMergeMakesOneJiraUpdatePerIssueForAllShards() async throws {
    let testomatio = SandboxServer(emulator: TestomatioEmulator(apiKey: ShardingEndToEndTests.apiKey))
    let url = try await testomatio.start()
    let jira = JiraSandboxServer()
    let jiraURL = try await jira.start()
    _ = await jira.emulator.seedIssue(key: "SHOP-1", summary: "Checkout")
    _ = await jira.emulator.seedIssue(key: "SHOP-2", summary: "Invoices")
    let directory = try ProjectPaths.temporaryDirectory("shards-jira")
    defer {
      Task {
        await testomatio.stop(graceful: false)
        await jira.stop(graceful: false)
      }
      try? FileManager.default.removeItem(at: directory)
    }
    var environment = ShardingEndToEndTests.environment(url)
    environment["JIRA_URL"] = jiraURL.absoluteString
    environment["JIRA_EMAIL"] = "bridge@example.com"
    environment["JIRA_API_TOKEN"] = "jira-sandbox-token"
    environment["JIRA_DEPLOYMENT"] = "cloud"
    environment["TESTOMATIO_PROJECT"] = "sandbox"
    for shard in 1...3 {
      var xml = "<testsuites><testsuite name=\"s\(shard)\">"
      for index in 0..<4 {
        let key = index % 2 == 0 ? "SHOP-1" : "SHOP-2"
        let failure = shard == 2 && index == 0 ? "<failure message=\"boom\"/>" : ""
        xml += "<testcase classname=\"c\(shard)\" name=\"t\(index) @\(key)\" time=\"0.1\">\(failure)</testcase>"
      }
      xml += "</testsuite></testsuites>"
      let report = directory.appendingPathComponent("junit-\(shard).xml")
      try Data(xml.utf8).write(to: report)
      let output = try await ChildProcess.testbridgeAsync(
        ["report", "--run-from-ci", "--shard", "\(shard)/3", "--results-out", directory.appendingPathComponent("r-\(shard).json").path, report.path],
        environment: environment)
      #expect(output.status == (shard == 2 ? 1 : 0), "\(output.stderr)")
    }
    var state = await jira.emulator.state()
    #expect(state.issue("SHOP-1")?.remoteLinks.isEmpty == true, "shards leave Jira alone")
    #expect(state.issue("SHOP-1")?.propertyWrites == 0)

    let finish = try await ChildProcess.testbridgeAsync(
      ["finish", "--merge", directory.path + "/r-*.json", "--shards", "3"], environment: environment)
    #expect(finish.status == 0, "\(finish.stderr)")
    state = await jira.emulator.state()
    let shop1 = try #require(state.issue("SHOP-1"))
    let shop2 = try #require(state.issue("SHOP-2"))
    #expect(shop1.remoteLinks.count == 1)
    #expect(shop1.remoteLinks.first?.title?.hasPrefix("testbridge: 5 passed, 1 failed") == true, "\(shop1.remoteLinks)")
    #expect(shop1.remoteLinks.first?.url?.contains("/projects/sandbox/runs/") == true)
    #expect(shop2.remoteLinks.first?.title?.hasPrefix("testbridge: 6 passed") == true)
    #expect(shop1.propertyWrites == 1 && shop2.propertyWrites == 1, "one update per issue")
    #expect(state.refused.isEmpty)
  }
}
