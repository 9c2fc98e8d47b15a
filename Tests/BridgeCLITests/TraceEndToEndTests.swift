import BridgeCore
import BridgeTestSupport
import Foundation
import HTTPServer
import Jira
import Sandbox
import Testing

/// `testbridge trace` as a user runs it: the real binary against the Jira emulator and the
/// Testomat.io sandbox on 127.0.0.1.
///
/// The scope (project TRC, searched two issues per page):
/// - TRC-1 links @T1a2b3c4d (issue property) and @T5e6f7a8b (test_grep); both pass: passing
/// - TRC-2 links @T9a8b7c6d, which fails: failing
/// - TRC-3 links @Tdeadbeef, which never ran: incomplete
/// - TRC-4 and TRC-6 link nothing: untested
/// - TRC-5 links nothing, but a passing test in the results carries its key: passing
@Suite(.serialized) struct TraceEndToEndTests {
  static let apiKey = "tstmt_trace_e2e_secret_7a6b5c4d"
  static let apiToken = "jira-cloud-token-trace-3e2d1c0b"
  static let email = "trace@example.com"
  static let pat = "jira-dc-pat-trace-9f8e7d6c"

  static var secrets: [String] {
    [apiKey, apiToken, pat, Data("\(email):\(apiToken)".utf8).base64EncodedString()]
  }

  /// A `testbridge-results/1` file with the scope's outcomes.
  static let resultsFile = """
    {"format": "testbridge-results/1", "run_id": "r1", "title": "Nightly",
     "shard": {"id": "1", "attempt": 1}, "started_at": 0, "ended_at": 1, "exit_code": 1,
     "tests": [
      {"rid": "a", "suite": ["shop"], "classname": "shop.Cart", "name": "adds", "outcome": "passed", "duration": 0.1,
       "testomatio_id": "T1a2b3c4d", "jira": []},
      {"rid": "b", "suite": ["shop"], "classname": "shop.Cart", "name": "pays", "outcome": "flaky", "duration": 0.1,
       "testomatio_id": "@T5e6f7a8b", "jira": []},
      {"rid": "c", "suite": ["shop"], "classname": "shop.Refund", "name": "refunds", "outcome": "failed", "duration": 0.1,
       "testomatio_id": "9a8b7c6d", "jira": []},
      {"rid": "d", "suite": ["auth"], "classname": "auth.Login", "name": "login works", "outcome": "passed",
       "duration": 0.1, "testomatio_id": null, "jira": ["TRC-5"]},
      {"rid": "e", "suite": ["misc"], "classname": "misc.Other", "name": "unrelated", "outcome": "failed",
       "duration": 0.1, "testomatio_id": "T00000000", "jira": []}
     ]}
    """

  /// The same outcomes as JUnit, for `parse --format json`.
  static let junit = """
    <?xml version="1.0" encoding="UTF-8"?>
    <testsuites>
      <testsuite name="shop">
        <testcase classname="shop.Cart" name="adds @T1a2b3c4d" time="0.1"/>
        <testcase classname="shop.Cart" name="pays @T5e6f7a8b" time="0.1"><failure message="flaky"/></testcase>
        <testcase classname="shop.Cart" name="pays @T5e6f7a8b" time="0.1"/>
        <testcase classname="shop.Refund" name="refunds @T9a8b7c6d" time="0.1"><failure message="no"/></testcase>
        <testcase classname="auth.Login" name="login works" time="0.1">
          <properties><property name="jira" value="TRC-5"/></properties>
        </testcase>
      </testsuite>
    </testsuites>
    """

  struct Harness {
    let testomatio: SandboxServer
    let testomatioURL: URL
    let jira: JiraSandboxServer
    let jiraURL: URL
    let directory: URL

    static func start(pageSize: Int = 2) async throws -> Harness {
      let testomatio = SandboxServer(emulator: TestomatioEmulator(apiKey: TraceEndToEndTests.apiKey))
      let testomatioURL = try await testomatio.start()
      let jira = JiraSandboxServer(
        emulator: JiraEmulator(email: TraceEndToEndTests.email, apiToken: TraceEndToEndTests.apiToken, pat: TraceEndToEndTests.pat))
      let jiraURL = try await jira.start()
      let directory = try ProjectPaths.temporaryDirectory("trace-e2e")
      try TraceEndToEndTests.resultsFile.write(
        to: directory.appendingPathComponent("results.json"), atomically: true, encoding: .utf8)
      try TraceEndToEndTests.junit.write(to: directory.appendingPathComponent("junit.xml"), atomically: true, encoding: .utf8)
      let emulator = jira.emulator
      let property = "shop.testomatio.tests"
      await emulator.seedIssue(
        key: "TRC-1", summary: "Checkout with a card", status: "Done",
        properties: [property: .object(["tests": .array([.string("@T1a2b3c4d")])])])
      await emulator.seedIssue(
        key: "TRC-2", summary: "Refunds <fast> & \"safe\"", status: "In Progress",
        properties: [property: .array([.string("@T9a8b7c6d")])])
      await emulator.seedIssue(
        key: "TRC-3", summary: "Search | filters", status: "To Do", properties: [property: .array([.string("@Tdeadbeef")])])
      await emulator.seedIssue(key: "TRC-4", summary: "Wishlist", status: "To Do")
      await emulator.seedIssue(key: "TRC-5", summary: "Login", status: "Done")
      await emulator.seedIssue(key: "TRC-6", summary: "Docs", status: "To Do")
      await emulator.seedIssue(key: "OTHER-1", summary: "Out of scope", properties: [property: .array([.string("@T1a2b3c4d")])])
      await emulator.setMaxResults(pageSize)
      await testomatio.emulator.seedTestGrep(type: "jira", id: "TRC-1", tests: ["@T5e6f7a8b", "@T1a2b3c4d"])
      return Harness(testomatio: testomatio, testomatioURL: testomatioURL, jira: jira, jiraURL: jiraURL, directory: directory)
    }

    func environment(testomatio: Bool = true, dataCenter: Bool = false) -> [String: String] {
      var environment = ["JIRA_URL": jiraURL.absoluteString, "TESTOMATIO_PROJECT": "shop"]
      if dataCenter {
        environment["JIRA_PAT"] = TraceEndToEndTests.pat
      } else {
        environment["JIRA_EMAIL"] = TraceEndToEndTests.email
        environment["JIRA_API_TOKEN"] = TraceEndToEndTests.apiToken
      }
      if testomatio {
        environment["TESTOMATIO"] = TraceEndToEndTests.apiKey
        environment["TESTOMATIO_URL"] = testomatioURL.absoluteString
      }
      return environment
    }

    func testbridge(_ arguments: [String], testomatio: Bool = true, dataCenter: Bool = false) async throws
      -> ProcessOutput
    {
      let output = try await ChildProcess.testbridgeAsync(
        arguments, environment: environment(testomatio: testomatio, dataCenter: dataCenter), directory: directory)
      for secret in TraceEndToEndTests.secrets {
        #expect(!output.stdout.contains(secret), "a secret reached stdout")
        #expect(!output.stderr.contains(secret), "a secret reached stderr")
      }
      return output
    }

    func stop() async {
      await testomatio.stop(graceful: false)
      await jira.stop(graceful: false)
      try? FileManager.default.removeItem(at: directory)
    }
  }

  static func object(_ text: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
  }

  static func rows(_ document: [String: Any]) -> [String: [String: Any]] {
    var rows: [String: [String: Any]] = [:]
    for row in document["issues"] as? [[String: Any]] ?? [] {
      if let key = row["key"] as? String { rows[key] = row }
    }
    return rows
  }

  static func outcomes(_ row: [String: Any]?) -> [String] {
    (row?["tests"] as? [[String: Any]] ?? []).map { test in
      "\(test["id"] as? String ?? test["name"] as? String ?? "?")=\(test["outcome"] as? String ?? "?")"
    }
  }

  /// Checks the scope's matrix in the JSON document.
  static func expectScopeMatrix(_ document: [String: Any]) {
    #expect(document["format"] as? String == "testbridge-trace/1")
    #expect(document["outcomes_from"] as? String == "results")
    #expect(document["scope"] as? String == #"project = "TRC" ORDER BY key ASC"#)
    let figures = document["figures"] as? [String: Any] ?? [:]
    #expect(figures["issues"] as? Int == 6)
    #expect(figures["issues_with_tests"] as? Int == 4)
    #expect(figures["coverage_percent"] as? Double == 66.7)
    #expect(figures["issues_passing"] as? Int == 2)
    #expect(figures["passing_percent"] as? Double == 33.3)
    #expect(figures["issues_failing"] as? Int == 1)
    #expect(figures["issues_untested"] as? Int == 2)
    #expect(figures["tests"] as? Int == 5)
    #expect(figures["tests_failing"] as? Int == 1)
    #expect(figures["tests_never_run"] as? Int == 1)
    let rows = rows(document)
    #expect((document["issues"] as? [[String: Any]])?.compactMap { $0["key"] as? String }
      == ["TRC-1", "TRC-2", "TRC-3", "TRC-4", "TRC-5", "TRC-6"])
    #expect(rows["TRC-1"]?["state"] as? String == "passing")
    #expect(rows["TRC-1"]?["summary"] as? String == "Checkout with a card")
    #expect(rows["TRC-1"]?["status"] as? String == "Done")
    #expect(outcomes(rows["TRC-1"]) == ["1a2b3c4d=passed", "5e6f7a8b=flaky"])
    #expect(rows["TRC-2"]?["state"] as? String == "failing")
    #expect(rows["TRC-2"]?["failing"] as? Int == 1)
    #expect(outcomes(rows["TRC-2"]) == ["9a8b7c6d=failed"])
    #expect(rows["TRC-3"]?["state"] as? String == "incomplete")
    #expect(rows["TRC-3"]?["never_run"] as? Int == 1)
    #expect(outcomes(rows["TRC-3"]) == ["deadbeef=never_run"])
    #expect(rows["TRC-4"]?["state"] as? String == "untested")
    #expect(outcomes(rows["TRC-4"]) == [])
    #expect(rows["TRC-5"]?["state"] as? String == "passing")
    #expect(outcomes(rows["TRC-5"]) == ["login works=passed"])
    #expect(rows["TRC-6"]?["state"] as? String == "untested")
    #expect(rows["TRC-1"]?["latest_run"] is NSNull)
  }

  // MARK: - The matrix

  @Test func jsonMatrixOverSeveralPagesWithResultsFile() async throws {
    let harness = try await Harness.start()
    defer { Task { await harness.stop() } }
    let output = try await harness.testbridge([
      "trace", "--jira-project", "TRC", "--results", "results.json", "--format", "json",
    ])
    #expect(output.status == 0, "\(output.stderr)")
    Self.expectScopeMatrix(try Self.object(output.stdout))
    // Six issues two per page: three search requests, and nothing written.
    let requests = await harness.jira.emulator.state().requests
    #expect(requests.filter { $0.path.hasSuffix("/search/jql") }.count == 3)
    #expect(requests.allSatisfy { $0.method == "GET" })
    let grep = await harness.testomatio.emulator.state().requests.filter { $0.path.contains("test_grep") }
    #expect(grep.count == 6)
  }

  @Test func dataCenterPagesByOffsetAndWritesTheFile() async throws {
    let harness = try await Harness.start()
    defer { Task { await harness.stop() } }
    let output = try await harness.testbridge(
      ["trace", "--jira-project", "TRC", "--results", "results.json", "--format", "json", "-o", "trace.json"],
      dataCenter: true)
    #expect(output.status == 0, "\(output.stderr)")
    #expect(output.stdout == "Traceability: 4 of 6 issue(s) have tests (66.7%); written to trace.json\n")
    let written = try String(contentsOf: harness.directory.appendingPathComponent("trace.json"), encoding: .utf8)
    Self.expectScopeMatrix(try Self.object(written))
    let searches = await harness.jira.emulator.state().requests.filter { $0.path.hasSuffix("/rest/api/2/search") }
    #expect(searches.count == 3)
  }

  @Test func withoutALinkSourceOnlyTaggedResultsCount() async throws {
    let harness = try await Harness.start(pageSize: 50)
    defer { Task { await harness.stop() } }
    let output = try await ChildProcess.testbridgeAsync(
      ["trace", "--jira-project", "TRC", "--results", "results.json", "--format", "json"],
      environment: [
        "JIRA_URL": harness.jiraURL.absoluteString, "JIRA_EMAIL": Self.email, "JIRA_API_TOKEN": Self.apiToken,
      ], directory: harness.directory)
    #expect(output.status == 0, "\(output.stderr)")
    #expect(output.stderr.contains("linked tests cannot be read: set TESTOMATIO_PROJECT"))
    let document = try Self.object(output.stdout)
    let figures = document["figures"] as? [String: Any] ?? [:]
    #expect(figures["issues_with_tests"] as? Int == 1)
    #expect(Self.outcomes(Self.rows(document)["TRC-5"]) == ["login works=passed"])
  }

  @Test func parseJSONDocumentGivesTheSameMatrix() async throws {
    let harness = try await Harness.start(pageSize: 50)
    defer { Task { await harness.stop() } }
    let parsed = try await harness.testbridge(["parse", "--format", "json", "-o", "parsed.json", "junit.xml"])
    #expect(parsed.status == 0, "\(parsed.stderr)")
    let output = try await harness.testbridge([
      "trace", "--jira-project", "TRC", "--results", "parsed.json", "--format", "json",
    ])
    #expect(output.status == 0, "\(output.stderr)")
    Self.expectScopeMatrix(try Self.object(output.stdout))
  }

  @Test func tableAndMarkdownCarryTheSameMatrix() async throws {
    let harness = try await Harness.start()
    defer { Task { await harness.stop() } }
    let table = try await harness.testbridge(["trace", "--jira-project", "TRC", "--results", "results.json"])
    #expect(table.status == 0, "\(table.stderr)")
    let lines = table.stdout.components(separatedBy: "\n")
    #expect(lines.contains("Coverage: 4 of 6 issue(s) have tests (66.7%); 2 all passing (33.3%), 1 failing, 2 untested"))
    #expect(lines.contains("Tests: 5 linked, 1 failing, 1 never run"))
    #expect(lines.contains { $0.hasPrefix("TRC-2  failing") && $0.hasSuffix("Refunds <fast> & \"safe\"") })
    #expect(lines.contains { $0.hasPrefix("TRC-4  untested") })
    #expect(lines.contains { $0.contains("@T1a2b3c4d passed, @T5e6f7a8b flaky") })
    #expect(lines.contains { $0.contains("@Tdeadbeef never run") })

    let markdown = try await harness.testbridge([
      "trace", "--jira-project", "TRC", "--results", "results.json", "--format", "markdown",
    ])
    #expect(markdown.status == 0, "\(markdown.stderr)")
    let md = markdown.stdout.components(separatedBy: "\n")
    #expect(md.first == "### Traceability: 66.7% of 6 issue(s) have tests")
    #expect(md.contains("| 6 | 4 | 66.7% | 2 | 1 | 2 | 5 | 1 | 1 |"))
    #expect(md.contains(#"| TRC-2 | Refunds \<fast\> & "safe" | In Progress | ❌ failing | 1 | `@T9a8b7c6d` ❌ failed |"#))
    #expect(md.contains(#"| TRC-3 | Search \| filters | To Do | ⚠️ incomplete | 0 | `@Tdeadbeef` ➖ never run |"#))
    #expect(md.contains("| TRC-4 | Wishlist | To Do | ➖ untested | 0 | none |"))
  }

  @Test func outcomesFromTheIssuesRunHistory() async throws {
    let harness = try await Harness.start()
    defer { Task { await harness.stop() } }
    func run(_ status: String, passed: Int, failed: Int) -> JSONValue {
      .object([
        "version": .integer(1),
        "runs": .array([
          .object([
            "run_id": .string("run-\(status)"), "title": .string("Nightly"), "url": .string("https://example.com/r"),
            "status": .string(status), "passed": .integer(Int64(passed)), "failed": .integer(Int64(failed)),
            "skipped": .integer(0), "flaky": .integer(0), "at": .string("2026-03-01T10:00:00Z"),
          ]),
          .object([
            "run_id": .string("older"), "title": .null, "url": .null, "status": .string("passed"), "passed": .integer(1),
            "failed": .integer(0), "skipped": .integer(0), "flaky": .integer(0), "at": .string("2026-02-01T10:00:00Z"),
          ]),
        ]),
      ])
    }
    await harness.jira.emulator.seedIssue(
      key: "TRC-1", summary: "Checkout with a card", status: "Done",
      properties: ["testbridge.runs": run("passed", passed: 2, failed: 0)])
    await harness.jira.emulator.seedIssue(
      key: "TRC-2", summary: "Refunds", status: "In Progress", properties: ["testbridge.runs": run("failed", passed: 0, failed: 1)])
    let output = try await harness.testbridge(["trace", "--jira-project", "TRC", "--format", "json"])
    #expect(output.status == 0, "\(output.stderr)")
    let document = try Self.object(output.stdout)
    #expect(document["outcomes_from"] as? String == "jira-history")
    let rows = Self.rows(document)
    #expect(Self.outcomes(rows["TRC-1"]) == ["1a2b3c4d=passed", "5e6f7a8b=passed"])
    #expect(Self.outcomes(rows["TRC-2"]) == ["9a8b7c6d=failed"])
    #expect(Self.outcomes(rows["TRC-3"]) == ["deadbeef=never_run"])
    let latest = rows["TRC-2"]?["latest_run"] as? [String: Any]
    #expect(latest?["run_id"] as? String == "run-failed")
    #expect(latest?["failed"] as? Int == 1)
    #expect(rows["TRC-3"]?["latest_run"] is NSNull)
    let figures = document["figures"] as? [String: Any] ?? [:]
    #expect(figures["issues_with_tests"] as? Int == 3)
    #expect(figures["issues_passing"] as? Int == 1)
    #expect(figures["tests_never_run"] as? Int == 1)

    let table = try await harness.testbridge(["trace", "--jira-project", "TRC"])
    #expect(table.stdout.contains("failed 2026-03-01T10:00:00Z (0 passed, 1 failed, 0 skipped, 0 flaky)"))
    #expect(table.stdout.contains("Outcomes: from each issue's latest run in 'testbridge.runs'"))
  }

  // MARK: - The gate

  @Test func failUnderExitCodes() async throws {
    let harness = try await Harness.start(pageSize: 50)
    defer { Task { await harness.stop() } }
    let base = ["trace", "--jira-project", "TRC", "--results", "results.json", "--format", "json"]
    let passing = try await harness.testbridge(base + ["--fail-under", "66"])
    #expect(passing.status == 0, "\(passing.stderr)")
    let failing = try await harness.testbridge(base + ["--fail-under", "70%"])
    #expect(failing.status == 1)
    #expect(failing.stderr.contains("coverage 66.7% is below --fail-under 70%: 2 issue(s) in scope have no linked test"))
    Self.expectScopeMatrix(try Self.object(failing.stdout))
    let bad = try await harness.testbridge(base + ["--fail-under", "150"])
    #expect(bad.status == 64)
    let noScope = try await harness.testbridge(["trace", "--results", "results.json"])
    #expect(noScope.status == 64)
    #expect(noScope.stderr.contains("no scope"))
    let badResults = try await harness.testbridge(["trace", "--jira-project", "TRC", "--results", "junit.xml"])
    #expect(badResults.status == 64)
    // A scope Jira refuses (no such epic) is an error, not an empty matrix.
    let refused = try await harness.testbridge(
      ["trace", "--jira-epic", "TRC-9", "--format", "json"], testomatio: false)
    #expect(refused.status == 1)
    #expect(refused.stderr.contains("reading the Jira scope"))
  }
}
