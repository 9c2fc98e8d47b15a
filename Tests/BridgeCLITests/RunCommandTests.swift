import BridgeCore
import BridgeTestSupport
import Foundation
import Runner
import Testing

@testable import BridgeCLI

/// The pure parts of `run`: selection, exit policy, stale reports, output relay, heartbeat.
@Suite struct RunCommandTests {
  @Test(arguments: [
    ("testomatio:jira=SHOP-7", "jira", "SHOP-7"),
    ("testomatio:jira-ticket=SHOP-7", "jira", "SHOP-7"),
    ("testomatio:tag-name=smoke", "tag", "smoke"),
    ("testomatio:tag=smoke", "tag", "smoke"),
    ("testomatio:plan-id=a1b2", "plan", "a1b2"),
    ("testomatio:plan=a1b2", "plan", "a1b2"),
    ("testomatio:label=release:4.2", "label", "release:4.2"),
    ("jira=SHOP-7", "jira", "SHOP-7"),
    ("Testomatio:JIRA = SHOP-7 ", "jira", "SHOP-7"),
  ])
  func filtersAcceptOurAndTheOfficialSpellings(text: String, type: String, id: String) throws {
    #expect(try RunSelection.parseFilter(text) == RunSelection.Filter(type: type, id: id))
  }

  @Test(arguments: ["testomatio:suite=x", "testomatio:jira=", "jira", "", "other:tag=x"])
  func badFiltersAreUsageErrors(text: String) {
    #expect(throws: CLIError.self) { try RunSelection.parseFilter(text) }
    do {
      _ = try RunSelection.parseFilter(text)
    } catch {
      #expect(error.exitStatus == .usage)
      #expect(error.message.contains("'--filter <FILTER>'"))
    }
  }

  @Test func grepIsSubstitutedInEveryWordAndEmptyWithoutASelection() {
    let words = ["npx", "playwright", "test", "--grep", "{grep}", "--project={grep}-x"]
    #expect(
      RunSelection.substitute(words, grep: "T1a2b3c4d|T5e6f7a8b")
        == ["npx", "playwright", "test", "--grep", "T1a2b3c4d|T5e6f7a8b", "--project=T1a2b3c4d|T5e6f7a8b-x"])
    #expect(RunSelection.substitute(words, grep: nil)[4] == "")
  }

  @Test func theCommandGetsTheRunAndTheGrepInBothNames() {
    #expect(
      RunSelection.childEnvironment(runID: "r1", grep: "T1a2b3c4d")
        == ["TESTOMATIO_RUN": "r1", "TESTBRIDGE_GREP": "T1a2b3c4d", "grep": "T1a2b3c4d"])
    #expect(RunSelection.childEnvironment(runID: nil, grep: nil).isEmpty)
  }

  static func totals(failed: Int = 0, passed: Int = 1) -> RunTotals {
    var totals = RunTotals()
    for _ in 0..<passed { totals.add(outcome: .passed) }
    for _ in 0..<failed { totals.add(outcome: .failed) }
    return totals
  }

  @Test(arguments: [
    // termination, failed tests, report problem, delivery failed, strict -> exit
    (ChildTermination.exited(0), 0, false, false, false, Int32(0)),
    (.exited(0), 1, false, false, false, 1),
    (.exited(3), 1, false, false, false, 3),
    (.exited(3), 0, false, true, true, 3),
    (.exited(0), 0, false, true, false, 0),
    (.exited(0), 0, false, true, true, 4),
    (.exited(0), 1, false, true, true, 1),
    (.exited(0), 0, true, false, false, 3),
    (.timedOut(signal: SIGTERM), 0, false, false, false, 124),
    (.timedOut(signal: SIGKILL), 1, false, false, false, 124),
    (.notFound("command not found: 'x'"), 0, false, false, true, 127),
    (.failedToStart("permission denied: 'x'"), 0, false, false, false, 126),
    (.signaled(SIGTERM), 0, false, false, false, 143),
    (.signaled(SIGKILL), 1, false, false, false, 137),
  ])
  func exitPolicy(
    termination: ChildTermination, failed: Int, problems: Bool, deliveryFailed: Bool, strict: Bool, code: Int32
  ) {
    let status = RunExitPolicy.status(
      termination: termination, totals: Self.totals(failed: failed), reportProblems: problems,
      deliveryFailed: deliveryFailed, strict: strict)
    #expect(status.rawValue == code)
  }

  @Test func reportsOlderThanTheStartSecondAreStale() throws {
    let directory = try ProjectPaths.temporaryDirectory("run-reports")
    defer { try? FileManager.default.removeItem(at: directory) }
    for name in ["a.xml", "b.xml", "c.xml"] {
      try "<testsuite/>".write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }
    let start = Date(timeIntervalSince1970: 1_700_000_000.6)
    let times: [String: Date] = [
      "a.xml": Date(timeIntervalSince1970: 1_699_999_000),  // long before
      "b.xml": Date(timeIntervalSince1970: 1_700_000_000),  // same second, coarse timestamp
      "c.xml": Date(timeIntervalSince1970: 1_700_000_005),
    ]
    let pattern = directory.path + "/*.xml"
    let reports = RunReports.collect([pattern], startedAt: start, includeStale: false) { path in
      times[(path as NSString).lastPathComponent]
    }
    #expect(reports.stale.map { ($0 as NSString).lastPathComponent } == ["a.xml"])
    #expect(reports.files.map { ($0 as NSString).lastPathComponent } == ["b.xml", "c.xml"])
    let all = RunReports.collect([pattern], startedAt: start, includeStale: true) { path in
      times[(path as NSString).lastPathComponent]
    }
    #expect(all.files.count == 3 && all.stale.isEmpty)
    let none = RunReports.collect([directory.path + "/none/*.xml"], startedAt: start, includeStale: false)
    #expect(none.files.isEmpty && none.problems == [.noMatch(pattern: directory.path + "/none/*.xml")])
  }

  @Test func relayKeepsSplitCharactersWhole() {
    let out = MemorySink()
    let err = MemorySink()
    let relay = ChildOutputRelay(stdout: out, stderr: err)
    let bytes = Array("größe ✓\n".utf8)
    // Split inside "ö" (2 bytes) and inside "✓" (3 bytes).
    relay.stdout(Array(bytes[0..<3]))
    relay.stdout(Array(bytes[3..<9]))
    relay.stdout(Array(bytes[9...]))
    relay.stderr(Array("e".utf8))
    relay.finish()
    #expect(out.text == "größe ✓\n")
    #expect(err.text == "e")
  }

  @Test func heartbeatSpeaksOnlyAfterFifteenQuietSeconds() {
    var heartbeat = Heartbeat()
    let start = ContinuousClock.now
    #expect(heartbeat.tick(now: start + .seconds(14), started: start, lastOutput: start) == nil)
    #expect(heartbeat.tick(now: start + .seconds(15), started: start, lastOutput: start) == "testbridge: still running, 15s\n")
    #expect(heartbeat.tick(now: start + .seconds(20), started: start, lastOutput: start) == nil)
    #expect(
      heartbeat.tick(now: start + .seconds(135), started: start, lastOutput: start) == "testbridge: still running, 2m 15s\n")
    // Output resets the quiet period.
    #expect(heartbeat.tick(now: start + .seconds(145), started: start, lastOutput: start + .seconds(140)) == nil)
    #expect(Heartbeat.elapsed(.seconds(3723)) == "1h 2m 3s")
  }

  @Test func commandLinesAreShownAsAShellWouldNeedThem() {
    #expect(CommandLineText.display(["npx", "jest", "--ci"]) == "npx jest --ci")
    #expect(CommandLineText.display(["sh", "-c", "echo 'hi' there", ""]) == "sh -c 'echo '\\''hi'\\'' there' ''")
    #expect(CommandLineText.display(["pytest", "-k", "{grep}"]) == "pytest -k {grep}")
  }

  @Test func defaultTitleNamesBranchAndCommitWhenKnown() {
    let ci = CIEnvironment(provider: .githubActions, branch: "main", commit: "0123456789abcdef")
    #expect(CommandLineText.title("npm test", ci: ci) == "npm test (main @ 0123456)")
    #expect(CommandLineText.title("npm test", ci: CIEnvironment(provider: .local)) == "npm test")
    let long = String(repeating: "x", count: 100)
    #expect(CommandLineText.title(long, ci: CIEnvironment(provider: .local)).count == 80)
  }

  @Test func defaultsComputedAtRunTimeLoseToFlagsAndEnvironment() throws {
    let spec = RunCommand.spec
    let bare = try ArgumentParser.parse(["--", "true"], spec: spec, environment: [:]).defaulting("title", to: "npm test")
    #expect(bare.value("title") == "npm test")
    let flagged = try ArgumentParser.parse(["--title", "Nightly", "--", "true"], spec: spec, environment: [:])
      .defaulting("title", to: "npm test")
    #expect(flagged.value("title") == "Nightly")
    let environment = try ArgumentParser.parse(["--", "true"], spec: spec, environment: ["TESTOMATIO_TITLE": "From CI"])
      .defaulting("title", to: "npm test")
    #expect(environment.value("title") == "From CI")
  }

  @Test func testomatioCIInputRunIsReadAfterTestomatioRun() throws {
    let spec = RunCommand.spec
    let input = try ArgumentParser.parse(["--", "true"], spec: spec, environment: ["run": "r-input"])
    #expect(input.value("run") == "r-input")
    let both = try ArgumentParser.parse(
      ["--", "true"], spec: spec, environment: ["run": "r-input", "TESTOMATIO_RUN": "r-env"])
    #expect(both.value("run") == "r-env")
    let grep = try ArgumentParser.parse(["--", "true"], spec: spec, environment: ["grep": "T1a2b3c4d"])
    #expect(grep.value("grep") == "T1a2b3c4d")
  }

  @Test func settingsRejectBadDurations() throws {
    let spec = RunCommand.spec
    for bad in [["--timeout", "0"], ["--timeout", "soon"], ["--grace", "-1"]] {
      let parsed = try ArgumentParser.parse(bad + ["--", "true"], spec: spec, environment: [:])
      #expect(throws: CLIError.self) { try RunSettings(parsed) }
    }
    let parsed = try ArgumentParser.parse(["--timeout", "1.5", "--grace", "0", "--", "true"], spec: spec, environment: [:])
    let settings = try RunSettings(parsed)
    #expect(settings.timeout == .milliseconds(1500))
    #expect(settings.grace == .zero)
    #expect(settings.timeoutText == "1.5s")
  }
}
