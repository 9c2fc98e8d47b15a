import BridgeTestSupport
import Foundation
import Sandbox
import Testing

@testable import BridgeCLI

/// Several Testomat.io and Jira projects in one config file: parsing, the refusal of secrets,
/// choosing a profile, the environment it gives, and `trace` routed by it end to end.
@Suite(.serialized) struct TraceProfileTests {
  static let config = #"""
    {"version": 1, "profiles": [
      {"name": "shop",
       "testomatio": {"project": "shop", "url": "TESTOMATIO_URL", "api_key_env": "SHOP_TESTOMATIO_KEY"},
       "jira": {"url": "JIRA_URL", "email_env": "ACME_JIRA_EMAIL", "api_token_env": "ACME_JIRA_TOKEN", "projects": ["TRC"]}},
      {"name": "pay",
       "testomatio": {"project": "pay"},
       "jira": {"url": "JIRA_URL", "pat_env": "PAY_JIRA_PAT", "projects": ["pay"]}}
    ]}
    """#

  static func parse(_ text: String) throws -> ProjectConfig {
    try ProjectConfig.parse(Data(text.utf8), path: "testbridge.json")
  }

  @Test func parsesProfilesAndSelectsByNameOrJiraProject() throws {
    let config = try Self.parse(Self.config)
    #expect(config.profiles.map(\.name) == ["shop", "pay"])
    #expect(config.profiles[1].jiraProjects == ["PAY"])
    #expect(try config.select(name: "pay", jiraProject: "TRC")?.name == "pay")
    #expect(try config.select(name: nil, jiraProject: "pay")?.name == "pay")
    #expect(try config.select(name: nil, jiraProject: "TRC")?.name == "shop")
    #expect(throws: CLIError.self) { try config.select(name: nil, jiraProject: "OTHER") }
    #expect(throws: CLIError.self) { try config.select(name: "nope", jiraProject: nil) }
    let single = try Self.parse(#"{"profiles": [{"name": "only", "testomatio": {"project": "x"}}]}"#)
    #expect(try single.select(name: nil, jiraProject: nil)?.name == "only")
  }

  @Test func refusesSecretsAndUnknownFields() {
    for text in [
      #"{"profiles": [{"name": "a", "testomatio": {"api_key": "tstmt_abc"}}]}"#,
      #"{"profiles": [{"name": "a", "jira": {"token": "x"}}]}"#,
      #"{"profiles": [{"name": "a", "jira": {"api_token_env": "tok en"}}]}"#,
      #"{"profiles": [{"name": "a", "colour": "red"}]}"#,
      #"{"profiles": []}"#,
      #"{"profiles": [{"name": "a", "jira": {"projects": ["X"]}}, {"name": "b", "jira": {"projects": ["x"]}}]}"#,
      #"{"profiles": [{"name": "a"}, {"name": "a"}]}"#,
      "[]",
    ] {
      #expect(throws: CLIError.self, "\(text)") { try Self.parse(text) }
    }
    do throws(CLIError) {
      _ = try ProjectConfig.parse(
        Data(#"{"profiles": [{"name": "a", "testomatio": {"api_key": "tstmt_abc"}}]}"#.utf8), path: "testbridge.json")
      Issue.record("a secret in the config was accepted")
    } catch {
      #expect(error.message.contains("looks like a secret"))
      #expect(!error.message.contains("tstmt_abc"))
    }
  }

  @Test func profileReplacesTheStandardVariables() throws {
    let config = try Self.parse(Self.config)
    let base = [
      "JIRA_URL": "https://other.example", "JIRA_API_TOKEN": "other-site-token", "JIRA_EMAIL": "me@other",
      "TESTOMATIO": "tstmt_other", "TESTOMATIO_PROJECT": "other", "PAY_JIRA_PAT": "pay-pat",
      "ACME_JIRA_EMAIL": "ci@acme", "ACME_JIRA_TOKEN": "acme-token", "PATH": "/bin",
    ]
    let pay = ProjectConfig.environment(base, profile: config.profiles[1])
    #expect(pay["JIRA_URL"] == "JIRA_URL")
    #expect(pay["JIRA_PAT"] == "pay-pat")
    #expect(pay["JIRA_API_TOKEN"] == nil)
    #expect(pay["JIRA_EMAIL"] == nil)
    #expect(pay["TESTOMATIO"] == "tstmt_other")
    #expect(pay["TESTOMATIO_PROJECT"] == "pay")
    #expect(pay["PATH"] == "/bin")
    let shop = ProjectConfig.environment(base, profile: config.profiles[0])
    #expect(shop["JIRA_EMAIL"] == "ci@acme")
    #expect(shop["JIRA_API_TOKEN"] == "acme-token")
    #expect(shop["JIRA_PAT"] == nil)
    // The named key variable is unset: no key, rather than another project's.
    #expect(shop["TESTOMATIO"] == nil)
    #expect(shop["TESTOMATIO_URL"] == "TESTOMATIO_URL")
  }

  @Test func traceIsRoutedToTheProfileOfItsJiraProject() async throws {
    let harness = try await TraceEndToEndTests.Harness.start(pageSize: 50)
    defer { Task { await harness.stop() } }
    await harness.jira.emulator.seedIssue(
      key: "PAY-1", summary: "Pay by invoice", properties: ["pay.testomatio.tests": .array([.string("@Tfeedf00d")])])
    await harness.jira.emulator.seedIssue(key: "PAY-2", summary: "Pay later")
    let text = Self.config.replacingOccurrences(of: "\"TESTOMATIO_URL\"", with: "\"\(harness.testomatioURL.absoluteString)\"")
      .replacingOccurrences(of: "\"JIRA_URL\"", with: "\"\(harness.jiraURL.absoluteString)\"")
    try text.write(to: harness.directory.appendingPathComponent("testbridge.json"), atomically: true, encoding: .utf8)
    let environment = [
      "ACME_JIRA_EMAIL": TraceEndToEndTests.email, "ACME_JIRA_TOKEN": TraceEndToEndTests.apiToken,
      "PAY_JIRA_PAT": TraceEndToEndTests.pat, "SHOP_TESTOMATIO_KEY": TraceEndToEndTests.apiKey,
      // What the profiles replace.
      "JIRA_URL": "http://127.0.0.1:9", "JIRA_API_TOKEN": "wrong-token", "TESTOMATIO_PROJECT": "wrong",
    ]
    func trace(_ arguments: [String]) async throws -> ProcessOutput {
      let output = try await ChildProcess.testbridgeAsync(
        ["trace", "--config", "testbridge.json"] + arguments, environment: environment, directory: harness.directory)
      for secret in TraceEndToEndTests.secrets {
        #expect(!output.stdout.contains(secret) && !output.stderr.contains(secret), "a secret reached the output")
      }
      return output
    }

    let pay = try await trace(["--jira-project", "PAY", "--format", "json"])
    #expect(pay.status == 0, "\(pay.stderr)")
    #expect(pay.stderr.contains("profile 'pay' from testbridge.json"))
    let payRows = TraceEndToEndTests.rows(try TraceEndToEndTests.object(pay.stdout))
    #expect(payRows.keys.sorted() == ["PAY-1", "PAY-2"])
    #expect(TraceEndToEndTests.outcomes(payRows["PAY-1"]) == ["feedf00d=never_run"])
    var requests = await harness.jira.emulator.state().requests
    #expect(requests.last?.path.hasSuffix("/rest/api/2/search") == true)
    #expect(requests.last?.auth == "bearer")

    let shop = try await trace(["--jira-project", "TRC", "--results", "results.json", "--format", "json"])
    #expect(shop.status == 0, "\(shop.stderr)")
    #expect(shop.stderr.contains("profile 'shop' from testbridge.json"))
    TraceEndToEndTests.expectScopeMatrix(try TraceEndToEndTests.object(shop.stdout))
    requests = await harness.jira.emulator.state().requests
    #expect(requests.last?.auth == "basic")

    let named = try await trace(["--profile", "pay", "--jira-jql", "key = PAY-2", "--format", "json"])
    #expect(named.status == 0, "\(named.stderr)")
    #expect(TraceEndToEndTests.rows(try TraceEndToEndTests.object(named.stdout)).keys.sorted() == ["PAY-2"])

    let unrouted = try await trace(["--jira-jql", "key = PAY-2"])
    #expect(unrouted.status == 64)
    #expect(unrouted.stderr.contains("several profiles"))
    let unknown = try await trace(["--profile", "nope", "--jira-project", "PAY"])
    #expect(unknown.status == 64)
    #expect(unknown.stderr.contains("no profile 'nope'"))
    let noConfig = try await ChildProcess.testbridgeAsync(
      ["trace", "--profile", "pay", "--jira-project", "PAY"], environment: environment, directory: harness.directory)
    #expect(noConfig.status == 64)
    #expect(noConfig.stderr.contains("--profile needs a config file"))
  }
}
