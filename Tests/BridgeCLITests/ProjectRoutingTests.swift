import BridgeTestSupport
import Foundation
import HTTPServer
import Sandbox
import Testing
import Trigger

@testable import BridgeCLI

/// Two Testomat.io projects (shop and payments, with their own API keys) and their Jira
/// projects (SHOP, PAY) in one config: `report`, `run` and `serve` routed by the Jira keys of
/// the results or the webhook's issue, `--profile` overriding, over real HTTP on 127.0.0.1.
@Suite(.serialized) struct ProjectRoutingTests {
  static let shopKey = "tstmt_shop_routing_5d1e"
  static let payKey = "tstmt_pay_routing_8c2a"
  static let shopGitHubToken = "ghs_shop_routing_token"
  static let payTriggerToken = "glptt-pay-routing-token"
  static let webhookSecret = "whsec_routing_77aa"
  static var secrets: [String] { [shopKey, payKey, shopGitHubToken, payTriggerToken, webhookSecret] }

  /// The config of both profiles; `SHOP_URL`, `PAY_URL` and `CI_URL` are replaced by the sandboxes'.
  static let config = #"""
    {"version": 1, "profiles": [
      {"name": "shop",
       "testomatio": {"project": "shop", "url": "SHOP_URL", "api_key_env": "TESTOMATIO_SHOP"},
       "jira": {"projects": ["SHOP", "CART"]},
       "ci": {"provider": "github", "api_url": "CI_URL", "repository": "acme/shop", "workflow": "shop-tests.yml",
              "ref": "main", "token_env": "GITHUB_TOKEN_SHOP"}},
      {"name": "payments",
       "testomatio": {"project": "payments", "url": "PAY_URL", "api_key_env": "TESTOMATIO_PAYMENTS"},
       "jira": {"projects": ["PAY"]},
       "ci": {"provider": "gitlab", "url": "CI_URL", "project_id": 77, "ref": "main",
              "trigger_token_env": "GITLAB_TRIGGER_TOKEN_PAY"}}
    ]}
    """#

  static func junit(_ names: [String]) -> String {
    let cases = names.map { #"<testcase classname="suite" name="\#($0)" time="0.1"/>"# }.joined()
    return #"<?xml version="1.0"?><testsuite name="suite" tests="\#(names.count)">\#(cases)</testsuite>"#
  }

  // MARK: - Pure selection

  @Test func resultsChooseTheProfileOfTheirJiraKeys() throws {
    let config = try TraceProfileTests.parse(Self.config)
    #expect(try config.route(jiraKeys: ["SHOP-1", "CART-9", "OTHER-3"]).name == "shop")
    #expect(try config.route(jiraKeys: ["pay-2"]).name == "payments")
    do throws(CLIError) {
      _ = try config.route(jiraKeys: ["SHOP-1", "PAY-2"])
      Issue.record("keys of two profiles were routed")
    } catch {
      #expect(error.exitStatus == .usage)
      #expect(error.message.contains("shop: SHOP-1") && error.message.contains("payments: PAY-2"))
      #expect(error.message.contains("--profile shop|payments"))
    }
    do throws(CLIError) {
      _ = try config.route(jiraKeys: ["OTHER-3"])
      Issue.record("results without a profile's key were routed")
    } catch {
      #expect(error.message.contains("no profile named 'default'"))
    }
    let withDefault = try TraceProfileTests.parse(
      #"{"profiles": [{"name": "default", "testomatio": {"project": "d"}}, {"name": "pay", "jira": {"projects": ["PAY"]}}]}"#)
    #expect(try withDefault.route(jiraKeys: []).name == "default")
    #expect(try withDefault.route(jiraKeys: ["PAY-1"]).name == "pay")
    #expect(config.owner(ofJiraProject: "cart")?.name == "shop")
    #expect(config.owner(ofJiraProject: "OPS") == nil)
  }

  @Test func ciTargetsAreParsedAndTheirTokensOnlyNamed() throws {
    let config = try TraceProfileTests.parse(Self.config)
    let shop = try #require(config.profiles[0].ci)
    #expect(shop.provider == "github" && shop.repository == "acme/shop" && shop.tokenEnv == "GITHUB_TOKEN_SHOP")
    let pay = try #require(config.profiles[1].ci)
    #expect(pay.provider == "gitlab" && pay.projectID == "77" && pay.tokenEnv == "GITLAB_TRIGGER_TOKEN_PAY")

    let base = [
      "GITHUB_TOKEN_SHOP": Self.shopGitHubToken, "GITLAB_TRIGGER_TOKEN_PAY": Self.payTriggerToken,
      "GITHUB_TOKEN": "someone-elses", "GITHUB_REPOSITORY": "other/repo",
    ]
    let shopEnvironment = ProjectConfig.ciEnvironment(base, target: shop)
    #expect(shopEnvironment["TESTBRIDGE_CI"] == "github")
    #expect(shopEnvironment["GITHUB_REPOSITORY"] == "acme/shop")
    #expect(shopEnvironment["GITHUB_TOKEN"] == Self.shopGitHubToken)
    #expect(shopEnvironment["TESTBRIDGE_GITHUB_WORKFLOW"] == "shop-tests.yml")
    let payEnvironment = ProjectConfig.ciEnvironment(base, target: pay)
    #expect(payEnvironment["GITLAB_PROJECT_ID"] == "77")
    #expect(payEnvironment["GITLAB_TRIGGER_TOKEN"] == Self.payTriggerToken)
    // Another CI's token is never handed to this profile's target.
    #expect(payEnvironment["GITHUB_TOKEN"] == nil && payEnvironment["GITHUB_REPOSITORY"] == nil)

    for (text, expected) in [
      (#"{"profiles": [{"name": "a", "ci": {"provider": "github", "repository": "a/b", "token": "ghp_x"}}]}"#, "looks like a secret"),
      (#"{"profiles": [{"name": "a", "ci": {"provider": "github", "repository": "a/b"}}]}"#, "token_env is required"),
      (#"{"profiles": [{"name": "a", "ci": {"provider": "gitlab", "project_id": 1, "trigger_token_env": "ghp-x y"}}]}"#, "must name an environment variable"),
      (#"{"profiles": [{"name": "a", "ci": {"provider": "jenkins"}}]}"#, "provider must be github or gitlab"),
      (#"{"profiles": [{"name": "a", "ci": {"provider": "gitlab", "project_id": 1, "trigger_token_env": "T", "workflow": "x"}}]}"#, "'profiles[0].ci.workflow' is not a config field"),
    ] {
      do throws(CLIError) {
        _ = try ProjectConfig.parse(Data(text.utf8), path: "testbridge.json")
        Issue.record("accepted: \(text)")
      } catch {
        #expect(error.message.contains(expected), "\(error.message)")
        #expect(!error.message.contains("ghp_x"))
      }
    }
  }

  @Test func theExampleConfigIsValid() throws {
    let url = ProjectPaths.packageRoot.appendingPathComponent("ci-examples/testbridge.json")
    let config = try ProjectConfig.parse(try Data(contentsOf: url), path: "ci-examples/testbridge.json")
    #expect(config.profiles.map(\.name) == ["shop", "payments"])
    #expect(config.profiles.compactMap(\.ci?.provider) == ["github", "gitlab"])
    #expect(try config.route(jiraKeys: ["CART-3"]).name == "shop")
  }

  @Test func webhookRoutesFollowTheIssuesProject() {
    let shop = WebhookTarget(
      name: "shop", linkedTests: NoLinkedTests(), scheduler: NoScheduler(), dispatchers: [], defaultCI: .github)
    let routes = WebhookRoutes(byProject: ["shop": shop, "CART": shop])
    #expect(routes.target(forProject: "SHOP")?.name == "shop")
    #expect(routes.target(forProject: "cart")?.name == "shop")
    #expect(routes.target(forProject: "PAY") == nil)
    #expect(routes.routedProjects == ["CART", "SHOP"])
    #expect(WebhookRoutes(shop).target(forProject: "ANY")?.name == "shop")
  }

  struct NoLinkedTests: LinkedTestsSource {
    func linkedTests(jiraKey: String) async throws(TriggerError) -> [String] { [] }
  }

  struct NoScheduler: RunScheduler {
    func createRun(jiraKey: String, title: String) async throws(TriggerError) -> ScheduledRun { ScheduledRun(id: "x") }
    func markFailed(runID: String, reason: String) async throws(TriggerError) {}
  }

  // MARK: - Over HTTP

  /// Both Testomat.io projects, a CI sandbox, and a folder holding the config and reports.
  struct World {
    let shop: SandboxServer
    let payments: SandboxServer
    let ci: CISandboxServer
    let directory: URL

    static func start() async throws -> World {
      let shop = SandboxServer(emulator: TestomatioEmulator(apiKey: ProjectRoutingTests.shopKey, projectSlug: "shop"))
      let payments = SandboxServer(emulator: TestomatioEmulator(apiKey: ProjectRoutingTests.payKey, projectSlug: "payments"))
      let ci = CISandboxServer(
        github: GitHubEmulator(
          token: ProjectRoutingTests.shopGitHubToken, repository: "acme/shop",
          workflows: [GitHubWorkflow(file: "shop-tests.yml", id: 7)]),
        gitlab: GitLabEmulator(
          triggerToken: ProjectRoutingTests.payTriggerToken, projects: [GitLabProject(id: 77, path: "acme/payments")]))
      let shopURL = try await shop.start()
      let payURL = try await payments.start()
      let ciURL = try await ci.start()
      let directory = try ProjectPaths.temporaryDirectory("routing")
      let text = ProjectRoutingTests.config
        .replacingOccurrences(of: "\"SHOP_URL\"", with: "\"\(shopURL.absoluteString)\"")
        .replacingOccurrences(of: "\"PAY_URL\"", with: "\"\(payURL.absoluteString)\"")
        .replacingOccurrences(of: "\"CI_URL\"", with: "\"\(ciURL.absoluteString)\"")
      try text.write(to: directory.appendingPathComponent("testbridge.json"), atomically: true, encoding: .utf8)
      for (name, tests) in [
        ("shop.xml", ["adds to cart @SHOP-1", "plain test"]), ("pay.xml", ["pays by invoice @PAY-2"]),
        ("both.xml", ["adds to cart @SHOP-1", "pays by invoice @PAY-2"]), ("none.xml", ["plain test"]),
      ] {
        try ProjectRoutingTests.junit(tests).write(
          to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
      }
      return World(shop: shop, payments: payments, ci: ci, directory: directory)
    }

    var environment: [String: String] {
      [
        "TESTOMATIO_SHOP": ProjectRoutingTests.shopKey, "TESTOMATIO_PAYMENTS": ProjectRoutingTests.payKey,
        "GITHUB_TOKEN_SHOP": ProjectRoutingTests.shopGitHubToken,
        "GITLAB_TRIGGER_TOKEN_PAY": ProjectRoutingTests.payTriggerToken,
        "TESTBRIDGE_WEBHOOK_SECRET": ProjectRoutingTests.webhookSecret,
        "TESTBRIDGE_SPOOL_DIR": directory.appendingPathComponent("spool").path,
        // What the profiles replace: never used while a profile applies.
        "TESTOMATIO": "tstmt_wrong_project", "TESTOMATIO_URL": "http://127.0.0.1:9",
        "PATH": "/usr/local/bin:/usr/bin:/bin",
      ]
    }

    func testbridge(_ arguments: [String]) async throws -> ProcessOutput {
      let output = try await ChildProcess.testbridgeAsync(arguments, environment: environment, directory: directory)
      for secret in ProjectRoutingTests.secrets {
        #expect(!output.stdout.contains(secret) && !output.stderr.contains(secret), "a secret reached the output")
      }
      return output
    }

    func stop() async {
      await shop.stop(graceful: false)
      await payments.stop(graceful: false)
      await ci.stop(graceful: false)
      try? FileManager.default.removeItem(at: directory)
    }
  }

  @Test func reportGoesToTheProjectOfItsJiraKeysAndProfileOverrides() async throws {
    let world = try await World.start()
    defer { Task { await world.stop() } }

    let shop = try await world.testbridge(["report", "--config", "testbridge.json", "shop.xml"])
    #expect(shop.status == 0, "\(shop.stderr)")
    #expect(shop.stderr.contains("profile 'shop' from testbridge.json (the results link SHOP-1)"))
    var shopRuns = await world.shop.emulator.state().runs
    #expect(shopRuns.count == 1)
    #expect(shopRuns.first?.results.count == 2)
    #expect(await world.payments.emulator.state().runs.isEmpty)

    let pay = try await world.testbridge(["report", "--config", "testbridge.json", "pay.xml"])
    #expect(pay.status == 0, "\(pay.stderr)")
    #expect(pay.stderr.contains("profile 'payments'"))
    let payRuns = await world.payments.emulator.state().runs
    #expect(payRuns.count == 1)
    #expect(payRuns.first?.results.first?.title == "pays by invoice @PAY-2")
    #expect(await world.shop.emulator.state().runs.count == 1)

    // --profile wins over the results.
    let named = try await world.testbridge(["report", "--config", "testbridge.json", "--profile", "shop", "pay.xml"])
    #expect(named.status == 0, "\(named.stderr)")
    shopRuns = await world.shop.emulator.state().runs
    #expect(shopRuns.count == 2)
    #expect(await world.payments.emulator.state().runs.count == 1)

    // Keys of both projects, or of neither: nothing is sent, and the error says what to do.
    let both = try await world.testbridge(["report", "--config", "testbridge.json", "both.xml"])
    #expect(both.status == 64)
    #expect(both.stderr.contains("several profiles (shop: SHOP-1; payments: PAY-2)"))
    #expect(both.stderr.contains("--profile shop|payments"))
    let none = try await world.testbridge(["report", "--config", "testbridge.json", "none.xml"])
    #expect(none.status == 64)
    #expect(none.stderr.contains("no profile named 'default'"))
    #expect(await world.shop.emulator.state().runs.count == 2)
    #expect(await world.payments.emulator.state().runs.count == 1)
  }

  @Test func runCreatesItsRunInTheProjectItsResultsLink() async throws {
    let world = try await World.start()
    defer { Task { await world.stop() } }
    let output = try await world.testbridge([
      "run", "--config", "testbridge.json", "--junit", "out/pay.xml", "--",
      "sh", "-c", "mkdir -p out && cp pay.xml out/pay.xml && test -z \"$TESTOMATIO_RUN\"",
    ])
    #expect(output.status == 0, "\(output.stderr)")
    #expect(output.stderr.contains("profile 'payments'"))
    let runs = await world.payments.emulator.state().runs
    #expect(runs.count == 1)
    #expect(runs.first?.finished == true)
    #expect(runs.first?.results.count == 1)
    #expect(await world.shop.emulator.state().runs.isEmpty)

    // With --profile the run exists before the command, which is handed its id.
    let named = try await world.testbridge([
      "run", "--config", "testbridge.json", "--profile", "shop", "--junit", "out/shop.xml", "--",
      "sh", "-c", "mkdir -p out && cp shop.xml out/shop.xml && test -n \"$TESTOMATIO_RUN\"",
    ])
    #expect(named.status == 0, "\(named.stderr)")
    #expect(await world.shop.emulator.state().runs.count == 1)
  }

  @Test func configErrorsAreUsageErrors() async throws {
    let world = try await World.start()
    defer { Task { await world.stop() } }
    let start = try await world.testbridge(["start", "--config", "testbridge.json"])
    #expect(start.status == 64)
    #expect(start.stderr.contains("several profiles and none is named by --profile"))
    let linked = try await world.testbridge(["linked-tests", "--config", "testbridge.json", "--jira", "PAY-2"])
    #expect(linked.stderr.contains("profile 'payments'"), "\(linked.stderr)")
    let unknown = try await world.testbridge(["report", "--config", "testbridge.json", "--profile", "nope", "shop.xml"])
    #expect(unknown.status == 64)
    #expect(unknown.stderr.contains("no profile 'nope' in the config (profiles: shop, payments)"))
    try #"{"profiles": [{"name": "a", "ci": {"provider": "github", "repository": "a/b", "token": "ghp_inline"}}]}"#
      .write(to: world.directory.appendingPathComponent("bad.json"), atomically: true, encoding: .utf8)
    let bad = try await world.testbridge(["report", "--config", "bad.json", "shop.xml"])
    #expect(bad.status == 64)
    #expect(bad.stderr.contains("bad.json: 'profiles[0].ci.token' looks like a secret"))
    #expect(!bad.stderr.contains("ghp_inline"))
    #expect(await world.shop.emulator.state().runs.isEmpty)
  }

  @Test func serveStartsEachProfilesCIForItsJiraProject() async throws {
    let world = try await World.start()
    defer { Task { await world.stop() } }
    await world.shop.emulator.seedTestGrep(type: "jira", id: "SHOP-7", tests: ["1a2b3c4d"])
    await world.payments.emulator.seedTestGrep(type: "jira", id: "PAY-2", tests: ["5e6f7a8b", "9c0d1e2f"])
    let serve = try LongRunningChild.testbridge(
      ["serve", "--listen", "127.0.0.1:0", "--config", world.directory.appendingPathComponent("testbridge.json").path],
      environment: world.environment)
    let printed = try #require(await serve.waitForOutput(containing: "/hooks/jira"), "serve did not start: \(serve.stderr)")
    let line = try #require(printed.split(separator: "\n").first { $0.contains("listening on") })
    let hook = try #require(URL(string: String(line.split(separator: " ").last ?? "")))

    func send(_ issue: String, project: String) async throws -> (Int, String) {
      let body = Data(
        """
        {"webhookEvent":"jira:issue_updated","issue":{"key":"\(issue)","fields":{"project":{"key":"\(project)"},\
        "status":{"name":"Ready for QA"}}}}
        """.utf8)
      return try await ServeEndToEndTests.post(
        hook, body: body, headers: ["X-Hub-Signature": ServeEndToEndTests.signature(body, secret: Self.webhookSecret)])
    }

    let (shopStatus, shopReply) = try await send("SHOP-7", project: "SHOP")
    #expect(shopStatus == 202, "\(shopReply)")
    let shopRun = try #require(await world.shop.emulator.state().runs.first)
    #expect(shopRun.jiraID == "SHOP-7")
    let github = await world.ci.github.dispatches()
    #expect(github.count == 1)
    #expect(github.first?.repository == "acme/shop")
    #expect(github.first?.workflow == "shop-tests.yml")
    #expect(github.first?.inputs["run"] == shopRun.uid)
    #expect(github.first?.inputs["grep"] == "T1a2b3c4d")
    #expect(github.first?.inputs["testomatio_url"]?.hasPrefix(world.shop.baseURL?.absoluteString ?? "-") == true)

    let (payStatus, payReply) = try await send("PAY-2", project: "PAY")
    #expect(payStatus == 202, "\(payReply)")
    let payRun = try #require(await world.payments.emulator.state().runs.first)
    #expect(payRun.jiraID == "PAY-2")
    let gitlab = await world.ci.gitlab.dispatches()
    #expect(gitlab.count == 1)
    #expect(gitlab.first?.inputs["run"] == payRun.uid)
    #expect(gitlab.first?.inputs["grep"] == "T5e6f7a8b|T9c0d1e2f")
    #expect(await world.shop.emulator.state().runs.count == 1)
    #expect(await world.ci.github.dispatches().count == 1)

    let (otherStatus, otherReply) = try await send("OPS-1", project: "OPS")
    #expect(otherStatus == 200)
    #expect(otherReply.contains("\"ignored\"") && otherReply.contains("no profile owns Jira project OPS"))

    serve.signal(SIGTERM)
    let output = await serve.wait()
    var withoutToken = world.environment
    withoutToken["GITLAB_TRIGGER_TOKEN_PAY"] = nil
    let refused = try await ChildProcess.testbridgeAsync(
      ["serve", "--listen", "127.0.0.1:0", "--config", "testbridge.json"], environment: withoutToken,
      directory: world.directory)
    #expect(refused.status == 1)
    #expect(refused.stderr.contains("profile 'payments' of testbridge.json: GITLAB_TRIGGER_TOKEN_PAY is not set"))
    #expect(output.status == 0)
    #expect(output.stderr.contains("SHOP, CART -> shop; PAY -> payments"))
    #expect(output.stderr.contains("profile=payments"))
    #expect(output.stderr.contains("ignored: no profile owns Jira project OPS"))
    for secret in Self.secrets {
      #expect(!output.stdout.contains(secret) && !output.stderr.contains(secret), "a secret reached serve's output")
    }
    for dispatch in github + gitlab {
      #expect(dispatch.inputs.values.allSatisfy { value in Self.secrets.allSatisfy { !value.contains($0) } })
    }
  }
}
