import BridgeTestSupport
import Foundation
import BridgeCore
import Sandbox
import Testing

/// Sharded CI runs: many jobs, one Testomat.io run, one close.
@Suite(.serialized) struct ShardingEndToEndTests {
  static let apiKey = "tstmt_shards_e2e_5d1c"

  /// A shard's JUnit report: `count` tests named after the shard, the first failing when asked.
  static func writeReport(
    shard: Int, count: Int, failFirst: Bool, in directory: URL, time: Double = 0.5, name: String? = nil
  ) throws -> String {
    var xml = "<testsuites><testsuite name=\"shard\(shard)\">"
    for index in 0..<count {
      let failure = failFirst && index == 0 ? "<failure message=\"boom\">trace</failure>" : ""
      xml += "<testcase classname=\"suite.s\(shard)\" name=\"test_\(index)\" time=\"\(time)\">\(failure)</testcase>"
    }
    xml += "</testsuite></testsuites>"
    let url = directory.appendingPathComponent(name ?? "junit-\(shard).xml")
    try Data(xml.utf8).write(to: url)
    return url.path
  }

  static func environment(_ sandbox: URL, attempt: Int = 1, runID: String = "424242") -> [String: String] {
    [
      "TESTOMATIO": apiKey, "TESTOMATIO_URL": sandbox.absoluteString, "TESTOMATIO_TITLE": "Nightly",
      "GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "org/app", "GITHUB_RUN_ID": runID,
      "GITHUB_RUN_ATTEMPT": String(attempt),
    ]
  }

  /// Runs `body` with a Testomat.io sandbox and a scratch folder of its own, both
  /// gone afterwards (the sandbox stopped before the test ends, even when it fails).
  static func withSandbox(
    _ folder: String, _ body: (SandboxServer, URL, URL) async throws -> Void
  ) async throws {
    let server = SandboxServer(emulator: TestomatioEmulator(apiKey: apiKey))
    let url = try await server.start()
    let directory = try ProjectPaths.temporaryDirectory(folder)
    defer { try? FileManager.default.removeItem(at: directory) }
    do {
      try await body(server, url, directory)
    } catch {
      await server.stop(graceful: false)
      throw error
    }
    await server.stop(graceful: false)
  }

  /// The span the shards' own files record: the earliest start to the latest end.
  static func recordedSpan(_ paths: [String]) throws -> TimeInterval {
    var starts: [Date] = []
    var ends: [Date] = []
    for path in paths {
      let data = try Data(contentsOf: URL(fileURLWithPath: path))
      let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
      let start = (object?["started_at"] as? String).flatMap(ISO8601Time.parse)
      let end = (object?["ended_at"] as? String).flatMap(ISO8601Time.parse)
      starts.append(try #require(start, "\(path) has started_at"))
      ends.append(try #require(end, "\(path) has ended_at"))
    }
    let first = try #require(starts.min())
    let last = try #require(ends.max())
    return last.timeIntervalSince(first)
  }

  @Test func eightShardsStartedAtOnceAddUpToOneRunClosedOnce() async throws {
    try await Self.withSandbox("shards") { server, url, directory in
      // 200 tests × 10 s: the sum of the test times is 2,000 s, far above any real span.
      let began = Date()
      let outputs = try await withThrowingTaskGroup(of: ProcessOutput.self) { group in
        for shard in 1...8 {
          let report = try Self.writeReport(shard: shard, count: 25, failFirst: shard == 5, in: directory, time: 10)
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

      let elapsed = Date().timeIntervalSince(began)
      let finish = try await ChildProcess.testbridgeAsync(
        ["finish", "--merge", directory.path + "/shard-*.json", "--shards", "8"], environment: Self.environment(url))
      #expect(finish.status == 0, "\(finish.stderr)")
      #expect(finish.stdout.contains("Merged 8 shard(s): 200 tests"))
      state = await server.emulator.state()
      let closed = try #require(state.run(run.uid))
      #expect(closed.finished && closed.finishCount == 1)
      #expect(closed.statusEvents.last == "fail")
      // The pipeline's wall-clock time: the shards' own span (first start to last end), inside
      // the time the test watched them run; not the 2,000 s sum of their test times.
      let duration = try #require(closed.duration)
      let span = try Self.recordedSpan((1...8).map { directory.appendingPathComponent("shard-\($0).json").path })
      #expect(duration > 0)
      #expect(abs(duration - span) < 0.002, "duration \(duration) vs the shards' span \(span)")
      #expect(duration <= elapsed + 0.002, "duration \(duration) vs \(elapsed) s watched")
    }
  }

  @Test func theLastOfEightShardsToEndClosesTheRunOnceWithoutAFinalJob() async throws {
    try await Self.withSandbox("shards-last") { server, url, directory in
      // Each shard's command takes a second and then writes its report: a real wall-clock span.
      let began = Date()
      let outputs = try await withThrowingTaskGroup(of: (Int, ProcessOutput).self) { group in
        for shard in 1...8 {
          let source = try Self.writeReport(
            shard: shard, count: 25, failFirst: shard == 3, in: directory, time: 10, name: "source-\(shard).xml")
          let report = directory.appendingPathComponent("junit-\(shard).xml").path
          group.addTask {
            let output = try await ChildProcess.testbridgeAsync(
              [
                "run", "--run-from-ci", "--shard", "\(shard)", "--shards", "8",
                "--results-out", directory.appendingPathComponent("shard-\(shard).json").path, "--junit", report, "--",
                "sh", "-c", "sleep 1 && cp '\(source)' '\(report)'",
              ],
              environment: Self.environment(url))
            return (shard, output)
          }
        }
        return try await group.reduce(into: []) { $0.append($1) }
      }
      let elapsed = Date().timeIntervalSince(began)
      for (shard, output) in outputs {
        #expect(output.status == (shard == 3 ? 1 : 0), "shard \(shard): \(output.stderr)")
      }
      let closers = outputs.filter { $0.1.stdout.contains("This shard ended last") }
      #expect(closers.count == 1, "exactly one shard closes: \(outputs.map(\.1.stdout))")
      #expect(closers.first?.1.stdout.contains("finished (fail) for all shards") == true)
      #expect(closers.first?.1.stdout.contains("Merged 8 shard(s): 200 tests") == true)
      let state = await server.emulator.state()
      #expect(state.runs.count == 1)
      let run = try #require(state.runs.first)
      #expect(run.results.count == 200 && run.ridCounts.values.allSatisfy { $0 == 1 })
      #expect(run.parallelFinishCount == 8)
      #expect(run.finished && run.finishCount == 1, "closed once: \(run.statusEvents)")
      #expect(run.statusEvents.last == "fail")
      let duration = try #require(run.duration)
      let span = try Self.recordedSpan((1...8).map { directory.appendingPathComponent("shard-\($0).json").path })
      #expect(duration >= 1, "every shard's command ran for a second")
      #expect(abs(duration - span) < 0.002, "duration \(duration) vs the shards' span \(span)")
      #expect(duration <= elapsed + 0.002, "duration \(duration) vs \(elapsed) s watched, not the 2,000 s of test time")

      // A final job in the same folder finds the run closed and does not close it again.
      let finish = try await ChildProcess.testbridgeAsync(
        ["finish", "--merge", directory.path + "/shard-*.json", "--shards", "8"], environment: Self.environment(url))
      #expect(finish.status == 0, "\(finish.stderr)")
      #expect(finish.stdout.contains("was already closed for these shard attempts by shard"))
      #expect(await server.emulator.state().runs.first?.finishCount == 1)
    }
  }

  @Test func withAShardMissingNoShardClosesTheRun() async throws {
    try await Self.withSandbox("shards-open") { server, url, directory in
      for shard in [1, 3] {
        let report = try Self.writeReport(shard: shard, count: 2, failFirst: false, in: directory)
        let output = try await ChildProcess.testbridgeAsync(
          ["report", "--run-from-ci", "--shard", "\(shard)", "--shards", "3", "--results-out",
           directory.appendingPathComponent("shard-\(shard).json").path, report],
          environment: Self.environment(url))
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stdout.contains("the run stays open for shard(s) 2"), "\(output.stdout)")
      }
      let run = try #require(await server.emulator.state().runs.first)
      #expect(!run.finished && run.finishCount == 0)

      let usage = try await ChildProcess.testbridgeAsync(
        ["report", "--run-from-ci", "--shards", "3", "--results-out", directory.appendingPathComponent("x.json").path,
         directory.appendingPathComponent("junit-1.xml").path],
        environment: Self.environment(url))
      #expect(usage.status == 64)
      #expect(usage.stderr.contains("--shards 3 needs this job's shard id"))
    }
  }

  @Test func aMissingShardIsReportedAndFailsTheRun() async throws {
    try await Self.withSandbox("shards") { server, url, directory in
      for shard in [1, 2, 4] {
        let report = try Self.writeReport(shard: shard, count: 3, failFirst: false, in: directory)
        let output = try await ChildProcess.testbridgeAsync(
          ["report", "--run-from-ci", "--shard", "\(shard)/4", "--results-out", directory.appendingPathComponent("shard-\(shard).json").path, report],
          environment: Self.environment(url))
        #expect(output.status == 0, "\(output.stderr)")
      }
      // A dry run names the missing shard and the failed close, sends nothing and exits 0.
      let before = await server.emulator.state().runs.first?.statusEvents
      let dryRun = try await ChildProcess.testbridgeAsync(
        ["finish", "--merge", directory.path + "/*.json", "--shards", "4", "--dry-run"], environment: Self.environment(url))
      #expect(dryRun.status == 0, "\(dryRun.stderr)")
      #expect(dryRun.stderr.contains("shard(s) 3 never reported"))
      #expect(dryRun.stdout.contains("status_event=\"fail\""), "\(dryRun.stdout)")
      #expect(await server.emulator.state().runs.first?.statusEvents == before)
      let finish = try await ChildProcess.testbridgeAsync(
        ["finish", "--merge", directory.path + "/*.json", "--shards", "4"], environment: Self.environment(url))
      #expect(finish.status == 1)
      #expect(finish.stderr.contains("shard(s) 3 never reported"))
      let run = try #require(await server.emulator.state().runs.first)
      #expect(run.finished && run.statusEvents.last == "fail")
    }
  }

  @Test func aRetriedShardReplacesItsEarlierAttemptInsteadOfAddingToIt() async throws {
    try await Self.withSandbox("shards") { server, url, directory in
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
}

/// The no-setup-job mode: the CI's identity, not a title and a time window, names the run.
@Suite(.serialized) struct ShardingIdentityEndToEndTests {
  typealias E2E = ShardingEndToEndTests

  static func report(
    shard: String, results: String, report: String, environment: [String: String], extra: [String] = []
  ) async throws -> ProcessOutput {
    try await ChildProcess.testbridgeAsync(
      ["report", "--run-from-ci"] + (shard.isEmpty ? [] : ["--shard", shard]) + extra + ["--results-out", results, report],
      environment: environment)
  }

  @Test func aRerunOfAFailedJobAfterTheRunWasClosedJoinsTheSameRun() async throws {
    try await E2E.withSandbox("shards-rerun") { server, url, directory in
      let file = { (shard: Int, attempt: Int) in directory.appendingPathComponent("results-\(shard)-\(attempt).json").path }
      for shard in 1...2 {
        let junit = try E2E.writeReport(shard: shard, count: 3, failFirst: shard == 2, in: directory)
        let output = try await Self.report(shard: "\(shard)/2", results: file(shard, 1), report: junit, environment: E2E.environment(url))
        #expect(output.status == (shard == 2 ? 1 : 0), "\(output.stderr)")
      }
      var finish = try await ChildProcess.testbridgeAsync(
        ["finish", "--merge", directory.path + "/results-*.json", "--shards", "2"], environment: E2E.environment(url))
      #expect(finish.status == 0 && finish.stdout.contains("finished (fail)"), "\(finish.stderr)")
      let uid = try #require(await server.emulator.state().runs.first?.uid)

      // Two days later (far past any shared-run window), the failed job is re-run: attempt 2
      // finds attempt 1's results files in its folder (as a re-run downloads them) and adopts
      // the closed run by id.
      await server.emulator.advanceClock(by: 2 * 24 * 3600)
      let junit = try E2E.writeReport(shard: 2, count: 3, failFirst: false, in: directory)
      let rerun = try await Self.report(
        shard: "2/2", results: file(2, 2), report: junit, environment: E2E.environment(url, attempt: 2))
      #expect(rerun.status == 0, "\(rerun.stderr)")
      #expect(rerun.stderr.contains("rejoining run \(uid) of github:org/app:424242"), "\(rerun.stderr)")
      var state = await server.emulator.state()
      #expect(state.runs.count == 1, "the re-run joined the same run")
      var run = try #require(state.run(uid))
      #expect(run.reopenCount == 1 && !run.finished)
      #expect(run.results.count == 6 && run.results(withStatus: "failed").isEmpty, "replaced, not added")

      // GitHub re-runs the jobs that need the failed one: the final job closes the run again.
      finish = try await ChildProcess.testbridgeAsync(
        ["finish", "--merge", directory.path + "/results-*.json", "--shards", "2"], environment: E2E.environment(url, attempt: 2))
      #expect(finish.status == 0, "\(finish.stderr)")
      #expect(finish.stdout.contains("shard 2: attempt 1 replaced by a later attempt"))
      state = await server.emulator.state()
      run = try #require(state.run(uid))
      #expect(run.finished && run.statusEvents.last == "pass" && run.finishCount == 2)
    }
  }

  @Test func aNewPipelineNeverJoinsAnEarlierOnesRun() async throws {
    try await E2E.withSandbox("shards-pipelines") { server, url, directory in
      let junit = try E2E.writeReport(shard: 1, count: 2, failFirst: false, in: directory)
      // Both pipelines write into the same folder, and the second starts while the first's run is open.
      let first = try await Self.report(
        shard: "1", results: directory.appendingPathComponent("a.json").path, report: junit,
        environment: E2E.environment(url, runID: "1001"))
      let second = try await Self.report(
        shard: "1", results: directory.appendingPathComponent("b.json").path, report: junit,
        environment: E2E.environment(url, runID: "1002"))
      #expect(first.status == 0 && second.status == 0, "\(first.stderr) \(second.stderr)")
      #expect(!second.stderr.contains("rejoining"))
      let state = await server.emulator.state()
      #expect(state.runs.count == 2)
      #expect(Set(state.runs.compactMap(\.title)) == ["Nightly · github:org/app:1001", "Nightly · github:org/app:1002"])

      // The final job is told which run to close when its files name two.
      let ambiguous = try await ChildProcess.testbridgeAsync(
        ["finish", "--merge", directory.path + "/*.json"], environment: E2E.environment(url))
      #expect(ambiguous.status == 1)
      let uids = state.runs.map(\.uid)
      #expect(ambiguous.stderr.contains("the results files name 2 runs"), "\(ambiguous.stderr)")
      #expect(uids.allSatisfy { ambiguous.stderr.contains($0) })
      #expect(await server.emulator.state().runs.allSatisfy { !$0.finished }, "nothing closed")
      let chosen = try await ChildProcess.testbridgeAsync(
        ["finish", "--merge", directory.path + "/*.json", "--run", uids[0]], environment: E2E.environment(url))
      #expect(chosen.status == 0, "\(chosen.stderr)")
      #expect(chosen.stderr.contains("left out 1 results file(s) of other runs"))
      #expect(chosen.stdout.contains("Merged 1 shard(s): 2 tests"))
      let closed = await server.emulator.state().runs.map(\.finished)
      #expect(closed == [true, false])
    }
  }

  @Test func gitLabJobsShareTheRunOfTheirPipelineAndItsStartTime() async throws {
    try await E2E.withSandbox("shards-gitlab") { server, url, directory in
      // The pipeline was created five minutes ago (an earlier build stage, queueing).
      let created = Date().addingTimeInterval(-300)
      func gitlab(pipeline: String, node: Int, job: Int) -> [String: String] {
        [
          "TESTOMATIO": E2E.apiKey, "TESTOMATIO_URL": url.absoluteString, "TESTOMATIO_TITLE": "Nightly",
          "GITLAB_CI": "true", "CI_PROJECT_PATH": "group/app", "CI_PIPELINE_ID": pipeline, "CI_JOB_ID": String(job),
          "CI_NODE_INDEX": String(node), "CI_NODE_TOTAL": "3",
          "CI_PIPELINE_CREATED_AT": ISO8601Time.string(created),
        ]
      }
      let began = Date()
      let outputs = try await withThrowingTaskGroup(of: ProcessOutput.self) { group in
        for node in 1...3 {
          let junit = try E2E.writeReport(shard: node, count: 4, failFirst: false, in: directory)
          let results = directory.appendingPathComponent("results-\(node).json").path
          group.addTask {
            try await Self.report(shard: "", results: results, report: junit, environment: gitlab(pipeline: "9001", node: node, job: 500 + node))
          }
        }
        return try await group.reduce(into: []) { $0.append($1) }
      }
      let elapsed = Date().timeIntervalSince(began)
      #expect(outputs.allSatisfy { $0.status == 0 }, "\(outputs.map(\.stderr))")
      var state = await server.emulator.state()
      #expect(state.runs.count == 1)
      #expect(state.runs.first?.title == "Nightly · gitlab:group/app:9001")
      #expect(state.runs.first?.results.count == 12)

      let finish = try await ChildProcess.testbridgeAsync(
        ["finish", "--merge", directory.path + "/results-*.json", "--shards", "3"], environment: gitlab(pipeline: "9001", node: 1, job: 600))
      #expect(finish.status == 0, "\(finish.stderr)")
      state = await server.emulator.state()
      // From the pipeline's creation to the last job's end: 300 s and the time the jobs took.
      let duration = try #require(state.runs.first?.duration)
      #expect(duration >= 299.999 && duration <= 300 + elapsed + 1, "\(duration)")

      // Another pipeline of the same project gets its own run.
      let junit = try E2E.writeReport(shard: 1, count: 1, failFirst: false, in: directory)
      try FileManager.default.createDirectory(at: directory.appendingPathComponent("other"), withIntermediateDirectories: true)
      let other = try await Self.report(
        shard: "", results: directory.appendingPathComponent("other/results-1.json").path, report: junit,
        environment: gitlab(pipeline: "9002", node: 1, job: 700))
      #expect(other.status == 0, "\(other.stderr)")
      state = await server.emulator.state()
      #expect(state.runs.count == 2)
      #expect(state.runs.last?.title == "Nightly · gitlab:group/app:9002")
    }
  }
}

/// Jira is updated once per run, by the final job, with counts over every shard.
@Suite(.serialized) struct ShardingJiraEndToEndTests {
  @Test(arguments: [false, true])
  func oneJiraUpdatePerIssueForAllShards(lastShardCloses: Bool) async throws {
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
        ["report", "--run-from-ci", "--shard", "\(shard)/3", "--results-out", directory.appendingPathComponent("r-\(shard).json").path, report.path]
          + (lastShardCloses ? ["--shards", "3"] : []),
        environment: environment)
      #expect(output.status == (shard == 2 ? 1 : 0), "\(output.stderr)")
      if shard < 3 {
        let state = await jira.emulator.state()
        #expect(state.issue("SHOP-1")?.remoteLinks.isEmpty == true, "shards leave Jira alone")
        #expect(state.issue("SHOP-1")?.propertyWrites == 0)
      }
    }
    if lastShardCloses {
      #expect(await testomatio.emulator.state().runs.first?.finishCount == 1, "the third shard closed the run")
    } else {
      let finish = try await ChildProcess.testbridgeAsync(
        ["finish", "--merge", directory.path + "/r-*.json", "--shards", "3"], environment: environment)
      #expect(finish.status == 0, "\(finish.stderr)")
    }
    let state = await jira.emulator.state()
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
