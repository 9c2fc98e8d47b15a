import BridgeCore
import BridgeTestSupport
import Foundation
import HTTPServer
import Sandbox
import Testing

/// The reporter's environment, shared runs across environments, run creation under
/// rate limits, dry runs of every writing command, the spool hint and secrets in
/// URLs: the real binary over real HTTP on 127.0.0.1 against the sandbox, whose
/// recorded runs show what each request carried.
@Suite(.serialized) struct TestomatioReportingTests {
  typealias Sandbox = ReportEndToEndTests.Sandbox
  static let apiKey = ReportEndToEndTests.apiKey

  /// A scratch folder removed by the caller.
  static func scratch() throws -> URL { try ProjectPaths.temporaryDirectory("testomatio-e2e") }

  // MARK: - Shared runs across environments

  @Test func twoEnvironmentsJoiningOneSharedRunKeepBothResults() async throws {
    let sandbox = try await Sandbox.start()
    defer { Task { await sandbox.stop() } }
    // Two matrix jobs with one title: each leaves the run open for the other, a last step closes it.
    let shared = ["TESTOMATIO_SHARED_RUN": "1", "TESTOMATIO_TITLE": "Matrix", "TESTOMATIO_PROCEED": "1"]
    let linux = try await sandbox.testbridge(["report", "pytest.xml"], shared.merging(["TESTOMATIO_ENV": "linux"]) { $1 })
    let windows = try await sandbox.testbridge(["report", "pytest.xml"], shared.merging(["TESTOMATIO_ENV": "windows"]) { $1 })
    #expect(linux.status == 1 && windows.status == 1, "\(linux.stderr)\(windows.stderr)")
    var state = await sandbox.server.emulator.state()
    #expect(state.runs.count == 1, "the second job joined the first one's run")
    var run = try #require(state.runs.first)
    #expect(run.sharedJoins == 1)
    #expect(run.results.count == 16, "8 tests in each of 2 environments")
    #expect(run.ridCounts.count == 16 && run.ridCounts.values.allSatisfy { $0 == 1 })
    #expect(run.results.filter { $0.title == "test_discount_applies" }.count == 2)

    // The linux job retried: its rids are the same as before, so its results replace themselves.
    let retry = try await sandbox.testbridge(["report", "pytest.xml"], shared.merging(["TESTOMATIO_ENV": "linux"]) { $1 })
    #expect(retry.status == 1)
    state = await sandbox.server.emulator.state()
    run = try #require(state.runs.first)
    #expect(state.runs.count == 1)
    #expect(run.results.count == 16)
    #expect(run.ridCounts.values.sorted() == Array(repeating: 1, count: 8) + Array(repeating: 2, count: 8))
    let finish = try await sandbox.testbridge(["finish"], ["TESTOMATIO_RUN": run.uid])
    #expect(finish.status == 0, "\(finish.stderr)")
    run = try #require(await sandbox.server.emulator.state().runs.first)
    #expect(run.finished && run.finishCount == 1 && run.results.count == 16)
  }

  // MARK: - Creating the run

  @Test func aRateLimitedRunCreationIsRetriedAndMakesOneRun() async throws {
    let sandbox = try await Sandbox.start()
    defer { Task { await sandbox.stop() } }
    let reports = try FaultInjectionTests.passingReport()
    defer { try? FileManager.default.removeItem(at: reports) }
    // The first reporter request is the create: answered 429, it changed nothing.
    await sandbox.server.emulator.setFaults([
      SandboxFault(method: "POST", pathPrefix: "/api/reporter", status: 429, times: 1, retryAfter: 0)
    ])
    let output = try await sandbox.testbridge(["report", reports.appendingPathComponent("passing.xml").path])
    #expect(output.status == 0, "\(output.stderr)")
    let state = await sandbox.server.emulator.state()
    #expect(state.runs.count == 1)
    FaultInjectionTests.expectDeliveredOnce(state.runs.first)
    #expect(state.requests.filter { $0.method == "POST" && $0.path == "/api/reporter" }.map(\.status) == [429, 200])
    #expect(!output.stderr.contains("kept in"))
  }

  @Test func aServerErrorOnRunCreationIsNotRepeated() async throws {
    let sandbox = try await Sandbox.start()
    defer { Task { await sandbox.stop() } }
    let reports = try FaultInjectionTests.passingReport()
    defer { try? FileManager.default.removeItem(at: reports) }
    // A 503 may come after the run was made: sending the create again could make two.
    await sandbox.server.emulator.setFaults([
      SandboxFault(method: "POST", pathPrefix: "/api/reporter", status: 503, times: 1)
    ])
    let output = try await sandbox.testbridge(["report", reports.appendingPathComponent("passing.xml").path])
    #expect(output.status == 4, "\(output.stderr)")
    let state = await sandbox.server.emulator.state()
    #expect(state.requests.filter { $0.path == "/api/reporter" }.count == 1)
    #expect(state.runs.isEmpty)
    #expect(output.stderr.contains("were not delivered and are kept in"))
  }

  // MARK: - The reporter's environment

  @Test func theReportersEnvironmentReachesTheRequestFields() async throws {
    let sandbox = try await Sandbox.start()
    defer { Task { await sandbox.stop() } }
    let environment = [
      "TESTOMATIO_TITLE": "Env", "TESTOMATIO_RUNGROUP_TITLE": "Nightly/Linux", "TESTOMATIO_SHARED_RUN": "1",
      "TESTOMATIO_SHARED_RUN_TIMEOUT": "30", "TESTOMATIO_LABEL": "release,module:checkout",
      "TESTOMATIO_EXCLUDE_SKIPPED": "1", "TESTOMATIO_CREATE": "1", "TESTOMATIO_PUBLISH": "1",
      "TESTOMATIO_JIRA_ID": "SHOP-7",
    ]
    let output = try await sandbox.testbridge(["report", "pytest.xml"], environment)
    #expect(output.status == 1, "\(output.stderr)")
    let run = try #require(await sandbox.server.emulator.state().runs.first)
    #expect(run.title == "Env")
    #expect(run.groupTitle == "Nightly/Linux")
    #expect(run.sharedRun)
    #expect(run.attributes["shared_run_timeout"] == .integer(30))
    #expect(run.label == .string("release,module:checkout"))
    #expect(run.accessEvent == "publish")
    #expect(run.jiraID == "SHOP-7")
    let publicURL = try #require(run.publicURL)
    #expect(output.stdout.contains(publicURL), "a published run prints its public URL")
    #expect(run.results.count == 7, "the skipped test is left out")
    #expect(run.results(withStatus: "skipped").isEmpty)
    #expect(run.results.allSatisfy { $0.test["create"] == .bool(true) })
  }

  @Test func booleanVariablesAreTurnedOffByValueOrByTheirNoFlag() async throws {
    let sandbox = try await Sandbox.start()
    defer { Task { await sandbox.stop() } }
    // TESTOMATIO_CREATE=0: tests that do not match are not created (no `create` field).
    let noCreate = try await sandbox.testbridge(["report", "--title", "no-create", "pytest.xml"], ["TESTOMATIO_CREATE": "0"])
    // Flags win over the environment, both ways.
    let flags = try await sandbox.testbridge(
      ["report", "--title", "flags", "--create", "--no-publish", "--no-exclude-skipped", "--no-proceed", "pytest.xml"],
      [
        "TESTOMATIO_CREATE": "0", "TESTOMATIO_PUBLISH": "1", "TESTOMATIO_EXCLUDE_SKIPPED": "1",
        "TESTOMATIO_PROCEED": "1",
      ])
    let noCreateFlag = try await sandbox.testbridge(
      ["report", "--title", "no-create-flag", "--no-create", "pytest.xml"], ["TESTOMATIO_CREATE": "1"])
    for output in [noCreate, flags, noCreateFlag] { #expect(output.status == 1, "\(output.stderr)") }
    let state = await sandbox.server.emulator.state()
    let runs = Dictionary(state.runs.map { ($0.title ?? "?", $0) }) { first, _ in first }
    let off = try #require(runs["no-create"])
    #expect(off.results.count == 8)
    #expect(off.results.allSatisfy { $0.test["create"] == nil })
    let flagged = try #require(runs["flags"])
    #expect(flagged.results.allSatisfy { $0.test["create"] == .bool(true) })
    #expect(flagged.accessEvent == nil && flagged.publicURL == nil)
    #expect(flagged.results.count == 8, "--no-exclude-skipped keeps the skipped test")
    #expect(flagged.finished, "--no-proceed closes the run")
    let offByFlag = try #require(runs["no-create-flag"])
    #expect(offByFlag.results.allSatisfy { $0.test["create"] == nil })
  }

  @Test func helpShowsTheNoSpellings() async throws {
    let help = try await ChildProcess.testbridgeAsync(["report", "--help"])
    #expect(help.status == 0)
    for flag in ["--[no-]create", "--[no-]proceed", "--[no-]publish", "--[no-]shared-run", "--[no-]exclude-skipped"] {
      #expect(help.stdout.contains(flag), "\(flag)")
    }
    #expect(help.stdout.contains("--call-timeout <SECONDS>"))
  }

  // MARK: - Dry runs

  @Test func dryRunsOfStartFinishAndLinkedTestsSendNothingAndExit0() async throws {
    let sandbox = try await Sandbox.start()
    defer { Task { await sandbox.stop() } }
    let start = try await sandbox.testbridge(["start", "--title", "Dry", "--dry-run"])
    #expect(start.status == 0, "\(start.stderr)")
    #expect(start.stderr.contains("Dry run: 1 request(s) would be sent, none was:"))
    #expect(start.stderr.contains("POST \(sandbox.url.absoluteString)/api/reporter"))
    #expect(start.stdout.split(separator: "\n").last == "dry-run")
    let finish = try await sandbox.testbridge(["finish", "--dry-run"], ["TESTOMATIO_RUN": "abc12345"])
    #expect(finish.status == 0, "\(finish.stderr)")
    #expect(finish.stdout.contains("PUT \(sandbox.url.absoluteString)/api/reporter/abc12345"))
    let linked = try await sandbox.testbridge(["linked-tests", "--jira", "SHOP-7", "--dry-run"])
    #expect(linked.status == 0, "\(linked.stderr)")
    #expect(linked.stderr.contains("GET \(sandbox.url.absoluteString)/api/test_grep?"))
    // Without an account a dry run still works: nothing is sent.
    let noKey = try await ChildProcess.testbridgeAsync(
      ["start", "--dry-run"], environment: ["TESTOMATIO_URL": sandbox.url.absoluteString])
    #expect(noKey.status == 0, "\(noKey.stderr)")
    #expect(await sandbox.server.emulator.state().requests.isEmpty)
    for output in [start, finish, linked] {
      #expect(!output.stdout.contains(Self.apiKey) && !output.stderr.contains(Self.apiKey))
    }
  }

  @Test func flushDryRunShowsTheSpoolAndLeavesItForTheRealFlush() async throws {
    let sandbox = try await Sandbox.start()
    defer { Task { await sandbox.stop() } }
    let reports = try FaultInjectionTests.passingReport()
    defer { try? FileManager.default.removeItem(at: reports) }
    await sandbox.server.emulator.setFaults([
      SandboxFault(method: "POST", pathPrefix: "/api/reporter/", status: 503, times: 1_000)
    ])
    let report = try await sandbox.testbridge(
      ["report", "--batch-size", "4", reports.appendingPathComponent("passing.xml").path],
      ["TESTOMATIO_REQUEST_TIMEOUT": "2000"])
    #expect(report.status == 4, "\(report.stderr)")
    await sandbox.server.emulator.setFaults([])
    let before = await sandbox.server.emulator.state().requests.count
    let spooled = try FaultInjectionTests.spooledTitles(in: sandbox.spool)
    #expect(spooled.count == FaultInjectionTests.resultCount)

    let dry = try await sandbox.testbridge(["flush", "--dry-run"])
    #expect(dry.status == 0, "\(dry.stderr)")
    #expect(dry.stdout.contains("Would deliver \(FaultInjectionTests.resultCount) results from"))
    #expect(dry.stdout.contains("Dry run: 4 request(s) would be sent, none was:"), "3 batches and the close")
    #expect(dry.stdout.contains("tests[4]"))
    #expect(!dry.stdout.contains(Self.apiKey) && !dry.stderr.contains(Self.apiKey))
    #expect(await sandbox.server.emulator.state().requests.count == before, "a dry run sends nothing")
    #expect(try FaultInjectionTests.spooledTitles(in: sandbox.spool) == spooled, "a dry run leaves the spool as it was")

    let flush = try await sandbox.testbridge(["flush"])
    #expect(flush.status == 0, "\(flush.stderr)")
    FaultInjectionTests.expectDeliveredOnce(await sandbox.server.emulator.state().runs.first)
  }

  // MARK: - The spool hint

  @Test func theSpoolHintNamesACustomSpoolFolder() async throws {
    let sandbox = try await Sandbox.start()
    defer { Task { await sandbox.stop() } }
    let scratch = try Self.scratch()
    defer { try? FileManager.default.removeItem(at: scratch) }
    let reports = try FaultInjectionTests.passingReport()
    defer { try? FileManager.default.removeItem(at: reports) }
    try FileManager.default.copyItem(
      at: reports.appendingPathComponent("passing.xml"), to: scratch.appendingPathComponent("passing.xml"))
    await sandbox.server.emulator.setFaults([
      SandboxFault(method: "POST", pathPrefix: "/api/reporter/", status: 503, times: 1_000)
    ])
    var environment = sandbox.environment(["TESTOMATIO_REQUEST_TIMEOUT": "2000"])
    environment["TESTBRIDGE_SPOOL_DIR"] = nil

    // The default folder: the plain command.
    let plain = try await ChildProcess.testbridgeAsync(["report", "passing.xml"], environment: environment, directory: scratch)
    #expect(plain.status == 4, "\(plain.stderr)")
    #expect(plain.stderr.contains("; send them with: testbridge flush\n"), "\(plain.stderr)")

    // Another folder, with a space in its name: the hint names it, quoted, and works as printed.
    let custom = try await ChildProcess.testbridgeAsync(
      ["report", "--spool-dir", "held results", "passing.xml"], environment: environment, directory: scratch)
    #expect(custom.status == 4, "\(custom.stderr)")
    #expect(custom.stderr.contains("; send them with: testbridge flush --spool-dir 'held results'\n"), "\(custom.stderr)")
    await sandbox.server.emulator.setFaults([])
    let flush = try await ChildProcess.testbridgeAsync(
      ["flush", "--spool-dir", "held results"], environment: environment, directory: scratch)
    #expect(flush.status == 0, "\(flush.stderr)")
    #expect(flush.stdout.contains("Delivered \(FaultInjectionTests.resultCount) results"))
  }

  // MARK: - Secrets in URLs

  @Test func credentialsInTheServerURLNeverReachTheSpool() async throws {
    let sandbox = try await Sandbox.start()
    defer { Task { await sandbox.stop() } }
    let reports = try FaultInjectionTests.passingReport()
    defer { try? FileManager.default.removeItem(at: reports) }
    let password = "hunter2-e2e-pw"
    var components = try #require(URLComponents(url: sandbox.url, resolvingAgainstBaseURL: false))
    components.user = "proxyuser"
    components.password = password
    let withCredentials = try #require(components.url).absoluteString
    await sandbox.server.emulator.setFaults([
      SandboxFault(method: "POST", pathPrefix: "/api/reporter/", status: 503, times: 1_000)
    ])
    let report = try await sandbox.testbridge(
      ["report", reports.appendingPathComponent("passing.xml").path],
      ["TESTOMATIO_URL": withCredentials, "TESTOMATIO_REQUEST_TIMEOUT": "2000"])
    #expect(report.status == 4, "\(report.stderr)")
    var manifests: [String] = []
    for file in try FileManager.default.subpathsOfDirectory(atPath: sandbox.spool.path) where file.hasSuffix("manifest.json") {
      manifests.append(try String(contentsOf: sandbox.spool.appendingPathComponent(file), encoding: .utf8))
    }
    #expect(manifests.count == 1)
    for text in manifests + [report.stdout, report.stderr] {
      #expect(!text.contains(password) && !text.contains("proxyuser"), "\(text)")
    }
    #expect(manifests.first?.contains("\"base_url\":\"\(sandbox.url.absoluteString)\"") == true, "\(manifests)")

    await sandbox.server.emulator.setFaults([])
    let flush = try await sandbox.testbridge(["flush"])
    #expect(flush.status == 0, "the cleaned URL still reaches the server: \(flush.stderr)")
    FaultInjectionTests.expectDeliveredOnce(await sandbox.server.emulator.state().runs.first)
  }

  @Test func anInvalidServerURLIsNotEchoedWithItsCredentials() async throws {
    let output = try await ChildProcess.testbridgeAsync(
      ["report", "--testomatio-url", "htps://bob:s3cret-url-pw@testomat.example/x?api_key=tstmt_urlsecret99", "pytest.xml"],
      environment: ["TESTOMATIO": Self.apiKey], directory: ReportEndToEndTests.reports)
    #expect(output.status == 64)
    #expect(output.stderr.contains("is invalid for '--testomatio-url <URL>'"))
    #expect(output.stderr.contains("htps://testomat.example/x"))
    for secret in ["s3cret-url-pw", "bob", "tstmt_urlsecret99", Self.apiKey] {
      #expect(!output.stderr.contains(secret) && !output.stdout.contains(secret), "\(secret): \(output.stderr)")
    }
  }

  // MARK: - linked-tests

  @Test func linkedTestsByPlanAndLabelAndAsJSON() async throws {
    let sandbox = try await Sandbox.start()
    defer { Task { await sandbox.stop() } }
    await sandbox.server.emulator.seedTestGrep(type: "plan", id: "P-42", tests: ["@T1a2b3c4d", "5e6f7a8b"])
    await sandbox.server.emulator.seedTestGrep(type: "label", id: "severity:🔥 Major", tests: ["9c0d1e2f"])
    let plan = try await sandbox.testbridge(["linked-tests", "--plan", "P-42"])
    #expect(plan.status == 0, "\(plan.stderr)")
    #expect(plan.stdout == "T1a2b3c4d|T5e6f7a8b\n")
    let label = try await sandbox.testbridge(["linked-tests", "--label", "severity:🔥 Major", "--format", "ids"])
    #expect(label.status == 0, "\(label.stderr)")
    #expect(label.stdout == "T9c0d1e2f\n")
    let json = try await sandbox.testbridge(["linked-tests", "--plan", "P-42", "--format", "json"])
    #expect(json.status == 0, "\(json.stderr)")
    let object = try #require(JSONValue.parse(Data(json.stdout.utf8))?.objectValue)
    #expect(object["type"] == .string("plan"))
    #expect(object["id"] == .string("P-42"))
    #expect(object["tests"] == .array([.string("T1a2b3c4d"), .string("T5e6f7a8b")]))
    let both = try await sandbox.testbridge(["linked-tests", "--plan", "P-42", "--label", "x"])
    #expect(both.status == 64)
    let queries = await sandbox.server.emulator.state().requests.filter { $0.path == "/api/test_grep" }.compactMap(\.query)
    #expect(queries.count == 3)
    #expect(queries.contains { $0.contains("type=plan") && $0.contains("id=P-42") })
    #expect(queries.contains { $0.contains("type=label") })
    #expect(queries.allSatisfy { !$0.contains(Self.apiKey) })
  }
}
