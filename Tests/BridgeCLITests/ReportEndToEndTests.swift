import BridgeCore
import BridgeTestSupport
import Foundation
import HTTPServer
import Sandbox
import Testing

/// `testbridge report`/`start`/`finish`/`flush`/`linked-tests` as a user runs
/// them: the real binary, over real HTTP on 127.0.0.1, against the sandbox.
@Suite(.serialized) struct ReportEndToEndTests {
  static let apiKey = "tstmt_e2e_secret_7f3a9c"
  static var reports: URL { GoldenCase.root.appendingPathComponent("reports") }

  /// A sandbox for one test, and the environment that points testbridge at it.
  struct Sandbox {
    let server: SandboxServer
    let url: URL
    let spool: URL

    static func start() async throws -> Sandbox {
      let server = SandboxServer(emulator: TestomatioEmulator(apiKey: ReportEndToEndTests.apiKey))
      let url = try await server.start()
      return Sandbox(server: server, url: url, spool: try ProjectPaths.temporaryDirectory("spool"))
    }

    func environment(_ extra: [String: String] = [:]) -> [String: String] {
      var environment = [
        "TESTOMATIO": ReportEndToEndTests.apiKey, "TESTOMATIO_URL": url.absoluteString,
        "TESTBRIDGE_SPOOL_DIR": spool.path,
      ]
      environment.merge(extra) { $1 }
      return environment
    }

    func testbridge(_ arguments: [String], _ extra: [String: String] = [:]) async throws -> ProcessOutput {
      try await ChildProcess.testbridgeAsync(arguments, environment: environment(extra), directory: ReportEndToEndTests.reports)
    }

    func stop() async {
      await server.stop(graceful: false)
      try? FileManager.default.removeItem(at: spool)
    }
  }

  @Test func reportDeliversEveryResultOnceWithTheContractFields() async throws {
    let sandbox = try await Sandbox.start()
    defer { Task { await sandbox.stop() } }
    let output = try await sandbox.testbridge(["report", "--title", "Nightly", "--env", "linux", "pytest.xml"])
    #expect(output.status == 1, "tests failed, so exit 1: \(output.stderr)")
    let state = await sandbox.server.emulator.state()
    let run = try #require(state.runs.first)
    #expect(state.runs.count == 1)
    #expect(run.title == "Nightly")
    #expect(run.env == "linux")
    #expect(run.finished && run.finishCount == 1)
    #expect(run.statusEvents == ["fail"])
    #expect(run.results.count == 8)
    #expect(run.ridCounts.values.allSatisfy { $0 == 1 })
    #expect(Set(run.results.compactMap(\.rid)).count == 8)
    #expect(run.results.allSatisfy { $0.rid?.hasPrefix(run.uid + "-") == true })
    let discount = try #require(run.results.first { $0.title == "test_discount_applies" })
    #expect(discount.status == "failed")
    #expect(discount.testID == "5e6f7a8b")
    #expect(discount.test["suite_title"]?.stringValue == "pytest")
    #expect(discount.test["file"]?.stringValue == "tests/test_checkout.py")
    #expect(discount.test["message"]?.stringValue?.hasPrefix("AssertionError: discount should be 10%") == true)
    #expect(discount.test["stack"]?.stringValue?.contains("tests/test_checkout.py:12: AssertionError") == true)
    #expect(discount.test["links"] == .array([.object(["jira": .string("SHOP-102")])]))
    #expect(discount.test["create"] == .bool(true))
    #expect(discount.test["meta"] == .object(["classname": .string("tests.test_checkout")]))
    #expect(run.results.first { $0.title == "test_payment_gateway" }?.status == "skipped")
    let broken = try #require(run.results.first { $0.title == "test_uses_broken_fixture" })
    #expect(broken.status == "failed")
    #expect(broken.test["meta"] == .object(["classname": .string("tests.test_checkout"), "error": .string("true")]))
    #expect(output.stdout.contains("Testomat.io run \(run.uid) (8 results delivered, finished)"))
    #expect(output.stdout.contains(run.url))
    #expect(!output.stdout.contains(Self.apiKey) && !output.stderr.contains(Self.apiKey))
  }

  @Test func rateLimitsServerErrorsAndDroppedConnectionsAreSurvivedWithoutDuplicates() async throws {
    let sandbox = try await Sandbox.start()
    defer { Task { await sandbox.stop() } }
    await sandbox.server.emulator.setFaults([
      SandboxFault(method: "POST", pathPrefix: "/api/reporter/", status: 429, times: 1, retryAfter: 1),
      SandboxFault(method: "POST", pathPrefix: "/api/reporter/", status: 503, times: 2),
      SandboxFault(method: "POST", pathPrefix: "/api/reporter/", times: 1, dropConnection: true),
    ])
    let output = try await sandbox.testbridge(["report", "--batch-size", "5", "pytest.xml", "nested/TEST-com.acme.CartTest.xml"])
    #expect(output.status == 1, "\(output.stderr)")
    let state = await sandbox.server.emulator.state()
    let run = try #require(state.runs.first)
    #expect(run.results.count == 11)
    #expect(run.ridCounts.values.allSatisfy { $0 == 1 })
    #expect(run.batchIndexes.sorted() == [1, 2, 3])
    let flaky = try #require(run.results.first { $0.title == "passesOnRerun" })
    #expect(flaky.status == "passed")
    #expect(flaky.test["meta"] == .object(["classname": .string("com.acme.CartTest"), "flaky": .string("true")]))
    #expect(state.requests.filter(\.fault).count == 4)
    #expect(run.finishCount == 1)
    #expect(!output.stderr.contains("kept in"))
  }

  @Test func unreachableServiceSpoolsAndFlushDeliversExactlyOnce() async throws {
    let sandbox = try await Sandbox.start()
    defer { Task { await sandbox.stop() } }
    await sandbox.server.emulator.setFaults([
      SandboxFault(method: "POST", pathPrefix: "/api/reporter/", status: 503, times: 1_000)
    ])
    let report = try await sandbox.testbridge(
      ["report", "--batch-size", "4", "nested/TEST-com.acme.CartTest.xml", "jest.xml"],
      ["TESTOMATIO_REQUEST_TIMEOUT": "2000"])
    // Only one test failed? No: jest.xml and the Surefire report both have failures, so 1 wins over 4.
    #expect(report.status == 1)
    #expect(report.stderr.contains("were not delivered and are kept in"))
    #expect(report.stderr.contains("testbridge flush"))
    #expect(!report.stderr.contains(Self.apiKey))
    var state = await sandbox.server.emulator.state()
    #expect(state.runs.first?.results.isEmpty == true)
    #expect(state.runs.first?.finished == false)
    let spooled = try FileManager.default.subpathsOfDirectory(atPath: sandbox.spool.path)
    #expect(spooled.contains { $0.hasSuffix("batch-000001.json") })
    for file in spooled where file.hasSuffix(".json") {
      let text = try String(contentsOf: sandbox.spool.appendingPathComponent(file), encoding: .utf8)
      #expect(!text.contains(Self.apiKey), "the spool must never hold the API key")
    }

    await sandbox.server.emulator.setFaults([])
    let flush = try await sandbox.testbridge(["flush"])
    #expect(flush.status == 0, "\(flush.stderr)")
    #expect(flush.stdout.contains("Delivered 9 results"))
    state = await sandbox.server.emulator.state()
    let run = try #require(state.runs.first)
    #expect(state.runs.count == 1)
    #expect(run.results.count == 9)
    #expect(run.ridCounts.values.allSatisfy { $0 == 1 })
    #expect(run.finished && run.finishCount == 1)
    // A second flush finds nothing: exactly once.
    let again = try await sandbox.testbridge(["flush"])
    #expect(again.stdout.contains("Nothing to flush"))
  }

  @Test func runCreationFailureIsSpooledAndFlushCreatesTheRun() async throws {
    let sandbox = try await Sandbox.start()
    defer { Task { await sandbox.stop() } }
    await sandbox.server.emulator.setFaults([SandboxFault(method: "POST", pathPrefix: "/api/reporter", status: 502, times: 1)])
    let report = try await sandbox.testbridge(["report", "nested/TEST-com.acme.CartTest.xml"])
    #expect(report.status == 1)
    #expect(await sandbox.server.emulator.state().runs.isEmpty)
    let flush = try await sandbox.testbridge(["flush"])
    #expect(flush.status == 0, "\(flush.stderr)")
    let state = await sandbox.server.emulator.state()
    #expect(state.runs.count == 1)
    #expect(state.runs.first?.results.count == 3)
    #expect(state.runs.first?.finished == true)
  }

  @Test func adoptsARunCreatedElsewhere() async throws {
    let sandbox = try await Sandbox.start()
    defer { Task { await sandbox.stop() } }
    let uid = await sandbox.server.emulator.seedRun(title: "Scheduled from Jira")
    let output = try await sandbox.testbridge(["report", "pytest.xml"], ["TESTOMATIO_RUN": uid])
    #expect(output.status == 1)
    let state = await sandbox.server.emulator.state()
    #expect(state.runs.count == 1)
    #expect(state.runs.first?.uid == uid)
    #expect(state.runs.first?.updateCount == 1)
    #expect(state.runs.first?.results.count == 8)
  }

  @Test func proceedLeavesTheRunOpenAndFinishClosesIt() async throws {
    let sandbox = try await Sandbox.start()
    defer { Task { await sandbox.stop() } }
    let start = try await sandbox.testbridge(["start", "--title", "Shards"])
    #expect(start.status == 0, "\(start.stderr)")
    let uid = try #require(start.stdout.split(separator: "\n").last.map(String.init))
    let report = try await sandbox.testbridge(["report", "--proceed", "nested/TEST-com.acme.CartTest.xml"], ["TESTOMATIO_RUN": uid])
    #expect(report.status == 1)
    #expect(await sandbox.server.emulator.state().run(uid)?.finished == false)
    let finish = try await sandbox.testbridge(["finish"], ["TESTOMATIO_RUN": uid])
    #expect(finish.status == 0, "\(finish.stderr)")
    let run = try #require(await sandbox.server.emulator.state().run(uid))
    #expect(run.finished && run.statusEvents == ["finish"])
  }

  @Test func dryRunSendsNothingAndShowsEveryRequestWithoutSecrets() async throws {
    let sandbox = try await Sandbox.start()
    defer { Task { await sandbox.stop() } }
    let output = try await sandbox.testbridge(["report", "--dry-run", "pytest.xml"])
    #expect(output.status == 0, "\(output.stderr)")
    #expect(await sandbox.server.emulator.state().requests.isEmpty)
    #expect(output.stdout.contains("Dry run: 3 request(s) would be sent, none was:"))
    #expect(output.stdout.contains("POST \(sandbox.url.absoluteString)/api/reporter (body:"))
    #expect(output.stdout.contains("api_key=REDACTED"))
    #expect(output.stdout.contains("tests[8]"))
    #expect(!output.stdout.contains(Self.apiKey) && !output.stderr.contains(Self.apiKey))
  }

  @Test func dryRunOutWritesEachRequestWholeAndRedactedWithoutSendingIt() async throws {
    let sandbox = try await Sandbox.start()
    defer { Task { await sandbox.stop() } }
    let folder = sandbox.spool.appendingPathComponent("requests")
    // A file of an earlier dry run, to be replaced; a file of the user's, to be kept.
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    try Data("{}".utf8).write(to: folder.appendingPathComponent("testomatio-009-PUT-old.json"))
    try Data("mine".utf8).write(to: folder.appendingPathComponent("notes.txt"))
    let output = try await sandbox.testbridge(["report", "--dry-run", "--dry-run-out", folder.path, "pytest.xml"])
    #expect(output.status == 0, "\(output.stderr)")
    #expect(await sandbox.server.emulator.state().requests.isEmpty)
    #expect(output.stdout.contains("each request whole (secrets redacted) in \(folder.path)/testomatio-*.json"))
    let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
    #expect(
      names == [
        "notes.txt", "testomatio-001-POST-api-reporter.json", "testomatio-002-POST-api-reporter-dry-run-testrun.json",
        "testomatio-003-PUT-api-reporter-dry-run.json",
      ])
    for name in names where name.hasSuffix(".json") {
      let text = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
      #expect(!text.contains(Self.apiKey), "\(name)")
    }
    let upload = try Data(contentsOf: folder.appendingPathComponent(names[2]))
    let document = try #require(JSONValue.parse(Array(upload))?.objectValue)
    #expect(document["method"] == .string("POST"))
    #expect(document["url"] == .string("\(sandbox.url.absoluteString)/api/reporter/dry-run/testrun"))
    let tests = try #require(document["body"]?.objectValue?["tests"]?.arrayValue)
    #expect(tests.count == 8)
    #expect(tests.contains { $0.objectValue?["title"] == .string("test_discount_applies") })

    let misuse = try await sandbox.testbridge(["report", "--dry-run-out", folder.path, "pytest.xml"])
    #expect(misuse.status == 64)
    #expect(misuse.stderr.contains("--dry-run-out writes what a dry run would send: add --dry-run"))
    #expect(await sandbox.server.emulator.state().requests.isEmpty)
  }

  @Test func secretsNeverReachOutputErrorsOrTheAuditLog() async throws {
    let sandbox = try await Sandbox.start()
    defer { Task { await sandbox.stop() } }
    let audit = sandbox.spool.appendingPathComponent("audit.jsonl")
    let wrongKey = "tstmt_wrong_key_d41d8cd98f"
    let output = try await sandbox.testbridge(
      ["report", "--audit-log", audit.path, "pytest.xml"], ["TESTOMATIO": wrongKey])
    #expect(output.status == 1)
    #expect(output.stderr.contains("401"))
    let log = try String(contentsOf: audit, encoding: .utf8)
    #expect(log.contains("\"status\":401"))
    for text in [output.stdout, output.stderr, log] {
      #expect(!text.contains(wrongKey))
    }
    let spooled = try FileManager.default.subpathsOfDirectory(atPath: sandbox.spool.path).filter { $0.hasSuffix(".json") }
    for file in spooled {
      #expect(!(try String(contentsOf: sandbox.spool.appendingPathComponent(file), encoding: .utf8)).contains(wrongKey))
    }
  }

  @Test func withoutAnAccountReportOnlySummarises() async throws {
    let output = try await ChildProcess.testbridgeAsync(["report", "nested/TEST-com.acme.CartTest.xml"], directory: Self.reports)
    #expect(output.status == 1)
    #expect(output.stdout.contains("Testomat.io reporting is off"))
    #expect(output.stdout.contains("flaky        1"))
  }

  @Test func linkedTestsPrintsTheGrepForm() async throws {
    let sandbox = try await Sandbox.start()
    defer { Task { await sandbox.stop() } }
    await sandbox.server.emulator.seedTestGrep(type: "jira", id: "SHOP-7", tests: ["1a2b3c4d", "@T5e6f7a8b"])
    let grep = try await sandbox.testbridge(["linked-tests", "--jira", "SHOP-7"])
    #expect(grep.status == 0, "\(grep.stderr)")
    #expect(grep.stdout == "T1a2b3c4d|T5e6f7a8b\n")
    let ids = try await sandbox.testbridge(["linked-tests", "--jira", "SHOP-7", "--format", "ids"])
    #expect(ids.stdout == "T1a2b3c4d\nT5e6f7a8b\n")
    let none = try await sandbox.testbridge(["linked-tests", "--tag", "nothing"])
    #expect(none.stdout == "\n")
    #expect(none.stderr.contains("links no tests"))
    let request = try #require(await sandbox.server.emulator.state().requests.first { $0.path == "/api/test_grep" })
    #expect(request.query?.contains(Self.apiKey) == false)
  }

  @Test func plainHTTPToAnotherHostIsRefused() async throws {
    let output = try await ChildProcess.testbridgeAsync(
      ["report", "pytest.xml"], environment: ["TESTOMATIO": Self.apiKey, "TESTOMATIO_URL": "http://testomat.example.com"],
      directory: Self.reports)
    #expect(output.status == 64)
    #expect(output.stderr.contains("--allow-insecure-http"))
  }
}
