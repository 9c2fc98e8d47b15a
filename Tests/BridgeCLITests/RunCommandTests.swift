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
      reportingFailed: deliveryFailed, strict: strict)
    #expect(status.rawValue == code)
  }

  /// Sets a file's modification time exactly (seconds and nanoseconds since 1970).
  static func setModificationTime(_ path: String, seconds: Int, nanoseconds: Int) throws {
    var times = [
      timespec(tv_sec: seconds, tv_nsec: nanoseconds), timespec(tv_sec: seconds, tv_nsec: nanoseconds),
    ]
    guard utimensat(AT_FDCWD, path, &times, 0) == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
  }

  @Test func reportsModifiedBeforeTheStartAreStaleAtFullResolution() throws {
    let directory = try ProjectPaths.temporaryDirectory("run-reports")
    defer { try? FileManager.default.removeItem(at: directory) }
    let second = 1_700_000_000
    let start = Date(timeIntervalSince1970: Double(second) + 0.6)
    let times: [(name: String, seconds: Int, nanoseconds: Int)] = [
      ("long-before.xml", second - 1000, 500_000_000),
      ("half-a-second-before.xml", second, 100_000_000),  // the same second, yet 0.5 s early: stale
      ("twenty-ms-before.xml", second, 580_000_000),
      ("five-ms-before.xml", second, 595_000_000),  // within the file clock's 10 ms tolerance
      ("just-after.xml", second, 600_100_000),
      ("whole-second-same.xml", second, 0),  // a seconds-only file system: the start's own second
      ("whole-second-before.xml", second - 1, 0),
      ("later.xml", second + 5, 0),
    ]
    for file in times {
      let path = directory.appendingPathComponent(file.name).path
      try "<testsuite/>".write(toFile: path, atomically: true, encoding: .utf8)
      try Self.setModificationTime(path, seconds: file.seconds, nanoseconds: file.nanoseconds)
      let read = try #require(RunReports.modificationTime(path))
      #expect(read == RunReports.FileTime(seconds: file.seconds, nanoseconds: file.nanoseconds))
    }
    let pattern = directory.path + "/*.xml"
    let reports = RunReports.collect([pattern], startedAt: start, includeStale: false)
    let names = { (paths: [String]) in Set(paths.map { ($0 as NSString).lastPathComponent }) }
    #expect(
      names(reports.stale) == ["long-before.xml", "half-a-second-before.xml", "twenty-ms-before.xml", "whole-second-before.xml"])
    #expect(names(reports.files) == ["five-ms-before.xml", "just-after.xml", "whole-second-same.xml", "later.xml"])
    let all = RunReports.collect([pattern], startedAt: start, includeStale: true)
    #expect(all.files.count == times.count && all.stale.isEmpty)
    let none = RunReports.collect([directory.path + "/none/*.xml"], startedAt: start, includeStale: false)
    #expect(none.files.isEmpty && none.problems == [.noMatch(pattern: directory.path + "/none/*.xml")])
  }

  @Test func relayPassesBytesThroughUnchanged() throws {
    let directory = try ProjectPaths.temporaryDirectory("run-relay")
    defer { try? FileManager.default.removeItem(at: directory) }
    let outPath = directory.appendingPathComponent("out").path
    let errPath = directory.appendingPathComponent("err").path
    var out: FileDescriptorSink? = try FileDescriptorSink(path: outPath)
    var err: FileDescriptorSink? = try FileDescriptorSink(path: errPath)
    let relay = ChildOutputRelay(stdout: try #require(out), stderr: try #require(err))
    let text = Array("größe ✓\n".utf8)
    // Invalid UTF-8 (a lone 0xFF, a truncated sequence), and characters split across chunks.
    let chunks: [[UInt8]] = [[0x61, 0xFF, 0x62, 0xC3, 0x28], Array(text[0..<3]), Array(text[3..<9]), Array(text[9...])]
    for chunk in chunks { relay.stdout(chunk) }
    relay.stderr([0xE2, 0x9C])
    relay.stderr([0x93, 0xFE])
    relay.finish()
    out = nil
    err = nil
    #expect(try Data(contentsOf: URL(fileURLWithPath: outPath)) == Data(chunks.joined()))
    #expect(try Data(contentsOf: URL(fileURLWithPath: errPath)) == Data([0xE2, 0x9C, 0x93, 0xFE]))

    // Text sinks keep the bytes too, and decode them as a whole.
    let memory = MemorySink()
    let memoryRelay = ChildOutputRelay(stdout: memory, stderr: MemorySink())
    memoryRelay.stdout(Array(text[0..<3]))
    memoryRelay.stdout(Array(text[3...]))
    #expect(memory.text == "größe ✓\n")
    #expect(memory.bytes == text)
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
