import BridgeCore
import BridgeTestSupport
import Foundation
import HTTPServer
import Jira
import Sandbox
import Testing

/// The Jira half of a delivery as a user runs it: the real binary, over real HTTP on
/// 127.0.0.1, against the Testomat.io sandbox and the Jira emulator together (Cloud and Data
/// Center), plus `flush` and `doctor`.
@Suite(.serialized) struct JiraEndToEndTests {
  static let apiKey = "tstmt_jira_e2e_secret_51c0ffee"
  static let apiToken = "jira-cloud-token-e2e-8a7b6c5d"
  static let pat = "jira-dc-pat-e2e-1f2e3d4c"
  static let email = "bridge@example.com"

  /// Values that must never appear in any output: the Testomat.io key, the Jira token and PAT,
  /// and the basic-auth header value made of them.
  static var secrets: [String] {
    [apiKey, apiToken, pat, Data("\(email):\(apiToken)".utf8).base64EncodedString()]
  }

  /// A JUnit report whose tests carry Jira keys (a `jira` property and `@KEY` tags), a retried
  /// test that ends flaky, and tests known only by their Testomat.io ids.
  static let mixedReport = """
    <?xml version="1.0" encoding="UTF-8"?>
    <testsuites>
      <testsuite name="checkout">
        <testcase classname="shop.Cart" name="adds an item @SHOP-1 @T1a2b3c4d" time="0.1"/>
        <testcase classname="shop.Cart" name="removes an item" time="0.1">
          <properties><property name="jira" value="SHOP-1, SHOP-2"/></properties>
          <failure message="expected 0 items">assert failed</failure>
        </testcase>
        <testcase classname="shop.Cart" name="retries @SHOP-2" time="0.1"><failure message="flaky"/></testcase>
        <testcase classname="shop.Cart" name="retries @SHOP-2" time="0.1"/>
        <testcase classname="shop.Pay" name="pays @T5e6f7a8b" time="0.1"/>
        <testcase classname="shop.Pay" name="refunds @T9a8b7c6d" time="0.1"><skipped/></testcase>
      </testsuite>
    </testsuites>
    """

  /// Every test passes; two carry keys.
  static let greenReport = """
    <?xml version="1.0" encoding="UTF-8"?>
    <testsuites>
      <testsuite name="smoke">
        <testcase classname="shop.Smoke" name="home page @SHOP-1" time="0.1"/>
        <testcase classname="shop.Smoke" name="login @SHOP-2 @T5e6f7a8b" time="0.1"/>
      </testsuite>
    </testsuites>
    """

  /// Both sandboxes, a working folder with the reports, and the environment pointing at them.
  struct Harness {
    let testomatio: SandboxServer
    let testomatioURL: URL
    let jira: JiraSandboxServer
    let jiraURL: URL
    let directory: URL
    var spool: URL { directory.appendingPathComponent("spool") }

    /// - Parameter jiraConfiguration: the Jira emulator's server settings (a short read
    ///   timeout for the dropped-connection case).
    static func start(jiraConfiguration: ServerConfiguration = ServerConfiguration()) async throws -> Harness {
      let testomatio = SandboxServer(emulator: TestomatioEmulator(apiKey: JiraEndToEndTests.apiKey))
      let testomatioURL = try await testomatio.start()
      let jira = JiraSandboxServer(
        emulator: JiraEmulator(email: JiraEndToEndTests.email, apiToken: JiraEndToEndTests.apiToken, pat: JiraEndToEndTests.pat),
        configuration: jiraConfiguration)
      let jiraURL = try await jira.start()
      let directory = try ProjectPaths.temporaryDirectory("jira-e2e")
      try JiraEndToEndTests.mixedReport.write(to: directory.appendingPathComponent("mixed.xml"), atomically: true, encoding: .utf8)
      try JiraEndToEndTests.greenReport.write(to: directory.appendingPathComponent("green.xml"), atomically: true, encoding: .utf8)
      for key in ["SHOP-1", "SHOP-2", "SHOP-10"] { await jira.emulator.seedIssue(key: key) }
      return Harness(testomatio: testomatio, testomatioURL: testomatioURL, jira: jira, jiraURL: jiraURL, directory: directory)
    }

    enum Flavour { case cloud, dataCenter }

    func environment(_ flavour: Flavour = .cloud, testomatio: Bool = true, _ extra: [String: String] = [:]) -> [String: String] {
      var environment = ["JIRA_URL": jiraURL.absoluteString, "TESTBRIDGE_SPOOL_DIR": spool.path]
      switch flavour {
      case .cloud:
        environment["JIRA_EMAIL"] = JiraEndToEndTests.email
        environment["JIRA_API_TOKEN"] = JiraEndToEndTests.apiToken
      case .dataCenter:
        environment["JIRA_PAT"] = JiraEndToEndTests.pat
      }
      if testomatio {
        environment["TESTOMATIO"] = JiraEndToEndTests.apiKey
        environment["TESTOMATIO_URL"] = testomatioURL.absoluteString
      }
      environment.merge(extra) { $1 }
      return environment
    }

    func testbridge(
      _ arguments: [String], _ flavour: Flavour = .cloud, testomatio: Bool = true, _ extra: [String: String] = [:]
    ) async throws -> ProcessOutput {
      let output = try await ChildProcess.testbridgeAsync(
        arguments, environment: environment(flavour, testomatio: testomatio, extra), directory: directory)
      JiraEndToEndTests.expectNoSecrets(output)
      return output
    }

    func state() async -> JiraSandboxState { await jira.emulator.state() }

    func stop() async {
      await testomatio.stop(graceful: false)
      await jira.stop(graceful: false)
      try? FileManager.default.removeItem(at: directory)
    }
  }

  static func expectNoSecrets(_ output: ProcessOutput, sourceLocation: SourceLocation = #_sourceLocation) {
    for secret in secrets {
      #expect(!output.stdout.contains(secret), "a secret reached stdout", sourceLocation: sourceLocation)
      #expect(!output.stderr.contains(secret), "a secret reached stderr", sourceLocation: sourceLocation)
    }
  }

  static func history(_ issue: JiraSandboxIssue?) -> [JSONValue] {
    issue?.properties["testbridge.runs"]?["runs"]?.arrayValue ?? []
  }

  // MARK: - Which issues, with their own counts

  @Test func cloudRunLinksEveryIssueItsTestsCoverWithTheirOwnCounts() async throws {
    let harness = try await Harness.start()
    defer { Task { await harness.stop() } }
    // A scope over three pages: SCOPE-1 links a test through Testomat.io's issue property,
    // SCOPE-2 through test_grep; SCOPE-3 links a test that did not run; SCOPE-4 and 5 link nothing.
    for number in 1...5 { await harness.jira.emulator.seedIssue(key: "SCOPE-\(number)") }
    await harness.jira.emulator.seedIssue(
      key: "SCOPE-1", properties: ["shop.testomatio.tests": .object(["tests": .array([.string("@T5e6f7a8b")])])])
    await harness.jira.emulator.seedIssue(
      key: "SCOPE-3", properties: ["shop.testomatio.tests": .array([.string("@Tdeadbeef")])])
    await harness.jira.emulator.setMaxResults(2)
    await harness.testomatio.emulator.seedTestGrep(type: "jira", id: "SCOPE-2", tests: ["@T9a8b7c6d"])

    let output = try await harness.testbridge([
      "report", "--title", "Nightly", "--publish", "--jira", "SHOP-10", "--jira-project", "SCOPE",
      "--testomatio-project", "shop", "mixed.xml",
    ])
    #expect(output.status == 1, "a test failed, so exit 1: \(output.stderr)")
    let run = try #require(await harness.testomatio.emulator.state().runs.first)
    let publicURL = try #require(run.publicURL)
    let state = await harness.state()
    #expect(state.refused.isEmpty)
    let globalID = RemoteLinkTitle.globalID(linkKey: "Nightly")

    let expected: [(String, String, Bool)] = [
      ("SHOP-1", "testbridge: 1 passed, 1 failed · Nightly", false),
      ("SHOP-2", "testbridge: 0 passed, 1 failed, 1 flaky · Nightly", false),
      ("SHOP-10", "testbridge: 2 passed, 1 failed, 1 skipped, 1 flaky · Nightly", false),
      ("SCOPE-1", "testbridge: 1 passed · Nightly", true),
      ("SCOPE-2", "testbridge: 0 passed, 1 skipped · Nightly", false),
    ]
    for (key, title, resolved) in expected {
      let issue = try #require(state.issue(key))
      #expect(issue.remoteLinks.count == 1, "\(key)")
      let link = try #require(issue.remoteLink(globalID: globalID), "\(key)")
      #expect(link.title == title, "\(key)")
      #expect(link.url == publicURL, "\(key): the public URL of a published run")
      #expect(link.resolved == resolved, "\(key)")
      let runs = Self.history(issue)
      #expect(runs.count == 1, "\(key)")
      #expect(runs.first?["run_id"]?.stringValue == run.uid)
      #expect(runs.first?["title"]?.stringValue == "Nightly")
      #expect(issue.comments.isEmpty, "comments are off by default")
      #expect(output.stdout.contains("  \(key): "), "\(key) is reported")
    }
    for key in ["SCOPE-3", "SCOPE-4", "SCOPE-5"] {
      let issue = try #require(state.issue(key))
      #expect(issue.remoteLinks.isEmpty && issue.properties["testbridge.runs"] == nil, "\(key) has no test in the run")
    }
    let searches = state.requests.filter { $0.path == "/rest/api/3/search/jql" }
    #expect(searches.count == 3, "five issues at two per page")
    #expect(state.requests.allSatisfy { $0.auth == "basic" })
    #expect(output.stdout.contains("5 of 5 issue(s) updated; the scope search found 5"))
    // The Testomat.io report went out whole, before Jira.
    #expect(run.results.count == 5 && run.finished)
  }

  // MARK: - Reruns, comments, Data Center

  @Test func dataCenterRerunsUpdateInPlaceAndAnotherTitleGetsItsOwnLink() async throws {
    let harness = try await Harness.start()
    defer { Task { await harness.stop() } }
    let arguments = ["report", "--jira-write", "comments", "--jira-comment", "green.xml"]
    let first = try await harness.testbridge(arguments + ["--title", "Nightly"], .dataCenter)
    #expect(first.status == 0, "\(first.stderr)")
    let second = try await harness.testbridge(arguments + ["--title", "Nightly"], .dataCenter)
    #expect(second.status == 0, "\(second.stderr)")
    var state = await harness.state()
    #expect(state.refused.isEmpty)
    #expect(state.requests.allSatisfy { $0.auth == "bearer" && $0.path.hasPrefix("/rest/api/2/") })
    let nightly = RemoteLinkTitle.globalID(linkKey: "Nightly")
    for key in ["SHOP-1", "SHOP-2"] {
      let issue = try #require(state.issue(key))
      #expect(issue.remoteLinks.count == 1, "\(key): a rerun updates its link in place")
      #expect(issue.remoteLink(globalID: nightly)?.updateCount == 1)
      #expect(issue.remoteLink(globalID: nightly)?.title == "testbridge: 1 passed · Nightly")
      #expect(issue.remoteLink(globalID: nightly)?.resolved == true)
      #expect(issue.comments.count == 1, "\(key): the comment is edited, not added again")
      let comment = try #require(issue.comments.first)
      #expect(comment.format == "wiki")
      #expect(comment.updateCount == 1)
      let text = try #require(comment.body.stringValue)
      #expect(text.contains("*testbridge*: 1 passed · Nightly · [report|"))
      #expect(Self.history(issue).count == 2, "two runs, two history entries")
    }
    #expect(state.issue("SHOP-10")?.remoteLinks.isEmpty == true, "no test carries SHOP-10")

    let smoke = try await harness.testbridge(arguments + ["--title", "Smoke"], .dataCenter)
    #expect(smoke.status == 0, "\(smoke.stderr)")
    state = await harness.state()
    let issue = try #require(state.issue("SHOP-1"))
    #expect(issue.remoteLinks.count == 2, "another title gets a link of its own")
    #expect(issue.remoteLink(globalID: RemoteLinkTitle.globalID(linkKey: "Smoke"))?.title == "testbridge: 1 passed · Smoke")
    #expect(issue.comments.count == 2, "and a comment of its own")

    // --jira-link-key keeps one link across differently titled runs.
    let keyed = try await harness.testbridge(
      ["report", "--title", "Nightly 2026-03-02", "--jira-link-key", "Nightly", "green.xml"], .dataCenter)
    #expect(keyed.status == 0, "\(keyed.stderr)")
    let relinked = try #require(await harness.state().issue("SHOP-1"))
    #expect(relinked.remoteLinks.count == 2)
    #expect(relinked.remoteLink(globalID: nightly)?.title == "testbridge: 1 passed · Nightly 2026-03-02")
  }

  @Test func cloudCommentIsAnADFDocumentEditedInPlace() async throws {
    let harness = try await Harness.start()
    defer { Task { await harness.stop() } }
    let arguments = ["report", "--title", "Nightly", "--jira-write", "comments", "--jira-comment", "mixed.xml"]
    #expect(try await harness.testbridge(arguments).status == 1)
    #expect(try await harness.testbridge(arguments).status == 1)
    let state = await harness.state()
    #expect(state.refused.isEmpty)
    let issue = try #require(state.issue("SHOP-1"))
    #expect(issue.comments.count == 1)
    let comment = try #require(issue.comments.first)
    #expect(comment.format == "adf")
    #expect(comment.updateCount == 1)
    #expect(comment.body["type"]?.stringValue == "doc")
    let text = "\(comment.body)"
    #expect(text.contains("1 passed, 1 failed"))
    #expect(text.contains(RemoteLinkTitle.globalID(linkKey: "Nightly")))
  }

  // MARK: - Write levels

  @Test func eachWriteLevelWritesNothingBeyondItself() async throws {
    let harness = try await Harness.start()
    defer { Task { await harness.stop() } }
    let build = "https://ci.example.com/builds/42"
    // Jira without Testomat.io: the link goes to the CI build.
    let properties = try await harness.testbridge(
      ["report", "--title", "Nightly", "--jira-write", "properties", "--ci-build-url", build, "green.xml"], testomatio: false)
    #expect(properties.status == 0, "\(properties.stderr)")
    var state = await harness.state()
    for key in ["SHOP-1", "SHOP-2"] {
      let issue = try #require(state.issue(key))
      #expect(Self.history(issue).count == 1)
      #expect(Self.history(issue).first?["url"]?.stringValue == build)
      #expect(issue.remoteLinks.isEmpty && issue.comments.isEmpty, "properties writes nothing but properties")
    }
    #expect(!state.requests.contains { $0.path.contains("remotelink") || $0.path.contains("comment") })

    let links = try await harness.testbridge(
      ["report", "--title", "Nightly", "--jira-write", "links", "--ci-build-url", build, "green.xml"], testomatio: false)
    #expect(links.status == 0, "\(links.stderr)")
    state = await harness.state()
    let linked = try #require(state.issue("SHOP-1"))
    #expect(linked.remoteLinks.count == 1 && linked.remoteLinks.first?.url == build)
    #expect(linked.comments.isEmpty, "links adds no comment")
    #expect(!state.requests.contains { $0.path.contains("comment") })

    // The comments level without --jira-comment still comments nothing (comments are opt-in).
    let comments = try await harness.testbridge(
      ["report", "--title", "Nightly", "--jira-write", "comments", "--ci-build-url", build, "green.xml"], testomatio: false)
    #expect(comments.status == 0, "\(comments.stderr)")
    state = await harness.state()
    #expect(state.issue("SHOP-1")?.comments.isEmpty == true)
    #expect(state.refused.isEmpty)
    #expect(!state.requests.contains { $0.method == "DELETE" || ($0.method == "PUT" && !$0.path.contains("/properties/")) })

    // Asking for a comment below the comments level is a usage error, before anything is sent.
    let before = await harness.state().requests.count
    let refused = try await harness.testbridge(["report", "--jira-comment", "green.xml"], testomatio: false)
    #expect(refused.status == 64)
    #expect(refused.stderr.contains("--jira-comment needs --jira-write comments"))
    #expect(await harness.state().requests.count == before)
  }

  // MARK: - Misbehaving Jira

  @Test func rateLimitsAndServerErrorsAreSurvived() async throws {
    let harness = try await Harness.start()
    defer { Task { await harness.stop() } }
    await harness.jira.emulator.setFaults([
      SandboxFault(method: "POST", pathPrefix: "/rest/api/3/issue/SHOP-1/remotelink", status: 429, times: 1, retryAfter: 1),
      SandboxFault(method: "PUT", pathPrefix: "/rest/api/3/issue/SHOP-2/properties/", status: 503, times: 2),
      SandboxFault(method: "GET", pathPrefix: "/rest/api/3/issue/SHOP-2/properties/", status: 502, times: 1),
    ])
    let audit = harness.directory.appendingPathComponent("audit.jsonl")
    let output = try await harness.testbridge(["report", "--title", "Nightly", "--audit-log", audit.path, "green.xml"])
    #expect(output.status == 0, "\(output.stderr)")
    let log = try String(contentsOf: audit, encoding: .utf8)
    #expect(log.contains("/rest/api/3/issue/SHOP-1/remotelink\",\"status\":429"))
    #expect(log.contains("/rest/api/3/issue/SHOP-2/properties/testbridge.runs\",\"status\":503"))
    for secret in Self.secrets { #expect(!log.contains(secret), "the audit log holds no credential") }
    let state = await harness.state()
    #expect(state.requests.filter(\.fault).count == 4)
    #expect(state.faults.isEmpty, "every fault was used")
    for key in ["SHOP-1", "SHOP-2"] {
      let issue = try #require(state.issue(key))
      #expect(issue.remoteLinks.count == 1, "\(key)")
      #expect(Self.history(issue).count == 1, "\(key)")
    }
    #expect(output.stdout.contains("2 of 2 issue(s) updated"))
    #expect(!output.stderr.contains("kept in"))
  }

  /// Jira applied the write, then the answer broke off mid-body: testbridge retries (a remote
  /// link with the same globalId replaces itself; the property write is a PUT), and each
  /// issue still ends with one link and one run in its history.
  @Test func answersCutOffMidBodyAreRetriedWithoutDoublingLinksOrHistory() async throws {
    let harness = try await Harness.start()
    defer { Task { await harness.stop() } }
    await harness.jira.emulator.setFaults([
      SandboxFault(method: "POST", pathPrefix: "/rest/api/3/issue/SHOP-1/remotelink", times: 1, cutBodyAfter: 5),
      SandboxFault(method: "POST", pathPrefix: "/rest/api/3/issue/SHOP-2/remotelink", times: 1, cutBodyAfter: 3, reset: true),
      SandboxFault(method: "GET", pathPrefix: "/rest/api/3/issue/SHOP-2/properties/", times: 1, cutBodyAfter: 0),
    ])
    let output = try await harness.testbridge(["report", "--title", "Nightly", "green.xml"])
    #expect(output.status == 0, "\(output.stderr)")
    #expect(output.stdout.contains("2 of 2 issue(s) updated"), "\(output.stdout)")
    #expect(!output.stderr.contains("kept in"))
    let state = await harness.state()
    #expect(state.faults.isEmpty, "every cut was made")
    // Each cut request reached Jira twice: once cut, once answered whole.
    for (method, path) in [
      ("POST", "/rest/api/3/issue/SHOP-1/remotelink"), ("POST", "/rest/api/3/issue/SHOP-2/remotelink"),
      ("GET", "/rest/api/3/issue/SHOP-2/properties/testbridge.runs"),
    ] {
      #expect(state.requests.filter { $0.method == method && $0.path == path }.count == 2, "\(method) \(path)")
    }
    for key in ["SHOP-1", "SHOP-2"] {
      let issue = try #require(state.issue(key))
      #expect(issue.remoteLinks.count == 1, "\(key)")
      #expect(Self.history(issue).count == 1, "\(key)")
    }
  }

  @Test func anIssueJiraDoesNotKnowIsReportedAndNotSpooled() async throws {
    let harness = try await Harness.start()
    defer { Task { await harness.stop() } }
    let report = """
      <testsuite name="s"><testcase classname="c" name="known @SHOP-1"/><testcase classname="c" name="typo @SHPO-1"/></testsuite>
      """
    try report.write(to: harness.directory.appendingPathComponent("unknown.xml"), atomically: true, encoding: .utf8)
    let output = try await harness.testbridge(["report", "--title", "Nightly", "unknown.xml"])
    #expect(output.status == 0, "Jira trouble never changes the exit status: \(output.stderr)")
    #expect(output.stdout.contains("1 of 2 issue(s) updated"))
    #expect(output.stdout.contains("  SHPO-1: 1 passed (not updated)"))
    #expect(output.stderr.contains("warning: Jira issue 'SHPO-1' was not updated:"))
    #expect(output.stderr.contains("HTTP 404"))
    #expect(!output.stderr.contains("testbridge flush"), "a missing issue is not worth spooling")
    #expect(await harness.state().issue("SHOP-1")?.remoteLinks.count == 1)
    let spooled = (try? FileManager.default.contentsOfDirectory(atPath: harness.spool.path)) ?? []
    #expect(!spooled.contains { $0.hasPrefix("jira-") })
  }

  @Test func jiraDownLeavesTheReportAndExitStatusAloneAndFlushCompletesTheUpdates() async throws {
    let harness = try await Harness.start()
    defer { Task { await harness.stop() } }
    await harness.jira.emulator.seedIssue(
      key: "SCOPE-1", properties: ["shop.testomatio.tests": .array([.string("@T5e6f7a8b")])])
    await harness.jira.emulator.setFaults([SandboxFault(pathPrefix: "/rest/api/", status: 503, times: 1_000)])
    let report = try await harness.testbridge(
      ["report", "--title", "Nightly", "--jira-project", "SCOPE", "--testomatio-project", "shop", "green.xml"],
      .cloud, testomatio: true, ["TESTOMATIO_REQUEST_TIMEOUT": "3000"])
    #expect(report.status == 0, "the tests passed; Jira being down does not change that: \(report.stderr)")
    let run = try #require(await harness.testomatio.emulator.state().runs.first)
    #expect(run.results.count == 2 && run.finished, "the Testomat.io report is unaffected")
    #expect(report.stderr.contains("testbridge flush"))
    var state = await harness.state()
    #expect(state.issues.allSatisfy { $0.remoteLinks.isEmpty && $0.propertyWrites == 0 })
    let files = try FileManager.default.contentsOfDirectory(atPath: harness.spool.path).filter { $0.hasPrefix("jira-") }
    #expect(files.count == 1)
    let spooled = try String(contentsOf: harness.spool.appendingPathComponent(try #require(files.first)), encoding: .utf8)
    for secret in Self.secrets { #expect(!spooled.contains(secret), "the spool never holds a credential") }
    #expect(!spooled.contains(Self.email))
    #expect(spooled.contains("\"deferred_scope\""))

    await harness.jira.emulator.setFaults([])
    let flush = try await harness.testbridge(["flush"])
    #expect(flush.status == 0, "\(flush.stdout)\n\(flush.stderr)")
    state = await harness.state()
    #expect(state.refused.isEmpty)
    for key in ["SHOP-1", "SHOP-2", "SCOPE-1"] {
      let issue = try #require(state.issue(key))
      #expect(issue.remoteLinks.count == 1, "\(key)")
      #expect(issue.remoteLinks.first?.url == run.url, "\(key)")
      #expect(Self.history(issue).first?["run_id"]?.stringValue == run.uid, "\(key)")
    }
    #expect(state.issue("SCOPE-1")?.remoteLinks.first?.title == "testbridge: 1 passed · Nightly")
    #expect(try FileManager.default.contentsOfDirectory(atPath: harness.spool.path).filter { $0.hasPrefix("jira-") }.isEmpty)
    let again = try await harness.testbridge(["flush"])
    #expect(again.stdout.contains("Nothing to flush"))
  }

  /// How the Jira emulator fails every request in ``jiraFailingEveryWayLeavesTheReportAloneAndFlushCompletesTheUpdates(_:)``.
  enum JiraFailure: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case status500, slowerThanTheTimeout, droppedConnection
    var testDescription: String { rawValue }

    var rule: SandboxFault {
      switch self {
      case .status500: SandboxFault(pathPrefix: "/rest/api/", status: 500, times: 1_000)
      // Held past the client's timeout, then served anyway (the update lands late).
      case .slowerThanTheTimeout: SandboxFault(pathPrefix: "/rest/api/", times: 1_000, delayMilliseconds: 1_500)
      case .droppedConnection: SandboxFault(pathPrefix: "/rest/api/", times: 1_000, dropConnection: true)
      }
    }
  }

  /// The Jira-down case for each way Jira can fail: the Testomat.io report is whole, the
  /// exit status is the tests' (0), the updates are spooled, and `flush` completes them
  /// exactly once per issue (one link, one history entry) once Jira answers again.
  @Test(arguments: JiraFailure.allCases)
  func jiraFailingEveryWayLeavesTheReportAloneAndFlushCompletesTheUpdates(_ failure: JiraFailure) async throws {
    // A short read timeout: libcurl may re-send a request whose kept-alive connection was
    // dropped without its body, which the server then waits for until this timeout.
    let harness = try await Harness.start(jiraConfiguration: ServerConfiguration(readTimeout: .seconds(1)))
    defer { Task { await harness.stop() } }
    await harness.jira.emulator.seedIssue(
      key: "SCOPE-1", properties: ["shop.testomatio.tests": .array([.string("@T5e6f7a8b")])])
    await harness.jira.emulator.setFaults([failure.rule])
    let report = try await harness.testbridge(
      ["report", "--title", "Nightly", "--jira-project", "SCOPE", "--testomatio-project", "shop", "green.xml"],
      .cloud, testomatio: true, ["TESTOMATIO_REQUEST_TIMEOUT": "500"])
    #expect(report.status == 0, "the tests passed; Jira failing does not change that: \(report.stderr)")
    let testomatio = await harness.testomatio.emulator.state()
    #expect(testomatio.runs.count == 1)
    let run = try #require(testomatio.runs.first)
    #expect(run.results.count == 2 && run.finished, "the Testomat.io report is unaffected")
    #expect(run.ridCounts.values.allSatisfy { $0 == 1 })
    #expect(report.stderr.contains("testbridge flush"), "\(report.stderr)")
    let files = try FileManager.default.contentsOfDirectory(atPath: harness.spool.path).filter { $0.hasPrefix("jira-") }
    #expect(files.count == 1)
    let spooled = try String(contentsOf: harness.spool.appendingPathComponent(try #require(files.first)), encoding: .utf8)
    for secret in Self.secrets { #expect(!spooled.contains(secret), "the spool never holds a credential") }

    // Let every held request be answered, then count what reached Jira before the flush.
    let used = 1_000 - (await harness.state().faults.first?.times ?? 1_000)
    await harness.jira.emulator.setFaults([])
    #expect(await FaultInjectionTests.eventually { await harness.state().requests.filter(\.fault).count == used })
    var state = await harness.state()
    #expect(used > 0 && state.requests.filter(\.fault).count == used)
    if failure != .slowerThanTheTimeout {
      #expect(state.issues.allSatisfy { $0.remoteLinks.isEmpty && $0.propertyWrites == 0 }, "nothing was applied")
    }

    let flush = try await harness.testbridge(["flush"])
    #expect(flush.status == 0, "\(flush.stdout)\n\(flush.stderr)")
    state = await harness.state()
    #expect(state.refused.isEmpty)
    for key in ["SHOP-1", "SHOP-2", "SCOPE-1"] {
      let issue = try #require(state.issue(key))
      // Late answers applied before the flush are replaced in place, never added to.
      #expect(issue.remoteLinks.count == 1, "\(key)")
      #expect(issue.remoteLinks.first?.url == run.url, "\(key)")
      #expect(Self.history(issue).count == 1, "\(key)")
      #expect(Self.history(issue).first?["run_id"]?.stringValue == run.uid, "\(key)")
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: harness.spool.path).filter { $0.hasPrefix("jira-") }.isEmpty)
    #expect(await harness.testomatio.emulator.state().runs.first?.results.count == 2, "flush sent nothing more to Testomat.io")
  }

  @Test func anUnresolvableJiraSpoolsTheUpdatesForItsSiteAndFlushCompletesThemWhenItAnswers() async throws {
    let harness = try await Harness.start()
    defer { Task { await harness.stop() } }
    // `.invalid` never resolves (RFC 6761), and fails without any network.
    let unresolvable = ["JIRA_URL": "https://jira.invalid", "TESTOMATIO_REQUEST_TIMEOUT": "3000"]
    let report = try await harness.testbridge(["report", "--title", "Nightly", "green.xml"], .cloud, testomatio: true, unresolvable)
    #expect(report.status == 0, "the tests passed; Jira not resolving does not change that: \(report.stderr)")
    let run = try #require(await harness.testomatio.emulator.state().runs.first)
    #expect(run.results.count == 2 && run.finished, "the Testomat.io report is unaffected")
    #expect(report.stderr.contains("testbridge flush"), "\(report.stderr)")
    #expect(await harness.state().requests.isEmpty)
    let files = try FileManager.default.contentsOfDirectory(atPath: harness.spool.path).filter { $0.hasPrefix("jira-") }
    #expect(files.count == 1)
    let file = harness.spool.appendingPathComponent(try #require(files.first))
    let spooled = try Data(contentsOf: file)
    let site = try #require(JSONValue.parse(spooled)?["site"]?["url"]?.stringValue)
    #expect(site.hasPrefix("https://jira.invalid"), "\(site)")

    // While the name still does not resolve, flush fails (exit 4) and keeps the file as it was.
    let failed = try await harness.testbridge(["flush"], .cloud, testomatio: true, unresolvable)
    #expect(failed.status == 4, "\(failed.stdout)\n\(failed.stderr)")
    #expect(try Data(contentsOf: file) == spooled, "the spooled updates are kept intact")

    // The site answers again (here: the spooled site is the emulator's address); flush completes it.
    let text = try #require(String(data: spooled, encoding: .utf8))
    try Data(text.replacingOccurrences(of: site, with: harness.jiraURL.absoluteString).utf8).write(to: file)
    let flush = try await harness.testbridge(["flush"])
    #expect(flush.status == 0, "\(flush.stdout)\n\(flush.stderr)")
    let state = await harness.state()
    for key in ["SHOP-1", "SHOP-2"] {
      let issue = try #require(state.issue(key))
      #expect(issue.remoteLinks.count == 1, "\(key)")
      #expect(Self.history(issue).first?["run_id"]?.stringValue == run.uid, "\(key)")
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: harness.spool.path).filter { $0.hasPrefix("jira-") }.isEmpty)
  }

  // MARK: - Dry run

  @Test func dryRunSendsNothingToJiraAndListsEveryCall() async throws {
    let harness = try await Harness.start()
    defer { Task { await harness.stop() } }
    let output = try await harness.testbridge([
      "report", "--dry-run", "--title", "Nightly", "--jira-write", "comments", "--jira-comment", "--jira", "SHOP-10",
      "--jira-project", "SHOP", "--ci-build-url", "https://ci.example.com/builds/7", "green.xml",
    ])
    #expect(output.status == 0, "\(output.stderr)")
    #expect(await harness.state().requests.isEmpty, "nothing reached Jira")
    #expect(await harness.testomatio.emulator.state().requests.isEmpty)
    let base = harness.jiraURL.absoluteString + "/rest/api/3"
    #expect(output.stdout.contains("Jira dry run:"))
    #expect(output.stdout.contains("canned empty"))
    #expect(output.stdout.contains("GET \(base)/search/jql?jql="))
    for key in ["SHOP-1", "SHOP-2", "SHOP-10"] {
      #expect(output.stdout.contains("POST \(base)/issue/\(key)/remotelink (body:"), "\(key)")
      #expect(output.stdout.contains("GET \(base)/issue/\(key)/properties/testbridge.runs"), "\(key)")
      #expect(output.stdout.contains("PUT \(base)/issue/\(key)/properties/testbridge.runs (body:"), "\(key)")
      #expect(output.stdout.contains("GET \(base)/issue/\(key)/comment?"), "\(key)")
      #expect(output.stdout.contains("POST \(base)/issue/\(key)/comment (body:"), "\(key)")
    }
    #expect(!output.stdout.contains("Authorization"))
  }

  // MARK: - Doctor

  @Test func doctorPassesAWorkingConfiguration() async throws {
    let harness = try await Harness.start()
    defer { Task { await harness.stop() } }
    let cloud = try await harness.testbridge(["doctor", "--jira-project", "SHOP"])
    #expect(cloud.status == 0, "\(cloud.stdout)")
    #expect(cloud.stdout.contains("ok       signed in as testbridge sandbox"))
    #expect(cloud.stdout.contains("ok       Link Issues (LINK_ISSUES) in project 'SHOP'"))
    #expect(cloud.stdout.contains("ok       API key accepted"))
    #expect(cloud.stdout.contains("Everything testbridge needs is in place."))
    let commenting = ["doctor", "--jira-project", "SHOP", "--jira-write", "comments", "--jira-comment"]
    let withoutEdit = try await harness.testbridge(commenting, .dataCenter)
    #expect(withoutEdit.status == 1, "editing the comment in place needs Edit Own Comments")
    #expect(withoutEdit.stdout.contains("FAIL     Edit Own Comments (EDIT_OWN_COMMENTS) in project 'SHOP' is missing"))
    await harness.jira.emulator.setPermissions(JiraEmulator.allPermissions.union(["EDIT_OWN_COMMENTS"]))
    let dataCenter = try await harness.testbridge(commenting, .dataCenter)
    #expect(dataCenter.status == 0, "\(dataCenter.stdout)")
    #expect(dataCenter.stdout.contains("Jira Data Center"))
    #expect(dataCenter.stdout.contains("ok       Add Comments (ADD_COMMENTS) in project 'SHOP'"))
    // Scoped tokens go through the Atlassian gateway, /ex/jira/{cloudId}.
    let gateway = try await harness.testbridge(
      ["doctor", "--jira-gateway-url", harness.jiraURL.absoluteString], .cloud, testomatio: false,
      ["JIRA_CLOUD_ID": "sandbox-cloud"])
    #expect(gateway.status == 0, "\(gateway.stdout)")
    #expect(gateway.stdout.contains("cloud id 'sandbox-cloud'"))
    let state = await harness.state()
    #expect(state.requests.contains { $0.path == "/ex/jira/sandbox-cloud/rest/api/3/myself" })
    #expect(state.requests.allSatisfy { $0.method == "GET" }, "doctor only reads")
    #expect(state.refused.isEmpty)
    #expect(await harness.testomatio.emulator.state().runs.isEmpty, "doctor creates no run")
  }

  @Test func doctorNamesTheMissingPermissionAndRefusedCredentials() async throws {
    let harness = try await Harness.start()
    defer { Task { await harness.stop() } }
    await harness.jira.emulator.setPermissions(["BROWSE_PROJECTS", "EDIT_ISSUES"])
    let missing = try await harness.testbridge(["doctor", "--jira-project", "SHOP"])
    #expect(missing.status == 1)
    #expect(missing.stdout.contains("ok       Edit Issues (EDIT_ISSUES) in project 'SHOP'"))
    #expect(missing.stdout.contains("FAIL     Link Issues (LINK_ISSUES) in project 'SHOP' is missing"))
    #expect(missing.stdout.contains("grant the Jira account the 'Link Issues' project permission in project 'SHOP'"))
    #expect(missing.stdout.contains("1 problem(s) found."))
    // At the properties level the same account is enough.
    let properties = try await harness.testbridge(["doctor", "--jira-project", "SHOP", "--jira-write", "properties"])
    #expect(properties.status == 0, "\(properties.stdout)")

    let wrong = try await harness.testbridge(
      ["doctor"], .cloud, testomatio: true, ["JIRA_API_TOKEN": "wrong-token-5c4b3a29", "TESTOMATIO": "tstmt_wrong_9f8e7d"])
    #expect(wrong.status == 1)
    #expect(wrong.stdout.contains("FAIL     signing in:"))
    #expect(wrong.stdout.contains("401"))
    #expect(wrong.stdout.contains("check JIRA_EMAIL and JIRA_API_TOKEN"))
    #expect(wrong.stdout.contains("FAIL     Testomat.io:"))
    for secret in ["wrong-token-5c4b3a29", "tstmt_wrong_9f8e7d"] {
      #expect(!wrong.stdout.contains(secret) && !wrong.stderr.contains(secret))
    }
    #expect(await harness.state().refused.isEmpty)
  }
}
