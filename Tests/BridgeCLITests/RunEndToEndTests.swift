import BridgeTestSupport
import Foundation
import Sandbox
import Testing

/// `testbridge run` as CI runs it: the real binary starting real `/bin/sh`
/// children, reporting over HTTP on 127.0.0.1 to the in-process sandbox.
@Suite(.serialized) struct RunEndToEndTests {
  static let apiKey = ReportEndToEndTests.apiKey

  /// A JUnit report with one passing and, optionally, one failing testcase.
  static func junit(failing: Bool, suite: String = "checkout") -> String {
    var xml = "<testsuite name=\"\(suite)\" tests=\"2\">"
    xml += "<testcase classname=\"cart\" name=\"adds items\" time=\"0.5\" file=\"tests/cart_test.sh\" line=\"3\"/>"
    if failing {
      xml += "<testcase classname=\"cart\" name=\"total with tax\" time=\"0.25\" file=\"tests/cart_test.sh\" line=\"12\">"
      xml += "<failure message=\"expected 110 but got 100\">tests/cart_test.sh:12</failure></testcase>"
    } else {
      xml += "<testcase classname=\"cart\" name=\"total with tax\" time=\"0.25\"/>"
    }
    return xml + "</testsuite>\n"
  }

  /// A `/bin/sh` script that writes `reports/<name>` with `junit(failing:)` and exits `status`.
  static func writesReport(failing: Bool, status: Int32 = 0, name: String = "junit.xml", extra: String = "") -> [String] {
    let xml = junit(failing: failing)
    return ["/bin/sh", "-c", "mkdir -p reports && cat > reports/\(name) <<'EOF'\n\(xml)EOF\n\(extra)\nexit \(status)"]
  }

  /// A working directory for one test, and the sandbox when it needs one.
  struct Workspace {
    let directory: URL
    let sandbox: ReportEndToEndTests.Sandbox?

    static func make(sandbox: Bool = true) async throws -> Workspace {
      Workspace(
        directory: try ProjectPaths.temporaryDirectory("run-e2e"),
        sandbox: sandbox ? try await ReportEndToEndTests.Sandbox.start() : nil)
    }

    func testbridge(_ arguments: [String], _ extra: [String: String] = [:]) async throws -> ProcessOutput {
      let environment = sandbox?.environment(extra) ?? extra
      return try await ChildProcess.testbridgeAsync(arguments, environment: environment, directory: directory)
    }

    func file(_ name: String) -> URL { directory.appendingPathComponent(name) }

    func read(_ name: String) throws -> String { try String(contentsOf: file(name), encoding: .utf8) }

    func stop() async {
      await sandbox?.stop()
      try? FileManager.default.removeItem(at: directory)
    }

    var state: SandboxState {
      get async throws { try #require(await sandbox?.server.emulator.state()) }
    }
  }

  // MARK: - Exit codes

  @Test func failingTestInTheReportMakesAZeroExitOne() async throws {
    let workspace = try await Workspace.make(sandbox: false)
    defer { Task { await workspace.stop() } }
    let output = try await workspace.testbridge(
      ["run", "--junit", "reports/*.xml", "--"] + Self.writesReport(failing: true, extra: "echo child says hi"))
    #expect(output.status == 1, "\(output.stderr)")
    #expect(output.stdout.hasPrefix("child says hi\n"))
    #expect(output.stdout.contains("failed       1"))
    #expect(output.stdout.contains("total with tax"))
    #expect(output.stdout.contains("Testomat.io reporting is off"))
  }

  @Test func theCommandsOwnNonZeroStatusWins() async throws {
    let workspace = try await Workspace.make(sandbox: false)
    defer { Task { await workspace.stop() } }
    let output = try await workspace.testbridge(
      ["run", "--junit", "reports/*.xml", "--"] + Self.writesReport(failing: true, status: 3))
    #expect(output.status == 3)
    #expect(output.stdout.contains("exited with status 3"))
  }

  @Test func passingReportAndZeroExitIsZero() async throws {
    let workspace = try await Workspace.make(sandbox: false)
    defer { Task { await workspace.stop() } }
    let output = try await workspace.testbridge(
      ["run", "--junit", "reports/*.xml", "--"] + Self.writesReport(failing: false))
    #expect(output.status == 0, "\(output.stderr)")
    #expect(output.stdout.contains("passed       2"))
  }

  @Test func missingCommandIs127WithAClearMessage() async throws {
    let workspace = try await Workspace.make(sandbox: false)
    defer { Task { await workspace.stop() } }
    let output = try await workspace.testbridge(["run", "--", "testbridge-no-such-tool", "--flag"])
    #expect(output.status == 127)
    #expect(output.stderr.contains("error: command not found: 'testbridge-no-such-tool'"))
  }

  @Test func timeoutStopsTheCommandQuicklyWith124() async throws {
    let workspace = try await Workspace.make(sandbox: false)
    defer { Task { await workspace.stop() } }
    let started = ContinuousClock.now
    let output = try await workspace.testbridge(["run", "--timeout", "1", "--", "sleep", "30"])
    let elapsed = ContinuousClock.now - started
    #expect(output.status == 124)
    #expect(output.stderr.contains("error: the command timed out after 1s and was stopped with SIGTERM (exit 124)"))
    #expect(elapsed < .seconds(10), "took \(elapsed)")
  }

  @Test func commandKilledBySignalGives128PlusN() async throws {
    let workspace = try await Workspace.make(sandbox: false)
    defer { Task { await workspace.stop() } }
    let output = try await workspace.testbridge(["run", "--", "/bin/sh", "-c", "kill -9 $$"])
    #expect(output.status == 137)
    #expect(output.stderr.contains("killed by SIGKILL"))
  }

  @Test func megabytesOfOutputStreamThroughWhileTheCommandRuns() async throws {
    let workspace = try await Workspace.make(sandbox: false)
    defer { Task { await workspace.stop() } }
    let size = 6 * 1024 * 1024
    let go = workspace.file("go")
    // After the megabytes and a line, the command waits for a file the test creates only
    // once that line has reached testbridge's stdout (it gives up, exit 3, after 60 s).
    let script = """
      head -c \(size) /dev/zero | tr '\\000' x; echo; head -c \(size) /dev/zero | tr '\\000' y >&2
      echo ready
      i=0; while [ ! -e go ]; do i=$((i + 1)); [ $i -gt 1200 ] && exit 3; sleep 0.05; done
      echo end
      """
    let launched = try LaunchedTestbridge(
      ["run", "--", "/bin/sh", "-c", script], directory: workspace.directory,
      onStdout: StdoutWatch(waitingFor: "\nready\n") { _ = FileManager.default.createFile(atPath: go.path, contents: nil) })
    let output = await launched.wait()
    #expect(output.status == 0, "the line did not arrive while the command ran: \(output.stderr.suffix(300))")
    #expect(output.stdout.hasPrefix(String(repeating: "x", count: size) + "\nready\nend\n"))
    #expect(output.stderr.hasPrefix(String(repeating: "y", count: size)))
  }

  @Test func outputIsRelayedByteForByte() async throws {
    let workspace = try await Workspace.make(sandbox: false)
    defer { Task { await workspace.stop() } }
    // Invalid UTF-8 on both streams; "✓" (E2 9C 93) split by a pause between two writes.
    let launched = try LaunchedTestbridge(
      ["run", "--", "/bin/sh", "-c", #"printf 'a\377b\303('; printf '\342\234'; sleep 0.3; printf '\223\n'; printf '\376\n' >&2"#],
      directory: workspace.directory)
    let output = await launched.wait()
    #expect(output.status == 0, "\(output.stderr)")
    let expected: [UInt8] = [0x61, 0xFF, 0x62, 0xC3, 0x28, 0xE2, 0x9C, 0x93, 0x0A]
    #expect(Array(output.stdoutBytes.prefix(expected.count)) == expected)
    #expect(Array(output.stderrBytes.prefix(2)) == [0xFE, 0x0A])
  }

  @Test func commandsStartWithDefaultSignalDispositions() async throws {
    let workspace = try await Workspace.make(sandbox: false)
    defer { Task { await workspace.stop() } }
    let output = try await workspace.testbridge(
      ["run", "--", "/bin/sh", "-c", "yes | head -1; grep SigIgn /proc/self/status"])
    #expect(output.status == 0, "\(output.stderr)")
    #expect(!output.stderr.contains("Broken pipe"), "yes must end quietly by SIGPIPE")
    #expect(output.stdout.hasPrefix("y\n"))
    let ignored = try #require(Self.ignoredSignals(in: output.stdout))
    for signal in [SIGPIPE, SIGINT, SIGTERM] {
      #expect(ignored & (1 << UInt64(signal - 1)) == 0, "signal \(signal) is ignored in the command")
    }
  }

  /// The `SigIgn` mask of a `/proc/<pid>/status` line in `text` (bit N-1 for signal N).
  static func ignoredSignals(in text: String) -> UInt64? {
    guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("SigIgn:") }) else { return nil }
    return UInt64(line.dropFirst("SigIgn:".count).trimmingCharacters(in: .whitespaces), radix: 16)
  }

  @Test func sigtermToTestbridgeReachesTheGrandchild() async throws {
    let workspace = try await Workspace.make(sandbox: false)
    defer { Task { await workspace.stop() } }
    // The grandchild (a foreground `sh` in the command's group) writes the signal it catches;
    // the leader traps it too, so a signal to the leader alone would leave no marker (the
    // grandchild would run on until the SIGKILL after --grace).
    let grandchild = """
      trap 'echo TERM > marker; exit 0' TERM
      echo $$ > grandchild.pid
      while :; do sleep 0.05; done

      """
    try grandchild.write(to: workspace.file("grandchild.sh"), atomically: true, encoding: .utf8)
    let launched = try LaunchedTestbridge(
      ["run", "--grace", "30", "--", "/bin/sh", "-c", "trap 'exit 7' TERM; /bin/sh grandchild.sh; exit 9"],
      directory: workspace.directory)
    let pid = try await Self.waitForPID(in: workspace.file("grandchild.pid"))
    #expect(ProcessLiveness.isAlive(pid))
    kill(launched.pid, SIGTERM)
    let output = await launched.wait()
    #expect(output.status == 7, "\(output.stderr)")
    #expect(output.stderr.contains("passing SIGTERM to the command"))
    #expect(try workspace.read("marker") == "TERM\n", "the grandchild did not get SIGTERM")
    #expect(await ProcessLiveness.waitUntilGone(pid), "the grandchild outlived the run")
  }

  @Test func timeoutWaitsTheGraceBeforeSigkill() async throws {
    let workspace = try await Workspace.make(sandbox: false)
    defer { Task { await workspace.stop() } }
    let started = ContinuousClock.now
    let output = try await workspace.testbridge(
      ["run", "--timeout", "2", "--grace", "1.5", "--", "perl", "-e", Self.survivesTerm])
    let elapsed = ContinuousClock.now - started
    // The 2 s timeout leaves the shell time to set its trap even on a loaded machine.
    #expect(output.status == 124)
    #expect(output.stdout.contains("got TERM"))
    #expect(output.stderr.contains("timed out after 2s and was stopped with SIGKILL (exit 124)"))
    #expect(elapsed >= .seconds(3.5), "SIGKILL came \(elapsed) after the start, before the grace period ended")
  }

  /// Notes SIGTERM on stdout and carries on until killed. Perl rather than a shell
  /// loop: `sleep` in a shell loop forks, and a loaded machine once saw the shell
  /// end within the grace period after the group's SIGTERM.
  static let survivesTerm = "$| = 1; $SIG{TERM} = sub { print \"got TERM\\n\" }; select(undef, undef, undef, 0.05) while 1;"

  // MARK: - Reports

  @Test func staleReportsAreSkippedAndNamedUnlessIncluded() async throws {
    let workspace = try await Workspace.make(sandbox: false)
    defer { Task { await workspace.stop() } }
    let reports = workspace.file("reports")
    try FileManager.default.createDirectory(at: reports, withIntermediateDirectories: true)
    let old = reports.appendingPathComponent("old.xml")
    try Self.junit(failing: true, suite: "yesterday").write(to: old, atomically: true, encoding: .utf8)
    try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -3600)], ofItemAtPath: old.path)

    let fresh = Self.writesReport(failing: false, name: "new.xml")
    let skipping = try await workspace.testbridge(["run", "--junit", "reports/*.xml", "--"] + fresh)
    #expect(skipping.status == 0, "the stale failure must not count: \(skipping.stderr)")
    #expect(skipping.stderr.contains("warning: skipped 1 stale report"))
    #expect(skipping.stderr.contains("'reports/old.xml'"))
    #expect(skipping.stdout.contains("1 report, 2 testcases"))

    try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -3600)], ofItemAtPath: old.path)
    let including = try await workspace.testbridge(["run", "--include-stale", "--junit", "reports/*.xml", "--"] + fresh)
    #expect(including.status == 1)
    #expect(!including.stderr.contains("stale"))
    #expect(including.stdout.contains("2 reports, 4 testcases"))
  }

  @Test func noReportFoundWarnsAndTheRunIsReportedByExitStatus() async throws {
    let workspace = try await Workspace.make()
    defer { Task { await workspace.stop() } }
    let failing = try await workspace.testbridge(["run", "--junit", "reports/*.xml", "--", "/bin/sh", "-c", "exit 2"])
    #expect(failing.status == 2)
    #expect(failing.stderr.contains("no file matches 'reports/*.xml'"))
    #expect(failing.stderr.contains("no JUnit report found: the run is reported by the command's exit status only"))
    let passing = try await workspace.testbridge(["run", "--junit", "reports/*.xml", "--", "/bin/sh", "-c", "exit 0"])
    #expect(passing.status == 0)
    let runs = try await workspace.state.runs
    #expect(runs.count == 2)
    #expect(runs.map(\.statusEvents) == [["fail"], ["pass"]])
    #expect(runs.allSatisfy { $0.finished && $0.results.isEmpty })
  }

  // MARK: - Testomat.io

  @Test func resultsGoToTheRunCreatedBeforeTheCommandStarted() async throws {
    let workspace = try await Workspace.make()
    defer { Task { await workspace.stop() } }
    let script = Self.writesReport(failing: true, extra: "printf '%s' \"$TESTOMATIO_RUN\" > run-id.txt")
    let output = try await workspace.testbridge(["run", "--junit", "reports/*.xml", "--"] + script)
    #expect(output.status == 1, "\(output.stderr)")
    let state = try await workspace.state
    let run = try #require(state.runs.first)
    #expect(state.runs.count == 1)
    #expect(try workspace.read("run-id.txt") == run.uid, "the command saw the run it reports into")
    #expect(run.results.count == 2)
    #expect(run.results.first { $0.title == "total with tax" }?.status == "failed")
    #expect(run.finished && run.statusEvents == ["fail"])
    #expect(run.title?.hasPrefix("/bin/sh -c") == true, "a default title from the command: \(run.title ?? "nil")")
    #expect(output.stdout.contains("Testomat.io run \(run.uid) (2 results delivered, finished)"))
    #expect(!output.stdout.contains(Self.apiKey) && !output.stderr.contains(Self.apiKey))
  }

  @Test func filterAsksTestomatioAndHandsTheGrepToTheCommand() async throws {
    let workspace = try await Workspace.make()
    defer { Task { await workspace.stop() } }
    await workspace.sandbox?.server.emulator.seedTestGrep(type: "jira", id: "SHOP-7", tests: ["1a2b3c4d", "@T5e6f7a8b"])
    let script = "printf '%s\\n' \"$1\" > arg.txt; printf '%s\\n%s\\n' \"$TESTBRIDGE_GREP\" \"$grep\" > env.txt"
    let output = try await workspace.testbridge([
      "run", "--filter", "testomatio:jira=SHOP-7", "--", "/bin/sh", "-c", script, "sh", "--grep={grep}",
    ])
    #expect(output.status == 0, "\(output.stderr)")
    #expect(try workspace.read("arg.txt") == "--grep=T1a2b3c4d|T5e6f7a8b\n")
    #expect(try workspace.read("env.txt") == "T1a2b3c4d|T5e6f7a8b\nT1a2b3c4d|T5e6f7a8b\n")
    #expect(output.stderr.contains("2 tests linked to jira 'SHOP-7'"))

    let alias = try await workspace.testbridge([
      "run", "--filter", "testomatio:jira-ticket=SHOP-7", "--", "/bin/sh", "-c", script, "sh", "{grep}",
    ])
    #expect(alias.status == 0, "\(alias.stderr)")
    #expect(try workspace.read("arg.txt") == "T1a2b3c4d|T5e6f7a8b\n")

    let nothing = try await workspace.testbridge(["run", "--filter", "testomatio:tag=none", "--", "/bin/sh", "-c", "touch ran"])
    #expect(nothing.status == 1)
    #expect(nothing.stderr.contains("links no tests to tag 'none'"))
    #expect(!FileManager.default.fileExists(atPath: workspace.file("ran").path), "nothing selected, nothing run")
  }

  @Test func testomatioCIInputsGrepAndRunAreHonoured() async throws {
    let workspace = try await Workspace.make()
    defer { Task { await workspace.stop() } }
    let uid = try #require(await workspace.sandbox?.server.emulator.seedRun(title: "Started from Jira"))
    let script = Self.writesReport(
      failing: false, extra: "printf '%s %s %s' \"$TESTOMATIO_RUN\" \"$TESTBRIDGE_GREP\" \"$1\" > seen.txt")
    let output = try await workspace.testbridge(
      ["run", "--junit", "reports/*.xml", "--"] + script + ["sh", "{grep}"], ["grep": "T1a2b3c4d", "run": uid])
    #expect(output.status == 0, "\(output.stderr)")
    #expect(try workspace.read("seen.txt") == "\(uid) T1a2b3c4d T1a2b3c4d")
    let state = try await workspace.state
    #expect(state.runs.count == 1)
    let run = try #require(state.run(uid))
    #expect(run.title == "Started from Jira", "an adopted run keeps its title")
    #expect(run.results.count == 2)
    #expect(run.statusEvents == ["pass"])
  }

  @Test func strictTurnsUndeliveredResultsIntoFourOnlyWhenTestsPassed() async throws {
    let workspace = try await Workspace.make()
    defer { Task { await workspace.stop() } }
    await workspace.sandbox?.server.emulator.setFaults([
      SandboxFault(method: "POST", pathPrefix: "/api/reporter/", status: 503, times: 100_000)
    ])
    let quick = ["TESTOMATIO_REQUEST_TIMEOUT": "500"]
    let passing = ["run", "--junit", "reports/*.xml", "--"] + Self.writesReport(failing: false)
    let strict = try await workspace.testbridge(["run", "--strict"] + Array(passing.dropFirst()), quick)
    #expect(strict.status == 4, "\(strict.stderr)")
    #expect(strict.stderr.contains("testbridge flush"))
    let lenient = try await workspace.testbridge(passing, quick)
    #expect(lenient.status == 0, "\(lenient.stderr)")
    #expect(lenient.stderr.contains("pass --strict to exit 4"))
    let failing = try await workspace.testbridge(
      ["run", "--strict", "--junit", "reports/*.xml", "--"] + Self.writesReport(failing: true), quick)
    #expect(failing.status == 1, "a red build stays red")
  }

  @Test func unwritableResultsAndJUnitFilesAreWarningsUnlessStrict() async throws {
    let workspace = try await Workspace.make(sandbox: false)
    defer { Task { await workspace.stop() } }
    let nowhere = ["--results-out", "missing/dir/results.json", "--junit-out", "missing/dir/merged.xml"]
    let passing = ["run", "--junit", "reports/*.xml"] + nowhere + ["--"] + Self.writesReport(failing: false)
    let lenient = try await workspace.testbridge(passing)
    #expect(lenient.status == 0, "\(lenient.stderr)")
    #expect(lenient.stderr.contains("warning: cannot write the results file 'missing/dir/results.json'"))
    #expect(lenient.stderr.contains("warning: cannot write '"))
    #expect(lenient.stderr.contains("pass --strict to exit 4"))
    #expect(lenient.stdout.contains("passed       2"), "the summary is still shown")
    #expect(lenient.stdout.contains("exited with status 0"))

    let strict = try await workspace.testbridge(["run", "--strict"] + Array(passing.dropFirst()))
    #expect(strict.status == 4, "\(strict.stderr)")

    // The tests' outcome is never hidden: failures, the command's own status, a timeout.
    let failing = try await workspace.testbridge(
      ["run", "--strict", "--junit", "reports/*.xml"] + nowhere + ["--"] + Self.writesReport(failing: true))
    #expect(failing.status == 1, "\(failing.stderr)")
    let own = try await workspace.testbridge(["run"] + nowhere + ["--"] + Self.writesReport(failing: false, status: 3))
    #expect(own.status == 3, "\(own.stderr)")
    let missing = try await workspace.testbridge(["run", "--strict"] + nowhere + ["--", "testbridge-no-such-tool"])
    #expect(missing.status == 127, "\(missing.stderr)")
    let timedOut = try await workspace.testbridge(["run", "--timeout", "0.3"] + nowhere + ["--", "sleep", "30"])
    #expect(timedOut.status == 124, "\(timedOut.stderr)")
  }

  @Test func resultsThatCannotChooseAProfileStillExitByTheTests() async throws {
    let world = try await ProjectRoutingTests.World.start()
    defer { Task { await world.stop() } }
    // Tests of both projects, one failing: no profile can be chosen, nothing is sent.
    let xml = """
      <testsuite name="mixed" tests="2"><testcase name="adds to cart @SHOP-1"/>\
      <testcase name="pays by invoice @PAY-2"><failure message="declined"/></testcase></testsuite>
      """
    try xml.write(to: world.directory.appendingPathComponent("mixed.xml"), atomically: true, encoding: .utf8)
    let command = ["sh", "-c", "mkdir -p out && cp mixed.xml out/mixed.xml"]
    let failing = try await world.testbridge(["run", "--config", "testbridge.json", "--junit", "out/mixed.xml", "--"] + command)
    #expect(failing.status == 1, "a failing test is not hidden by the routing error: \(failing.stderr)")
    #expect(failing.stderr.contains("the results were not delivered"))
    let passing = try await world.testbridge([
      "run", "--config", "testbridge.json", "--junit", "out/both.xml", "--", "sh", "-c", "mkdir -p out && cp both.xml out/both.xml",
    ])
    #expect(passing.status == 64, "\(passing.stderr)")
    #expect(await world.shop.emulator.state().runs.isEmpty)
    #expect(await world.payments.emulator.state().runs.isEmpty)
  }

  // MARK: - CI-native output

  @Test func gitHubActionsGetsSummaryAnnotationsAndOutputs() async throws {
    let workspace = try await Workspace.make()
    defer { Task { await workspace.stop() } }
    let summary = workspace.file("step-summary.md")
    let outputs = workspace.file("github-output.txt")
    try "existing=1\n".write(to: outputs, atomically: true, encoding: .utf8)
    let output = try await workspace.testbridge(
      ["run", "--junit", "reports/*.xml", "--"] + Self.writesReport(failing: true),
      [
        "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": summary.path, "GITHUB_OUTPUT": outputs.path,
        "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/shop", "GITHUB_RUN_ID": "42",
        "GITHUB_REF_NAME": "main", "GITHUB_SHA": "0123456789abcdef", "GITHUB_WORKSPACE": workspace.directory.path,
      ])
    #expect(output.status == 1, "\(output.stderr)")
    let run = try #require(try await workspace.state.runs.first)
    #expect(run.ciBuildURL == "https://github.com/acme/shop/actions/runs/42")
    #expect(run.title?.hasSuffix("(main @ 0123456)") == true, "\(run.title ?? "nil")")

    let markdown = try workspace.read("step-summary.md")
    #expect(markdown.hasPrefix("### ❌ "))
    #expect(markdown.contains("| 1 | 1 | 0 | 0 | 0 | 2 |"))
    #expect(markdown.contains("**checkout › total with tax** `tests/cart_test.sh:12`: expected 110 but got 100"))
    #expect(markdown.contains("[Testomat.io run](\(run.url))"))
    #expect(markdown.contains("[CI build](https://github.com/acme/shop/actions/runs/42)"))

    #expect(
      output.stdout.contains(
        "::error file=tests/cart_test.sh,line=12,title=checkout › total with tax::expected 110 but got 100\n"))
    #expect(
      try workspace.read("github-output.txt")
        == "existing=1\nrun_url=\(run.url)\npassed=1\nfailed=1\nskipped=0\nflaky=0\n")
  }

  @Test func gitHubAnnotationsAreCappedAtFifty() async throws {
    let workspace = try await Workspace.make(sandbox: false)
    defer { Task { await workspace.stop() } }
    var xml = "<testsuite name=\"many\">"
    for index in 0..<70 { xml += "<testcase name=\"t\(index)\"><failure message=\"no \(index)\"/></testcase>" }
    xml += "</testsuite>\n"
    let output = try await workspace.testbridge(
      ["run", "--junit", "many.xml", "--", "/bin/sh", "-c", "cat > many.xml <<'EOF'\n\(xml)EOF"],
      ["GITHUB_ACTIONS": "true"])
    #expect(output.status == 1)
    #expect(output.stdout.components(separatedBy: "\n").count { $0.hasPrefix("::error ") } == 50)
  }

  @Test func gitHubCommandFailureWithoutFailingTestsIsStillRed() async throws {
    let workspace = try await Workspace.make(sandbox: false)
    defer { Task { await workspace.stop() } }
    let summary = workspace.file("summary.md")
    let output = try await workspace.testbridge(
      ["run", "--junit", "reports/*.xml", "--"] + Self.writesReport(failing: false, status: 2),
      ["GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": summary.path])
    #expect(output.status == 2)
    let markdown = try workspace.read("summary.md")
    #expect(markdown.hasPrefix("### ❌ "))
    #expect(markdown.contains("exited with status 2"))
    #expect(output.stdout.contains("::error title=testbridge::"))
  }

  @Test func gitLabGetsASectionAroundTheCommandAndAMergedJUnitFile() async throws {
    let workspace = try await Workspace.make(sandbox: false)
    defer { Task { await workspace.stop() } }
    let script = ["/bin/sh", "-c", "mkdir -p reports; echo between-markers; "
      + "printf '%s' '\(Self.junit(failing: true, suite: "a"))' > reports/a.xml; "
      + "printf '%s' '\(Self.junit(failing: false, suite: "b"))' > reports/b.xml"]
    let output = try await workspace.testbridge(
      ["run", "--junit", "reports/a.xml", "--junit", "reports/b.xml", "--junit-out", "merged.xml", "--"] + script,
      ["GITLAB_CI": "true", "CI_JOB_URL": "https://gitlab.example.com/acme/shop/-/jobs/7"])
    #expect(output.status == 1, "\(output.stderr)")
    let start = try #require(output.stdout.range(of: "section_start:"))
    let child = try #require(output.stdout.range(of: "between-markers"))
    let end = try #require(output.stdout.range(of: "section_end:"))
    #expect(start.lowerBound < child.lowerBound && child.upperBound < end.lowerBound)
    #expect(output.stdout.contains("testbridge_command\r\u{1B}[0K$ /bin/sh -c"))

    let parsed = try await ChildProcess.testbridgeAsync(
      ["parse", "--format", "json", "merged.xml"], directory: workspace.directory)
    #expect(parsed.status == 0, "\(parsed.stderr)")
    #expect(parsed.stdout.contains("\"tests\": 4, \"passed\": 3, \"failed\": 1"), "\(parsed.stdout.prefix(400))")
  }
}

/// A `testbridge` process the test can signal while it runs.
struct LaunchedTestbridge {
  let process: Process
  let pid: pid_t
  private let finished: Finished

  init(
    _ arguments: [String], environment: [String: String] = [:], directory: URL, onStdout: StdoutWatch? = nil
  ) throws {
    let process = Process()
    process.executableURL = ChildProcess.testbridgeBinary
    process.arguments = arguments
    process.environment = environment.merging(["PATH": "/usr/local/bin:/usr/bin:/bin"]) { old, _ in old }
    process.currentDirectoryURL = directory
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    let finished = Finished()
    process.terminationHandler = { ended in finished.exited(ended.terminationStatus) }
    try process.run()
    for (pipe, isOut) in [(out, true), (err, false)] {
      Thread.detachNewThread {
        var data = Data()
        while true {
          let chunk = pipe.fileHandleForReading.availableData
          if chunk.isEmpty { break }
          data.append(chunk)
          if isOut { onStdout?.saw(data) }
        }
        finished.collected(data, isOut: isOut)
      }
    }
    self.process = process
    self.pid = process.processIdentifier
    self.finished = finished
  }

  struct Output: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
    var stdoutBytes: [UInt8]
    var stderrBytes: [UInt8]
  }

  /// Waits (without blocking the pool) for the exit and both pipes to close.
  func wait() async -> Output {
    await withCheckedContinuation { continuation in finished.onDone { continuation.resume(returning: $0) } }
  }

  private final class Finished: @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var status: Int32?
    private var out: Data?
    private var err: Data?
    private var waiter: ((Output) -> Void)?

    func exited(_ code: Int32) { update { $0.status = code } }
    func collected(_ data: Data, isOut: Bool) { update { if isOut { $0.out = data } else { $0.err = data } } }
    func onDone(_ body: @escaping (Output) -> Void) { update { $0.waiter = body } }

    private func update(_ change: (Finished) -> Void) {
      lock.lock()
      change(self)
      var ready: (Output, (Output) -> Void)?
      if let status, let out, let err, let waiter {
        ready = (
          Output(
            status: status, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self),
            stdoutBytes: Array(out), stderrBytes: Array(err)),
          waiter
        )
        self.waiter = nil
      }
      lock.unlock()
      if let ready { ready.1(ready.0) }
    }
  }
}

/// Runs an action once, the first time a process's stdout so far contains some text.
final class StdoutWatch: @unchecked Sendable {
  // Guarded by `lock`; only the stdout reader thread calls `saw`.
  private let lock = NSLock()
  private var fired = false
  private var searchedUpTo = 0
  private let needle: Data
  private let action: () -> Void

  init(waitingFor text: String, action: @escaping () -> Void) {
    self.needle = Data(text.utf8)
    self.action = action
  }

  func saw(_ data: Data) {
    lock.lock()
    let start = max(0, searchedUpTo - needle.count)
    searchedUpTo = data.count
    let fire = !fired && data.range(of: needle, in: start..<data.count) != nil
    if fire { fired = true }
    lock.unlock()
    if fire { action() }
  }
}

/// Whether a process still runs (a zombie waiting to be reaped does not count).
enum ProcessLiveness {
  static func isAlive(_ pid: pid_t) -> Bool {
    guard kill(pid, 0) == 0 else { return false }
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
      let close = stat.lastIndex(of: ")")
    else { return false }
    let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
    return state != "Z" && state != "X"
  }

  static func waitUntilGone(_ pid: pid_t, within limit: Duration = .seconds(15)) async -> Bool {
    let deadline = ContinuousClock.now + limit
    while isAlive(pid) {
      if ContinuousClock.now > deadline { return false }
      try? await Task.sleep(for: .milliseconds(50))
    }
    return true
  }
}

extension RunEndToEndTests {
  static func waitForPID(in file: URL, within limit: Duration = .seconds(15)) async throws -> pid_t {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
      if let text = try? String(contentsOf: file, encoding: .utf8),
        let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
      {
        return pid
      }
      try await Task.sleep(for: .milliseconds(50))
    }
    throw CancellationError()
  }
}
