import BridgeTestSupport
import Foundation
import HTTPServer
import Sandbox
import Testing
import Trigger

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// `testbridge serve` as a process: signed Jira webhooks in, a Testomat.io run and a
/// GitHub dispatch out, over real HTTP on 127.0.0.1.
@Suite(.serialized) struct ServeEndToEndTests {
  static let secret = "whsec_e2e_0c6f1a"
  static let apiKey = "tstmt_serve_e2e_91b2"
  static let githubToken = "ghs_sandbox_token"

  struct World {
    let testomatio: SandboxServer
    let ci: CISandboxServer
    let serve: LongRunningChild
    let hookURL: URL

    static func start(extraEnvironment: [String: String] = [:], arguments: [String] = []) async throws -> World {
      let testomatio = SandboxServer(emulator: TestomatioEmulator(apiKey: ServeEndToEndTests.apiKey))
      let testomatioURL = try await testomatio.start()
      await testomatio.emulator.seedTestGrep(type: "jira", id: "SHOP-7", tests: ["1a2b3c4d", "5e6f7a8b"])
      let ci = CISandboxServer()
      let ciURL = try await ci.start()
      var environment = [
        "TESTOMATIO": ServeEndToEndTests.apiKey, "TESTOMATIO_URL": testomatioURL.absoluteString,
        "TESTBRIDGE_WEBHOOK_SECRET": ServeEndToEndTests.secret, "GITHUB_API_URL": ciURL.absoluteString,
        "GITHUB_REPOSITORY": "sandbox/tests", "GITHUB_TOKEN": ServeEndToEndTests.githubToken,
        "TESTBRIDGE_GITHUB_WORKFLOW": "testbridge.yml",
      ]
      environment.merge(extraEnvironment) { $1 }
      let serve = try LongRunningChild.testbridge(["serve", "--listen", "127.0.0.1:0"] + arguments, environment: environment)
      let printed = try #require(await serve.waitForOutput(containing: "/hooks/jira"), "serve did not start: \(serve.stderr)")
      let line = try #require(printed.split(separator: "\n").first { $0.contains("listening on") })
      let url = try #require(URL(string: String(line.split(separator: " ").last ?? "")))
      return World(testomatio: testomatio, ci: ci, serve: serve, hookURL: url)
    }

    func stop() async -> ProcessOutput {
      serve.signal(SIGTERM)
      let output = await serve.wait()
      await testomatio.stop(graceful: false)
      await ci.stop(graceful: false)
      return output
    }
  }

  static func webhookBody(issue: String = "SHOP-7") -> Data {
    Data(
      """
      {"webhookEvent":"jira:issue_updated","issue":{"key":"\(issue)","fields":{"project":{"key":"SHOP"},\
      "labels":["checkout"],"status":{"name":"Ready for QA"}}},"changelog":{"items":[{"field":"status",\
      "fromString":"In Progress","toString":"Ready for QA"}]}}
      """.utf8)
  }

  static func signature(_ body: Data, secret: String = ServeEndToEndTests.secret) -> String {
    var mac = HMACSHA256(key: Array(secret.utf8))
    mac.update(Array(body))
    return "sha256=" + mac.finalize().map { String(format: "%02x", $0) }.joined()
  }

  static func post(_ url: URL, body: Data, headers: [String: String]) async throws -> (Int, String) {
    var request = URLRequest(url: url)
    request.httpMethod = "POST"
    request.httpBody = body
    request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
    let session = URLSession(configuration: .ephemeral)
    defer { session.finishTasksAndInvalidate() }
    let (data, response) = try await session.data(for: request)
    return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
  }

  @Test func signedWebhookCreatesTheRunAndDispatchesCI() async throws {
    let world = try await World.start()
    let body = Self.webhookBody()
    let (status, reply) = try await Self.post(
      world.hookURL, body: body,
      headers: ["X-Hub-Signature": Self.signature(body), "X-Atlassian-Webhook-Identifier": "delivery-1"])
    #expect(status == 202, "\(reply)")
    let state = await world.testomatio.emulator.state()
    let run = try #require(state.runs.first)
    #expect(state.runs.count == 1)
    #expect(run.jiraID == "SHOP-7")
    #expect(reply.contains(run.uid))
    let dispatches = await world.ci.github.dispatches()
    let dispatch = try #require(dispatches.first)
    #expect(dispatches.count == 1)
    #expect(dispatch.workflow == "testbridge.yml")
    #expect(dispatch.ref == "main")
    #expect(dispatch.inputs["run"] == run.uid)
    #expect(dispatch.inputs["grep"] == "T1a2b3c4d|T5e6f7a8b")
    #expect(dispatch.inputs["jira"] == "SHOP-7")
    #expect(dispatch.inputs.values.allSatisfy { !$0.contains(Self.apiKey) })

    // The same delivery again (Jira retries): answered, nothing new.
    let (replayStatus, _) = try await Self.post(
      world.hookURL, body: body,
      headers: ["X-Hub-Signature": Self.signature(body), "X-Atlassian-Webhook-Identifier": "delivery-1"])
    #expect(replayStatus == 200)
    #expect(await world.testomatio.emulator.state().runs.count == 1)
    #expect(await world.ci.github.dispatches().count == 1)

    let output = await world.stop()
    #expect(output.status == 0)
    #expect(output.stderr.contains("stopped"))
    for secret in [Self.secret, Self.apiKey, Self.githubToken] {
      #expect(!output.stdout.contains(secret) && !output.stderr.contains(secret))
    }
  }

  @Test func unsignedWronglySignedOversizedAndMalformedRequestsChangeNothing() async throws {
    let world = try await World.start(arguments: ["--max-body-bytes", "2048"])
    let body = Self.webhookBody()
    let unsigned = try await Self.post(world.hookURL, body: body, headers: [:])
    #expect(unsigned.0 == 401)
    let wrong = try await Self.post(
      world.hookURL, body: body, headers: ["X-Hub-Signature": Self.signature(body, secret: "not-the-secret")])
    #expect(wrong.0 == 401)
    let tampered = Data(body.dropLast()) + Data(" }".utf8)
    let tamperedReply = try await Self.post(world.hookURL, body: tampered, headers: ["X-Hub-Signature": Self.signature(body)])
    #expect(tamperedReply.0 == 401)
    let huge = Data(repeating: UInt8(ascii: " "), count: 4096) + body
    let oversized = try await Self.post(world.hookURL, body: huge, headers: ["X-Hub-Signature": Self.signature(huge)])
    #expect(oversized.0 == 413)
    let malformed = Data("{\"issue\": [1, 2".utf8)
    let malformedReply = try await Self.post(world.hookURL, body: malformed, headers: ["X-Hub-Signature": Self.signature(malformed)])
    #expect(malformedReply.0 == 400)
    #expect(await world.testomatio.emulator.state().runs.isEmpty)
    #expect(await world.ci.github.dispatches().isEmpty)
    let output = await world.stop()
    #expect(output.status == 0)
  }

  @Test func automationTokenAndCIFailureMarkTheRunFailed() async throws {
    let world = try await World.start(extraEnvironment: ["TESTBRIDGE_WEBHOOK_TOKEN": "automation-token-77"])
    await world.ci.github.setFaults([SandboxFault(status: 500, times: 10)])
    let body = Data(#"{"issue": {"key": "SHOP-7"}}"#.utf8)
    let (status, reply) = try await Self.post(world.hookURL, body: body, headers: ["X-Testbridge-Token": "automation-token-77"])
    #expect(status == 502, "\(reply)")
    let run = try #require(await world.testomatio.emulator.state().runs.first)
    #expect(run.finished)
    #expect(run.statusEvents == ["fail"])
    let output = await world.stop()
    #expect(!output.stderr.contains("automation-token-77"))
  }

  @Test func sigtermLetsTheHookInFlightFinishBeforeServeExits() async throws {
    let world = try await World.start()
    // The GitHub dispatch answers slowly, so the hook is still being handled when SIGTERM comes.
    await world.ci.github.setFaults([SandboxFault(delayMilliseconds: 2_000)])
    let body = Self.webhookBody()
    let hook = Task {
      try await Self.post(
        world.hookURL, body: body,
        headers: ["X-Hub-Signature": Self.signature(body), "X-Atlassian-Webhook-Identifier": "in-flight-1"])
    }
    // The run is created before CI is started: once it exists, the hook is mid-flight.
    let deadline = ContinuousClock.now + .seconds(30)
    while await world.testomatio.emulator.state().runs.isEmpty, ContinuousClock.now < deadline {
      try await Task.sleep(for: .milliseconds(20))
    }
    #expect(await world.ci.github.dispatches().isEmpty, "the dispatch should still be in flight")
    world.serve.signal(SIGTERM)
    let (status, reply) = try await hook.value
    #expect(status == 202, "\(reply)")
    let output = await world.serve.wait()
    #expect(output.status == 0)
    #expect(await world.ci.github.dispatches().count == 1)
    #expect(reply.contains(try #require(await world.testomatio.emulator.state().runs.first).uid))
    await world.testomatio.stop(graceful: false)
    await world.ci.stop(graceful: false)
  }

  @Test func missingWebhookSecretIsRefusedAtStart() async throws {
    let output = try await ChildProcess.testbridgeAsync(
      ["serve", "--listen", "127.0.0.1:0"], environment: ["TESTOMATIO": Self.apiKey, "GITHUB_REPOSITORY": "a/b"])
    #expect(output.status == 1)
    #expect(output.stderr.contains("TESTBRIDGE_WEBHOOK_SECRET"))
  }
}
