import BridgeHTTP
import Foundation
import HTTPServer
import Sandbox
import Testing
import Testomatio
import Trigger

/// `testbridge serve`'s handler behind a real HTTP server on 127.0.0.1, with the Testomat.io
/// sandbox and the CI emulators as its upstreams.
private struct Bench {
  let testomatio: SandboxServer
  let ci: CISandboxServer
  let server: HTTPServer
  let base: String
  let testomatioURL: String
  let logs: LogCollector
  let transport: URLSessionTransport

  static let secrets = [webhookSecret, automationToken, "tstmt_sandbox", "ghs_sandbox_token", "glptt-sandbox-token"]

  /// Sends a webhook, signed unless `headers` already carry credentials or `sign` is false.
  func post(
    _ body: [UInt8], headers: [String: String] = [:], sign: Bool = true, delivery: String? = nil,
    path: String = "/hooks/jira", method: HTTPMethod = .POST
  ) async throws -> HTTPResponse {
    var all = ["Content-Type": "application/json", "User-Agent": "Atlassian Webhook HTTP Client"]
    if sign { all["X-Hub-Signature"] = signature(body) }
    if let delivery { all["X-Atlassian-Webhook-Identifier"] = delivery }
    all.merge(headers) { $1 }
    let url = try #require(URL(string: base + path))
    return try await transport.send(HTTPRequest(method: method, url: url, headers: all, body: body))
  }

  func reply(_ response: HTTPResponse) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]) ?? [:]
  }

  /// Nothing was created upstream.
  func expectNoSideEffects(sourceLocation: SourceLocation = #_sourceLocation) async {
    #expect(await testomatio.emulator.state().runs.isEmpty, sourceLocation: sourceLocation)
    #expect(await ci.state().dispatches.isEmpty, sourceLocation: sourceLocation)
  }

  /// No secret reached a log line.
  func expectCleanLogs(sourceLocation: SourceLocation = #_sourceLocation) {
    for secret in Self.secrets {
      #expect(!logs.text.contains(secret), "log leaks a secret: \(logs.text)", sourceLocation: sourceLocation)
    }
    #expect(!logs.text.contains("Checkout fails"), "log shows the body", sourceLocation: sourceLocation)
  }
}

private func withBench(
  rules: TriggerRules = .default, defaultCI: CIKind = .github, maxBodyBytes: Int = 64 * 1024,
  linked: [String: [String]] = ["PROJ-1": ["T1a2b3c4d", "@T5e6f7a8b", "T1a2b3c4d"]],
  _ body: (Bench) async throws -> Void
) async throws {
  let testomatio = SandboxServer()
  let ci = CISandboxServer()
  let server = HTTPServer(configuration: ServerConfiguration(maxBodyBytes: maxBodyBytes, readTimeout: .seconds(10)))
  let transport = URLSessionTransport(defaultTimeout: 15)
  let logs = LogCollector()
  var started: [@Sendable () async -> Void] = []
  do {
    let testomatioURL = try await testomatio.start()
    started.append { await testomatio.stop(graceful: false) }
    let ciBase = try await ci.start().absoluteString
    started.append { await ci.stop(graceful: false) }
    for (key, tests) in linked {
      await testomatio.emulator.seedTestGrep(type: "jira", id: key, tests: tests)
    }
    let client = TestomatioClient(transport: transport, baseURL: testomatioURL, apiKey: "tstmt_sandbox")
    let github = GitHubDispatcher(
      config: try GitHubDispatchConfig.resolve(environment: [
        "GITHUB_API_URL": ciBase, "GITHUB_REPOSITORY": "sandbox/tests", "GITHUB_TOKEN": "ghs_sandbox_token",
        "TESTBRIDGE_GITHUB_WORKFLOW": "testbridge.yml",
      ]), transport: transport)
    let gitlab = GitLabDispatcher(
      config: try GitLabDispatchConfig.resolve(environment: [
        "GITLAB_URL": ciBase, "GITLAB_PROJECT_ID": "42", "GITLAB_TRIGGER_TOKEN": "glptt-sandbox-token",
      ]), transport: transport)
    let handler = WebhookHandler(
      authenticator: WebhookAuthenticator(secrets: WebhookSecrets(signingSecret: webhookSecret, token: automationToken)),
      rules: rules,
      linkedTests: TestomatioLinkedTests(client: client),
      scheduler: TestomatioRunScheduler(client: client),
      dispatchers: [github, gitlab],
      defaultCI: defaultCI,
      testomatioURL: testomatioURL.absoluteString,
      additionalSecrets: ["tstmt_sandbox", "ghs_sandbox_token", "glptt-sandbox-token"],
      log: logs.sink)
    let port = try server.start { request in await handler.handle(request) }
    started.append { await server.stop(graceful: false) }
    try await body(
      Bench(
        testomatio: testomatio, ci: ci, server: server, base: "http://127.0.0.1:\(port)",
        testomatioURL: testomatioURL.absoluteString, logs: logs, transport: transport))
  } catch {
    for stop in started.reversed() { await stop() }
    throw error
  }
  for stop in started.reversed() { await stop() }
}

@Suite(.serialized) struct WebhookHandlerTests {
  @Test func signedWebhookCreatesTheRunAndStartsCI() async throws {
    try await withBench { bench in
      let response = try await bench.post(adminWebhook(key: "PROJ-1", to: "In QA"), delivery: "d-1")
      #expect(response.status == 202, "\(response.bodyText)")
      let reply = bench.reply(response)
      #expect(reply["status"] as? String == "accepted")
      #expect(reply["tests"] as? Int == 2)
      #expect(reply["ci"] as? String == "github")
      #expect(reply["issue"] as? String == "PROJ-1")

      let runs = await bench.testomatio.emulator.state().runs
      let run = try #require(runs.first)
      #expect(runs.count == 1)
      #expect(reply["run"] as? String == run.uid)
      #expect(reply["run_url"] as? String == run.url)
      #expect(run.jiraID == "PROJ-1")
      #expect(run.title == "Jira PROJ-1")
      #expect(!run.finished)

      let dispatches = await bench.ci.state().dispatches
      let dispatch = try #require(dispatches.first)
      #expect(dispatches.count == 1)
      #expect(dispatch.kind == "workflow_dispatch")
      #expect(dispatch.ref == "main")
      #expect(dispatch.authPresent)
      #expect(
        dispatch.inputs == [
          "run": run.uid, "grep": "T1a2b3c4d|T5e6f7a8b", "jira": "PROJ-1", "testomatio_url": bench.testomatioURL,
        ])
      // The Testomat.io API key never travels to CI.
      #expect(!dispatch.inputs.values.contains { $0.contains("tstmt_") })
      #expect(!response.bodyText.contains("tstmt_"))
      bench.expectCleanLogs()
      #expect(bench.logs.text.contains("accepted (202)"))
    }
  }

  @Test func automationTokenStartsGitLabThroughARule() async throws {
    let rules = try TriggerRules.parse(
      Array(#"{"rules": [{"events": ["automation"], "label": "run-tests", "ci": "gitlab", "title": "{issue} from Jira"}]}"#.utf8))
    try await withBench(rules: rules) { bench in
      let body = Array(#"{"issueKey": "PROJ-1", "labels": ["run-tests"]}"#.utf8)
      let response = try await bench.post(body, headers: ["Authorization": "Bearer \(automationToken)"], sign: false)
      #expect(response.status == 202, "\(response.bodyText)")
      let reply = bench.reply(response)
      #expect(reply["ci"] as? String == "gitlab")
      #expect(reply["pipeline"] as? String == "1000")
      let run = try #require(await bench.testomatio.emulator.state().runs.first)
      #expect(run.title == "PROJ-1 from Jira")
      let dispatch = try #require(await bench.ci.gitlab.dispatches().first)
      #expect(dispatch.inputs["run"] == run.uid)
      #expect(dispatch.inputs["grep"] == "T1a2b3c4d|T5e6f7a8b")
      #expect(await bench.ci.github.dispatches().isEmpty)
      bench.expectCleanLogs()
    }
  }

  @Test(
    "requests that must change nothing",
    arguments: [
      ("unsigned", 401),
      ("wrong signature", 401),
      ("signature of another body", 401),
      ("wrong token", 401),
      ("malformed JSON", 400),
      ("not an object", 400),
      ("wrong types", 400),
      ("hostile nesting", 400),
    ])
  func rejected(kind: String, status: Int) async throws {
    try await withBench { bench in
      let good = adminWebhook(key: "PROJ-1", to: "In QA")
      let response: HTTPResponse
      switch kind {
      case "unsigned":
        response = try await bench.post(good, sign: false)
      case "wrong signature":
        response = try await bench.post(good, headers: ["X-Hub-Signature": signature(good, secret: "guess")])
      case "signature of another body":
        response = try await bench.post(
          adminWebhook(key: "PROJ-1", to: "Done"), headers: ["X-Hub-Signature": signature(good)])
      case "wrong token":
        response = try await bench.post(good, headers: ["X-Testbridge-Token": "guess"], sign: false)
      case "malformed JSON":
        response = try await bench.post(Array(#"{"issue": {"key": "PROJ-1""#.utf8))
      case "not an object":
        response = try await bench.post(Array(#"["PROJ-1"]"#.utf8))
      case "wrong types":
        response = try await bench.post(Array(#"{"issue": {"key": ["PROJ-1"]}}"#.utf8))
      default:
        let deep = String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)
        response = try await bench.post(Array(#"{"key": "PROJ-1", "x": \#(deep)}"#.utf8))
      }
      #expect(response.status == status, "\(response.bodyText)")
      #expect(bench.reply(response)["status"] as? String == (status == 401 ? "unauthenticated" : "invalid"))
      for secret in Bench.secrets { #expect(!response.bodyText.contains(secret)) }
      await bench.expectNoSideEffects()
      bench.expectCleanLogs()
    }
  }

  @Test func oversizedBodiesAreRefusedByTheServer() async throws {
    try await withBench(maxBodyBytes: 8 * 1024) { bench in
      let filler = String(repeating: "x", count: 20 * 1024)
      let body = Array(#"{"key": "PROJ-1", "filler": "\#(filler)"}"#.utf8)
      let response = try await bench.post(body)
      #expect(response.status == 413)
      await bench.expectNoSideEffects()
    }
  }

  @Test func replayedDeliveryTriggersOnce() async throws {
    try await withBench { bench in
      let body = adminWebhook(key: "PROJ-1", to: "In QA")
      let first = try await bench.post(body, delivery: "5c4d1e7a-0001")
      #expect(first.status == 202)
      let second = try await bench.post(body, delivery: "5c4d1e7a-0001")
      #expect(second.status == 200)
      #expect(bench.reply(second)["status"] as? String == "duplicate")
      #expect(await bench.testomatio.emulator.state().runs.count == 1)
      #expect(await bench.ci.state().dispatches.count == 1)
      // A different delivery of the same event is a new trigger.
      #expect(try await bench.post(body, delivery: "5c4d1e7a-0002").status == 202)
      #expect(await bench.ci.state().dispatches.count == 2)
    }
  }

  @Test func unauthenticatedDeliveriesDoNotPoisonTheReplayLog() async throws {
    try await withBench { bench in
      let body = adminWebhook(key: "PROJ-1")
      let unsigned = try await bench.post(body, sign: false, delivery: "d-7")
      #expect(unsigned.status == 401)
      let signed = try await bench.post(body, delivery: "d-7")
      #expect(signed.status == 202)
    }
  }

  @Test func ciFailureFinishesTheRunAsFailed() async throws {
    try await withBench { bench in
      await bench.ci.github.setFaults([SandboxFault(status: 500, times: 1, message: "workflow service down")])
      let body = adminWebhook(key: "PROJ-1", to: "In QA")
      let response = try await bench.post(body, delivery: "d-ci")
      #expect(response.status == 502, "\(response.bodyText)")
      let reply = bench.reply(response)
      #expect(reply["status"] as? String == "ci_failed")
      let reason = try #require(reply["reason"] as? String)
      #expect(reason.contains("HTTP 500"))
      #expect(reason.contains("workflow service down"))

      let run = try #require(await bench.testomatio.emulator.state().runs.first)
      #expect(reply["run"] as? String == run.uid)
      #expect(run.finished)
      #expect(run.statusEvents == ["fail"])
      #expect(run.status == "failed")
      #expect(await bench.ci.state().dispatches.isEmpty)
      bench.expectCleanLogs()
      #expect(bench.logs.text.contains("finished as failed"))

      // Jira retries a 5xx delivery; once CI is back the retry goes through.
      let retry = try await bench.post(body, delivery: "d-ci")
      #expect(retry.status == 202, "\(retry.bodyText)")
      #expect(await bench.ci.state().dispatches.count == 1)
    }
  }

  @Test func ciRefusalReasonCarriesNoToken() async throws {
    try await withBench { bench in
      await bench.ci.github.setFaults([
        SandboxFault(status: 401, times: 1, message: "Bad credentials for ghs_sandbox_token")
      ])
      let response = try await bench.post(adminWebhook(key: "PROJ-1"))
      #expect(response.status == 502)
      #expect(!response.bodyText.contains("ghs_sandbox_token"))
      #expect(response.bodyText.contains("[REDACTED]"))
      bench.expectCleanLogs()
    }
  }

  @Test func testomatioFailureStopsBeforeAnythingIsCreated() async throws {
    try await withBench { bench in
      await bench.testomatio.emulator.setFaults([
        SandboxFault(method: "GET", pathPrefix: "/api/test_grep", status: 503, times: 1)
      ])
      let response = try await bench.post(adminWebhook(key: "PROJ-1"), delivery: "d-t")
      #expect(response.status == 502)
      #expect(bench.reply(response)["status"] as? String == "testomatio_failed")
      await bench.expectNoSideEffects()
      bench.expectCleanLogs()
      #expect(try await bench.post(adminWebhook(key: "PROJ-1"), delivery: "d-t").status == 202)
    }
  }

  @Test func runCreationFailureStopsBeforeCI() async throws {
    try await withBench { bench in
      await bench.testomatio.emulator.setFaults([
        SandboxFault(method: "POST", pathPrefix: "/api/reporter", status: 500, times: 1)
      ])
      let response = try await bench.post(adminWebhook(key: "PROJ-1"))
      #expect(response.status == 502)
      #expect(bench.reply(response)["status"] as? String == "testomatio_failed")
      await bench.expectNoSideEffects()
    }
  }

  @Test func eventsNoRuleMatchesAreIgnored() async throws {
    let rules = try TriggerRules.parse(Array(#"{"rules": [{"transition_to": "Ready for QA"}]}"#.utf8))
    try await withBench(rules: rules) { bench in
      let response = try await bench.post(adminWebhook(key: "PROJ-1", to: "In Progress"))
      #expect(response.status == 200)
      let reply = bench.reply(response)
      #expect(reply["status"] as? String == "ignored")
      #expect((reply["reason"] as? String)?.contains("no transition to 'Ready for QA'") == true)
      await bench.expectNoSideEffects()
      #expect(try await bench.post(adminWebhook(key: "PROJ-1", to: "Ready for QA")).status == 202)
    }
  }

  @Test func issuesWithoutLinkedTestsAreIgnored() async throws {
    try await withBench { bench in
      let response = try await bench.post(adminWebhook(key: "OTHER-5"))
      #expect(response.status == 200)
      let reply = bench.reply(response)
      #expect(reply["status"] as? String == "ignored")
      #expect((reply["reason"] as? String)?.contains("no Testomat.io tests are linked to OTHER-5") == true)
      await bench.expectNoSideEffects()
    }
  }

  @Test func routesAndMethods() async throws {
    try await withBench { bench in
      let health = try await bench.post([], sign: false, path: "/healthz", method: .GET)
      #expect(health.status == 200)
      #expect(health.bodyText == #"{"status":"ok"}"#)
      let wrongMethod = try await bench.post([], sign: false, path: "/hooks/jira", method: .GET)
      #expect(wrongMethod.status == 405)
      #expect(wrongMethod.header("Allow") == "POST")
      #expect(try await bench.post([], sign: false, path: "/healthz", method: .POST).status == 405)
      #expect(try await bench.post(adminWebhook(), path: "/hooks/other").status == 404)
      await bench.expectNoSideEffects()
    }
  }
}

/// The handler with in-memory doubles, for paths the sandboxes cannot reach.
@Suite struct WebhookHandlerUnitTests {
  private struct Linked: LinkedTestsSource {
    func linkedTests(jiraKey: String) async throws(TriggerError) -> [String] { ["T1"] }
  }

  private struct Scheduler: RunScheduler {
    func createRun(jiraKey: String, title: String) async throws(TriggerError) -> ScheduledRun {
      ScheduledRun(id: "r1", url: nil)
    }
    func markFailed(runID: String, reason: String) async throws(TriggerError) {
      throw .testomatio("finishing failed for \(webhookSecret)")
    }
  }

  private struct FailingCI: CIDispatcher {
    var kind: CIKind { .github }
    func dispatch(_ request: CIDispatchRequest) async throws(TriggerError) -> CIDispatchReceipt {
      throw .ciDispatch(ci: .github, status: 403, reason: "refused token \(automationToken)")
    }
  }

  private func request(_ body: [UInt8]) -> ServerRequest {
    ServerRequest(
      method: "POST", target: "/hooks/jira", headers: ["X-Hub-Signature": signature(body)], body: body)
  }

  @Test func ruleAskingForAMissingCIAnswers500() async {
    let logs = LogCollector()
    let handler = WebhookHandler(
      authenticator: WebhookAuthenticator(secrets: WebhookSecrets(signingSecret: webhookSecret)),
      linkedTests: Linked(), scheduler: Scheduler(), dispatchers: [FailingCI()], defaultCI: .gitlab, log: logs.sink)
    let response = await handler.handle(request(adminWebhook()))
    #expect(response.status == 500)
    #expect(response.bodyText.contains("GitLab CI is not configured"))
  }

  @Test func failureReasonsAreRedactedEvenWhenUpstreamEchoesSecrets() async {
    let logs = LogCollector()
    let handler = WebhookHandler(
      authenticator: WebhookAuthenticator(secrets: WebhookSecrets(signingSecret: webhookSecret, token: automationToken)),
      linkedTests: Linked(), scheduler: Scheduler(), dispatchers: [FailingCI()], defaultCI: .github, log: logs.sink)
    let response = await handler.handle(request(adminWebhook()))
    #expect(response.status == 502)
    #expect(!response.bodyText.contains(automationToken))
    #expect(!logs.text.contains(automationToken))
    #expect(!logs.text.contains(webhookSecret))
    #expect(logs.text.contains("could not be marked failed"))
  }
}
