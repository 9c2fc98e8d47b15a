import BridgeTestSupport
import Foundation
import Sandbox
import Testing

/// `testbridge manual` as a tester and CI use it: the real binary, plans and
/// answers on disk, the in-process sandbox as Testomat.io.
@Suite(.serialized) struct ManualEndToEndTests {
  static let plan = """
    # Checkout release plan
    Run against staging.

    ## Login works @T1a2b3c4d @SHOP-12
    1. Open the login page
       Expected: the form is shown

    ## Checkout total @SHOP-7
    1. Add two items to the cart
    2. Open the cart
       Expected: the total is the sum of both prices

    ## Receipt by email
    1. Pay
       Expected: a receipt arrives

    """

  static let answers = """
    # release 4.2, staging
    pass  @T1a2b3c4d
    fail  Checkout total — note: rounding off by 1
    skip  Receipt by email note: mail server down

    """

  struct Workspace {
    let directory: URL
    let sandbox: ReportEndToEndTests.Sandbox

    static func make() async throws -> Workspace {
      let directory = try ProjectPaths.temporaryDirectory("manual-e2e")
      try ManualEndToEndTests.plan.write(to: directory.appendingPathComponent("plan.md"), atomically: true, encoding: .utf8)
      try ManualEndToEndTests.answers.write(
        to: directory.appendingPathComponent("answers.txt"), atomically: true, encoding: .utf8)
      return Workspace(directory: directory, sandbox: try await ReportEndToEndTests.Sandbox.start())
    }

    func testbridge(_ arguments: [String], _ extra: [String: String] = [:]) async throws -> ProcessOutput {
      try await ChildProcess.testbridgeAsync(arguments, environment: sandbox.environment(extra), directory: directory)
    }

    func stop() async {
      await sandbox.stop()
      try? FileManager.default.removeItem(at: directory)
    }
  }

  @Test func answersFileIsReportedAsAManualRunAndWrittenAsJUnit() async throws {
    let workspace = try await Workspace.make()
    defer { Task { await workspace.stop() } }
    let output = try await workspace.testbridge(
      ["manual", "plan.md", "--answers", "answers.txt", "--junit-out", "manual.xml", "--title", "Release 4.2"])
    #expect(output.status == 1, "a failed verdict is a failed test: \(output.stderr)")
    let state = await workspace.sandbox.server.emulator.state()
    let run = try #require(state.runs.first)
    #expect(state.runs.count == 1)
    #expect(run.kind == "manual")
    #expect(run.title == "Release 4.2")
    #expect(run.finished && run.statusEvents == ["fail"])
    #expect(run.results.count == 3)
    let login = try #require(run.results.first { $0.title == "Login works" })
    #expect(login.status == "passed")
    #expect(login.testID == "1a2b3c4d")
    #expect(login.test["links"] == .array([.object(["jira": .string("SHOP-12")])]))
    let total = try #require(run.results.first { $0.title == "Checkout total" })
    #expect(total.status == "failed")
    #expect(total.test["message"]?.stringValue == "rounding off by 1")
    #expect(run.results.first { $0.title == "Receipt by email" }?.status == "skipped")
    #expect(output.stdout.contains("testbridge manual: Checkout release plan, 3 tests"))
    #expect(output.stdout.contains("rounding off by 1"))

    let parsed = try await ChildProcess.testbridgeAsync(
      ["parse", "--format", "json", "manual.xml"], directory: workspace.directory)
    #expect(parsed.status == 0, "\(parsed.stderr)")
    #expect(parsed.stdout.contains("\"tests\": 3, \"passed\": 1, \"failed\": 1, \"errors\": 0, \"skipped\": 1"))
    #expect(parsed.stdout.contains("\"testomatio_id\": \"1a2b3c4d\", \"jira\": [\"SHOP-12\"]"))
    #expect(parsed.stdout.contains("\"jira\": [\"SHOP-7\"]"))
  }

  @Test func withoutATerminalAndWithoutAnswersItStopsAtOnce() async throws {
    let workspace = try await Workspace.make()
    defer { Task { await workspace.stop() } }
    let started = ContinuousClock.now
    let output = try await workspace.testbridge(["manual", "plan.md"])
    #expect(output.status == 64)
    #expect(output.stderr.contains("standard input is not a terminal and no answers file was given"))
    #expect(output.stderr.contains("--answers FILE"))
    #expect(ContinuousClock.now - started < .seconds(10))
    #expect(await workspace.sandbox.server.emulator.state().runs.isEmpty)
  }

  @Test func badAnswersNameTheFileAndLine() async throws {
    let workspace = try await Workspace.make()
    defer { Task { await workspace.stop() } }
    try "pass Login works\nmaybe Checkout total\n".write(
      to: workspace.directory.appendingPathComponent("bad.txt"), atomically: true, encoding: .utf8)
    let output = try await workspace.testbridge(["manual", "plan.md", "--answers", "bad.txt"])
    #expect(output.status == 1)
    #expect(output.stderr.contains("error: bad.txt:2: unknown outcome 'maybe'"))
  }

  @Test func runAndManualReportIntoOneMixedRun() async throws {
    let workspace = try await Workspace.make()
    defer { Task { await workspace.stop() } }
    let start = try await workspace.testbridge(["start", "--kind", "mixed", "--title", "Release 4.2"])
    #expect(start.status == 0, "\(start.stderr)")
    let uid = try #require(start.stdout.split(separator: "\n").last.map(String.init))
    let shared = ["TESTOMATIO_RUN": uid]

    let automated = try await workspace.testbridge(
      ["run", "--proceed", "--junit", "reports/*.xml", "--"] + RunEndToEndTests.writesReport(failing: false), shared)
    #expect(automated.status == 0, "\(automated.stderr)")
    let manual = try await workspace.testbridge(["manual", "plan.md", "--answers", "answers.txt", "--proceed"], shared)
    #expect(manual.status == 1)
    var run = try #require(await workspace.sandbox.server.emulator.state().run(uid))
    #expect(!run.finished)
    let finish = try await workspace.testbridge(["finish"], shared)
    #expect(finish.status == 0, "\(finish.stderr)")

    let state = await workspace.sandbox.server.emulator.state()
    run = try #require(state.run(uid))
    #expect(state.runs.count == 1)
    #expect(run.kind == "mixed", "joining keeps the run's kind")
    #expect(run.title == "Release 4.2")
    #expect(run.results.count == 5)
    #expect(run.finished && run.finishCount == 1)
  }

  @Test func aDryRunExitsByTheVerdictsLikeRun() async throws {
    let workspace = try await Workspace.make()
    defer { Task { await workspace.stop() } }
    let output = try await workspace.testbridge(["manual", "plan.md", "--answers", "answers.txt", "--dry-run"])
    #expect(output.status == 1, "a failed verdict fails a dry run too: \(output.stderr)")
    #expect(await workspace.sandbox.server.emulator.state().runs.isEmpty)
  }

  @Test func undeliveredResultsAreAWarningUnlessStrict() async throws {
    let workspace = try await Workspace.make()
    defer { Task { await workspace.stop() } }
    try "pass Login works\npass Checkout total\npass Receipt by email\n".write(
      to: workspace.directory.appendingPathComponent("green.txt"), atomically: true, encoding: .utf8)
    await workspace.sandbox.server.emulator.setFaults([
      SandboxFault(method: "POST", pathPrefix: "/api/reporter", status: 503, times: 100_000)
    ])
    let quick = ["TESTOMATIO_REQUEST_TIMEOUT": "500"]
    let lenient = try await workspace.testbridge(["manual", "plan.md", "--answers", "green.txt"], quick)
    #expect(lenient.status == 0, "\(lenient.stderr)")
    #expect(lenient.stderr.contains("pass --strict to exit 4"))
    let strict = try await workspace.testbridge(["manual", "plan.md", "--answers", "green.txt", "--strict"], quick)
    #expect(strict.status == 4, "\(strict.stderr)")
    #expect(strict.stderr.contains("testbridge flush"))
    let red = try await workspace.testbridge(["manual", "plan.md", "--answers", "answers.txt", "--strict"], quick)
    #expect(red.status == 1, "a failed verdict stays a failure")
    // An unwritable --junit-out is reporting trouble as well.
    await workspace.sandbox.server.emulator.setFaults([])
    let junit = try await workspace.testbridge(
      ["manual", "plan.md", "--answers", "green.txt", "--junit-out", "missing/dir/out.xml"], quick)
    #expect(junit.status == 0, "\(junit.stderr)")
    #expect(junit.stderr.contains("warning: cannot write '"))
    let strictJUnit = try await workspace.testbridge(
      ["manual", "plan.md", "--answers", "green.txt", "--junit-out", "missing/dir/out.xml", "--strict"], quick)
    #expect(strictJUnit.status == 4, "\(strictJUnit.stderr)")
  }

  @Test func aNewRunIsTitledAfterThePlanWithTheCIsBranchAndCommit() async throws {
    let workspace = try await Workspace.make()
    defer { Task { await workspace.stop() } }
    let ci = ["GITLAB_CI": "true", "CI_COMMIT_REF_NAME": "release/4.2", "CI_COMMIT_SHA": "0123456789abcdef"]
    let output = try await workspace.testbridge(["manual", "plan.md", "--answers", "answers.txt"], ci)
    #expect(output.status == 1, "\(output.stderr)")
    let run = try #require(await workspace.sandbox.server.emulator.state().runs.first)
    #expect(run.title == "Checkout release plan (release/4.2 @ 0123456)")
    #expect(run.kind == "manual")
  }

  @Test func testomatioCIInputRunIsJoined() async throws {
    let workspace = try await Workspace.make()
    defer { Task { await workspace.stop() } }
    let start = try await workspace.testbridge(["start", "--kind", "mixed", "--title", "From Testomat.io"])
    #expect(start.status == 0, "\(start.stderr)")
    let uid = try #require(start.stdout.split(separator: "\n").last.map(String.init))
    let output = try await workspace.testbridge(["manual", "plan.md", "--answers", "answers.txt"], ["run": uid])
    #expect(output.status == 1, "\(output.stderr)")
    let state = await workspace.sandbox.server.emulator.state()
    #expect(state.runs.count == 1, "the run named by the CI input was joined")
    let run = try #require(state.run(uid))
    #expect(run.results.count == 3)
    #expect(run.title == "From Testomat.io" && run.kind == "mixed")
  }

  /// A real pseudo-terminal through util-linux `script`, when it is installed.
  @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script")))
  func interactiveSessionThroughAPseudoTerminal() async throws {
    let workspace = try await Workspace.make()
    defer { Task { await workspace.stop() } }
    let binary = ChildProcess.testbridgeBinary.path
    let output = try await Self.runDetached(
      URL(fileURLWithPath: "/usr/bin/script"),
      ["-qec", "\(binary) manual plan.md --junit-out tty.xml", "/dev/null"],
      environment: workspace.sandbox.environment(["PATH": "/usr/local/bin:/usr/bin:/bin", "TERM": "dumb"]),
      directory: workspace.directory, stdin: "p\nf wrong total\ns\n")
    #expect(output.status == 1, "\(output.stdout)")
    #expect(output.stdout.contains("[1/3] Login works"))
    #expect(output.stdout.contains("[3/3] Receipt by email"))
    let run = try #require(await workspace.sandbox.server.emulator.state().runs.first)
    #expect(run.kind == "manual")
    #expect(run.results.first { $0.title == "Checkout total" }?.test["message"]?.stringValue == "wrong total")
    #expect(FileManager.default.fileExists(atPath: workspace.directory.appendingPathComponent("tty.xml").path))
    #expect(
      !FileManager.default.fileExists(atPath: workspace.directory.appendingPathComponent(".plan.md.progress.json").path),
      "a finished session leaves no progress file")
  }

  static func runDetached(
    _ executable: URL, _ arguments: [String], environment: [String: String], directory: URL, stdin: String
  ) async throws -> ProcessOutput {
    try await ChildProcess.runAsync(executable, arguments, environment: environment, directory: directory, stdin: stdin)
  }

}
