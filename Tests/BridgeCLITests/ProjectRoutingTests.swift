import BridgeTestSupport
import Foundation
import HTTPServer
import Jira
import Sandbox
import Testing
import Trigger

@testable import BridgeCLI

/// Two Testomat.io projects (shop and payments, with their own API keys) and their Jira
/// projects (SHOP, PAY) in one config: `report`, `run` and `serve` routed by the Jira keys of
/// the results or the webhook's issue, `--profile` overriding, and each profile's Jira updates
/// sent to its own Jira site with its own credentials, over real HTTP on 127.0.0.1.
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

  // MARK: - Two Jira sites

  static let shopJiraEmail = "shop-ci@example.com"
  static let shopJiraToken = "shop-jira-token-4b7e91"
  static let payJiraPAT = "pay-jira-pat-2c8d55"
  static var jiraSecrets: [String] {
    [shopJiraToken, payJiraPAT, Data("\(shopJiraEmail):\(shopJiraToken)".utf8).base64EncodedString()]
  }

  /// Each profile with its own Jira site: shop on a Cloud site (email and API token), payments
  /// on a Data Center site (a PAT). `SHOP_JIRA_URL` and `PAY_JIRA_URL` are replaced by the
  /// emulators'.
  static let jiraConfig = #"""
    {"version": 1, "profiles": [
      {"name": "shop",
       "testomatio": {"project": "shop", "url": "SHOP_URL", "api_key_env": "TESTOMATIO_SHOP"},
       "jira": {"url": "SHOP_JIRA_URL", "deployment": "cloud", "email_env": "SHOP_JIRA_EMAIL",
                "api_token_env": "SHOP_JIRA_TOKEN", "projects": ["SHOP", "CART"]}},
      {"name": "payments",
       "testomatio": {"project": "payments", "url": "PAY_URL", "api_key_env": "TESTOMATIO_PAYMENTS"},
       "jira": {"url": "PAY_JIRA_URL", "deployment": "datacenter", "pat_env": "PAY_JIRA_PAT", "projects": ["PAY"]}}
    ]}
    """#

  /// `report` and `run` write each run's Jira updates to the site of the profile its results
  /// chose, with that profile's credentials only: two Jira emulators, each accepting only its
  /// own site's credentials, and each holding a decoy issue with the other project's key.
  @Test func reportAndRunUpdateTheJiraSiteOfTheirProfile() async throws {
    let world = try await World.start()
    let shopJira = JiraSandboxServer(
      emulator: JiraEmulator(email: Self.shopJiraEmail, apiToken: Self.shopJiraToken, pat: "not-the-shop-pat"))
    let payJira = JiraSandboxServer(
      emulator: JiraEmulator(email: "nobody@example.com", apiToken: "not-the-pay-token", pat: Self.payJiraPAT))
    let shopJiraURL = try await shopJira.start()
    let payJiraURL = try await payJira.start()
    defer {
      Task {
        await world.stop()
        await shopJira.stop(graceful: false)
        await payJira.stop(graceful: false)
      }
    }
    let text = Self.jiraConfig
      .replacingOccurrences(of: "\"SHOP_URL\"", with: "\"\(try #require(world.shop.baseURL).absoluteString)\"")
      .replacingOccurrences(of: "\"PAY_URL\"", with: "\"\(try #require(world.payments.baseURL).absoluteString)\"")
      .replacingOccurrences(of: "\"SHOP_JIRA_URL\"", with: "\"\(shopJiraURL.absoluteString)\"")
      .replacingOccurrences(of: "\"PAY_JIRA_URL\"", with: "\"\(payJiraURL.absoluteString)\"")
    try text.write(to: world.directory.appendingPathComponent("jira.json"), atomically: true, encoding: .utf8)
    for emulator in [shopJira.emulator, payJira.emulator] {
      await emulator.seedIssue(key: "SHOP-1", summary: "Add to cart")
      await emulator.seedIssue(key: "PAY-2", summary: "Pay by invoice")
    }
    var environment = world.environment
    environment.merge([
      "SHOP_JIRA_EMAIL": Self.shopJiraEmail, "SHOP_JIRA_TOKEN": Self.shopJiraToken, "PAY_JIRA_PAT": Self.payJiraPAT,
      // What the profiles replace: never used while a profile applies.
      "JIRA_URL": "http://127.0.0.1:9", "JIRA_EMAIL": "someone@example.com", "JIRA_API_TOKEN": "another-sites-token",
      "JIRA_PAT": "another-sites-pat",
    ]) { $1 }
    func testbridge(_ arguments: [String]) async throws -> ProcessOutput {
      let output = try await ChildProcess.testbridgeAsync(arguments, environment: environment, directory: world.directory)
      for secret in Self.secrets + Self.jiraSecrets {
        #expect(!output.stdout.contains(secret) && !output.stderr.contains(secret), "a secret reached the output")
      }
      return output
    }
    func history(_ issue: JiraSandboxIssue?) -> [String] {
      (issue?.properties[RunHistoryProperty.key]?["runs"]?.arrayValue ?? []).compactMap { $0["run_id"]?.stringValue }
    }
    /// Answered as it should be: 2xx, or the 404 of a run history not written yet.
    func accepted(_ request: JiraSandboxRequestRecord) -> Bool {
      request.status < 400
        || (request.status == 404 && request.method == "GET" && request.path.hasSuffix("/properties/testbridge.runs"))
    }
    let globalID = RemoteLinkTitle.globalID(linkKey: "Nightly")

    // report, routed by SHOP-1 to shop: its Cloud site, basic auth, and nothing on the other site.
    let shop = try await testbridge(["report", "--config", "jira.json", "--title", "Nightly", "shop.xml"])
    #expect(shop.status == 0, "\(shop.stderr)")
    #expect(shop.stderr.contains("profile 'shop'"))
    let shopRun = try #require(await world.shop.emulator.state().runs.first)
    var shopState = await shopJira.emulator.state()
    var payState = await payJira.emulator.state()
    #expect(shopState.issue("SHOP-1")?.remoteLink(globalID: globalID)?.title == "testbridge: 1 passed · Nightly")
    #expect(history(shopState.issue("SHOP-1")) == [shopRun.uid])
    #expect(!shopState.requests.isEmpty)
    #expect(shopState.requests.allSatisfy { $0.auth == "basic" && accepted($0) && $0.path.hasPrefix("/rest/api/3/") })
    #expect(payState.requests.isEmpty, "the other profile's Jira site was called")

    // report, routed by PAY-2 to payments: its Data Center site with the PAT.
    let pay = try await testbridge(["report", "--config", "jira.json", "--title", "Nightly", "pay.xml"])
    #expect(pay.status == 0, "\(pay.stderr)")
    #expect(pay.stderr.contains("profile 'payments'"))
    let payRun = try #require(await world.payments.emulator.state().runs.first)
    payState = await payJira.emulator.state()
    #expect(payState.issue("PAY-2")?.remoteLink(globalID: globalID)?.title == "testbridge: 1 passed · Nightly")
    #expect(history(payState.issue("PAY-2")) == [payRun.uid])
    #expect(!payState.requests.isEmpty)
    #expect(payState.requests.allSatisfy { $0.auth == "bearer" && accepted($0) && $0.path.hasPrefix("/rest/api/2/") })
    let shopRequests = shopState.requests.count
    #expect(await shopJira.emulator.state().requests.count == shopRequests)

    // run, routed after the command by its results, then with --profile before it.
    let runPay = try await testbridge([
      "run", "--config", "jira.json", "--title", "Nightly", "--junit", "out/pay.xml", "--",
      "sh", "-c", "mkdir -p out && cp pay.xml out/pay.xml",
    ])
    #expect(runPay.status == 0, "\(runPay.stderr)")
    #expect(runPay.stderr.contains("profile 'payments'"))
    let runShop = try await testbridge([
      "run", "--config", "jira.json", "--profile", "shop", "--title", "Nightly", "--junit", "out/shop.xml", "--",
      "sh", "-c", "mkdir -p out && cp shop.xml out/shop.xml",
    ])
    #expect(runShop.status == 0, "\(runShop.stderr)")
    let payRuns = await world.payments.emulator.state().runs.map(\.uid)
    let shopRuns = await world.shop.emulator.state().runs.map(\.uid)
    #expect(payRuns.count == 2 && shopRuns.count == 2)

    shopState = await shopJira.emulator.state()
    payState = await payJira.emulator.state()
    #expect(Set(history(payState.issue("PAY-2"))) == Set(payRuns))
    #expect(Set(history(shopState.issue("SHOP-1"))) == Set(shopRuns))
    #expect(payState.issue("PAY-2")?.remoteLinks.count == 1, "the same link key updates the link in place")
    #expect(shopState.issue("SHOP-1")?.remoteLinks.count == 1)
    #expect(shopState.requests.allSatisfy { $0.auth == "basic" && accepted($0) })
    #expect(payState.requests.allSatisfy { $0.auth == "bearer" && accepted($0) })
    // The decoys: each site's issue of the other project is untouched.
    for (state, key) in [(shopState, "PAY-2"), (payState, "SHOP-1")] {
      let decoy = try #require(state.issue(key))
      #expect(decoy.remoteLinks.isEmpty && decoy.propertyWrites == 0, "\(key) written on the wrong site")
      #expect(!state.requests.contains { $0.path.contains("/\(key)") }, "\(key) requested on the wrong site")
    }
    for state in [shopState, payState] {
      #expect(state.refused.isEmpty)
      #expect(state.rateLimited.isEmpty)
    }
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
