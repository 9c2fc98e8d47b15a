import BridgeHTTP
import BridgeTestSupport
import Foundation
import Sandbox
import Testing
import Trigger

/// Runs `body` against a fresh CI sandbox on 127.0.0.1 and always stops it.
func withCISandbox(
  github: GitHubEmulator = GitHubEmulator(), gitlab: GitLabEmulator = GitLabEmulator(),
  _ body: (CISandboxServer, String) async throws -> Void
) async throws {
  let sandbox = CISandboxServer(github: github, gitlab: gitlab)
  let base = try await sandbox.start().absoluteString
  do {
    try await body(sandbox, base)
  } catch {
    await sandbox.stop(graceful: false)
    throw error
  }
  await sandbox.stop(graceful: false)
}

private let request = CIDispatchRequest(
  runID: "a1b2c3d4", grep: "T1a2b3c4d|T5e6f7a8b", jiraKey: "PROJ-1", testomatioURL: "https://testomat.example")

@Suite struct DispatchConfigTests {
  @Test func gitHubResolvesWithDefaults() throws {
    let config = try GitHubDispatchConfig.resolve(environment: [
      "GITHUB_REPOSITORY": "acme/app", "GITHUB_TOKEN": "ghp_secretvalue",
    ])
    #expect(config.apiURL == "https://api.github.com")
    #expect(config.owner == "acme")
    #expect(config.repository == "app")
    #expect(config.workflow == nil)
    #expect(config.ref == "main")
    #expect(!config.description.contains("ghp_secretvalue"))
  }

  @Test func gitHubExplicitValuesWin() throws {
    let config = try GitHubDispatchConfig.resolve(
      environment: [
        "GITHUB_API_URL": "https://ghe.example/api/v3/", "GITHUB_REPOSITORY": "acme/app", "GITHUB_TOKEN": "t-env",
        "TESTBRIDGE_GITHUB_WORKFLOW": "env.yml", "TESTBRIDGE_GITHUB_REF": "develop",
      ], workflow: "cli.yml", ref: "release")
    #expect(config.apiURL == "https://ghe.example/api/v3")
    #expect(config.workflow == "cli.yml")
    #expect(config.ref == "release")
    #expect(config.token == "t-env")
  }

  @Test(
    "GitHub configuration errors name the variable",
    arguments: [
      ([String: String](), "GITHUB_REPOSITORY"),
      (["GITHUB_REPOSITORY": "acme/app"], "GITHUB_TOKEN"),
      (["GITHUB_REPOSITORY": "acme", "GITHUB_TOKEN": "t"], "GITHUB_REPOSITORY"),
      (["GITHUB_REPOSITORY": "acme/app/x", "GITHUB_TOKEN": "t"], "GITHUB_REPOSITORY"),
      (["GITHUB_REPOSITORY": "acme/../x", "GITHUB_TOKEN": "t"], "GITHUB_REPOSITORY"),
      (["GITHUB_REPOSITORY": "acme/app", "GITHUB_TOKEN": "t", "GITHUB_API_URL": "ftp://x"], "GITHUB_API_URL"),
      (
        ["GITHUB_REPOSITORY": "acme/app", "GITHUB_TOKEN": "t", "TESTBRIDGE_GITHUB_WORKFLOW": "../x.yml"],
        "TESTBRIDGE_GITHUB_WORKFLOW"
      ),
    ])
  func gitHubErrors(environment: [String: String], variable: String) {
    do {
      _ = try GitHubDispatchConfig.resolve(environment: environment)
      Issue.record("resolved \(environment)")
    } catch {
      #expect(error.description.contains(variable), "\(error)")
    }
  }

  @Test func gitLabResolves() throws {
    let config = try GitLabDispatchConfig.resolve(environment: [
      "GITLAB_URL": "https://gitlab.example/", "GITLAB_PROJECT_ID": "group/sub/tests",
      "GITLAB_TRIGGER_TOKEN": "glptt-secret", "TESTBRIDGE_GITLAB_REF": "develop",
    ])
    #expect(config.baseURL == "https://gitlab.example")
    #expect(config.projectID == "group/sub/tests")
    #expect(config.ref == "develop")
    #expect(!config.description.contains("glptt-secret"))
    let defaults = try GitLabDispatchConfig.resolve(environment: [
      "GITLAB_PROJECT_ID": "42", "GITLAB_TRIGGER_TOKEN": "glptt-secret",
    ])
    #expect(defaults.baseURL == "https://gitlab.com")
    #expect(defaults.ref == "main")
  }

  @Test(
    "GitLab configuration errors name the variable",
    arguments: [
      ([String: String](), "GITLAB_PROJECT_ID"),
      (["GITLAB_PROJECT_ID": "42"], "GITLAB_TRIGGER_TOKEN"),
      (["GITLAB_PROJECT_ID": "a b", "GITLAB_TRIGGER_TOKEN": "t"], "GITLAB_PROJECT_ID"),
      (["GITLAB_PROJECT_ID": "../42", "GITLAB_TRIGGER_TOKEN": "t"], "GITLAB_PROJECT_ID"),
      (["GITLAB_PROJECT_ID": "42", "GITLAB_TRIGGER_TOKEN": "t", "GITLAB_URL": "gitlab.example"], "GITLAB_URL"),
      (["GITLAB_PROJECT_ID": "42", "GITLAB_TRIGGER_TOKEN": "t", "GITLAB_URL": "https://u:p@gitlab.example"], "GITLAB_URL"),
    ])
  func gitLabErrors(environment: [String: String], variable: String) {
    do {
      _ = try GitLabDispatchConfig.resolve(environment: environment)
      Issue.record("resolved \(environment)")
    } catch {
      #expect(error.description.contains(variable), "\(error)")
      #expect(!error.description.contains("u:p"))
    }
  }

  @Test func ciKindResolution() throws {
    #expect(try CIKind.resolve(environment: ["TESTBRIDGE_CI": "GitLab"]) == .gitlab)
    #expect(try CIKind.resolve(environment: ["GITHUB_REPOSITORY": "a/b"]) == .github)
    #expect(try CIKind.resolve(environment: ["GITLAB_PROJECT_ID": "4"]) == .gitlab)
    #expect(try CIKind.resolve(environment: ["GITLAB_PROJECT_ID": "4", "GITHUB_REPOSITORY": "a/b"], explicit: "github") == .github)
    #expect(throws: TriggerError.self) { try CIKind.resolve(environment: [:]) }
    #expect(throws: TriggerError.self) { try CIKind.resolve(environment: ["GITLAB_PROJECT_ID": "4", "GITHUB_REPOSITORY": "a/b"]) }
    #expect(throws: TriggerError.self) { try CIKind.resolve(environment: ["TESTBRIDGE_CI": "jenkins"]) }
  }

  @Test func gitHubRequestShape() throws {
    let config = GitHubDispatchConfig(
      apiURL: "https://api.github.com", owner: "acme", repository: "app", token: "ghp_x1y2z3", workflow: "tests.yml",
      ref: "main")
    let http = try GitHubDispatcher(config: config, transport: StubTransport()).makeRequest(request)
    #expect(http.method == .POST)
    #expect(http.url.absoluteString == "https://api.github.com/repos/acme/app/actions/workflows/tests.yml/dispatches")
    #expect(http.header("Authorization") == "Bearer ghp_x1y2z3")
    #expect(http.header("Accept") == "application/vnd.github+json")
    #expect(http.header("X-GitHub-Api-Version") == "2022-11-28")
    #expect(
      http.bodyText
        == #"{"inputs":{"grep":"T1a2b3c4d|T5e6f7a8b","jira":"PROJ-1","run":"a1b2c3d4","testomatio_url":"https://testomat.example"},"ref":"main"}"#
    )
  }

  @Test func gitLabRequestShape() throws {
    let config = GitLabDispatchConfig(
      baseURL: "https://gitlab.example", projectID: "group/tests", triggerToken: "glptt-x1y2", ref: "main")
    let http = try GitLabDispatcher(config: config, transport: StubTransport()).makeRequest(request)
    #expect(http.url.absoluteString == "https://gitlab.example/api/v4/projects/group%2Ftests/trigger/pipeline")
    #expect(http.header("Content-Type") == "application/x-www-form-urlencoded")
    #expect(
      http.bodyText
        == "token=glptt-x1y2&ref=main&variables%5Brun%5D=a1b2c3d4&variables%5Bgrep%5D=T1a2b3c4d%7CT5e6f7a8b&variables%5Bjira%5D=PROJ-1&variables%5Btestomatio_url%5D=https%3A%2F%2Ftestomat.example"
    )
  }
}

@Suite(.serialized) struct GitHubDispatcherTests {
  private func dispatcher(_ base: String, _ environment: [String: String] = [:]) throws(TriggerError)
    -> GitHubDispatcher
  {
    var env = [
      "GITHUB_API_URL": base, "GITHUB_REPOSITORY": "sandbox/tests", "GITHUB_TOKEN": "ghs_sandbox_token",
      "TESTBRIDGE_GITHUB_WORKFLOW": "testbridge.yml",
    ]
    env.merge(environment) { $1 }
    return GitHubDispatcher(
      config: try GitHubDispatchConfig.resolve(environment: env.filter { !$0.value.isEmpty }),
      transport: URLSessionTransport(defaultTimeout: 10))
  }

  @Test func workflowDispatchIsRecorded() async throws {
    try await withCISandbox { sandbox, base in
      let receipt = try await dispatcher(base).dispatch(request)
      #expect(receipt.ci == .github)
      #expect(receipt.summary.contains("testbridge.yml"))
      let dispatches = await sandbox.github.dispatches()
      try #require(dispatches.count == 1)
      let record = dispatches[0]
      #expect(record.kind == "workflow_dispatch")
      #expect(record.path == "/repos/sandbox/tests/actions/workflows/testbridge.yml/dispatches")
      #expect(record.ref == "main")
      #expect(record.authPresent)
      #expect(
        record.inputs == [
          "run": "a1b2c3d4", "grep": "T1a2b3c4d|T5e6f7a8b", "jira": "PROJ-1", "testomatio_url": "https://testomat.example",
        ])
    }
  }

  @Test func workflowByNumericID() async throws {
    try await withCISandbox { sandbox, base in
      _ = try await dispatcher(base, ["TESTBRIDGE_GITHUB_WORKFLOW": "1001"]).dispatch(request)
      #expect(await sandbox.github.dispatches().first?.workflow == "testbridge.yml")
    }
  }

  @Test func repositoryDispatchWithoutAWorkflow() async throws {
    try await withCISandbox { sandbox, base in
      _ = try await dispatcher(base, ["TESTBRIDGE_GITHUB_WORKFLOW": ""]).dispatch(request)
      let record = try #require(await sandbox.github.dispatches().first)
      #expect(record.kind == "repository_dispatch")
      #expect(record.path == "/repos/sandbox/tests/dispatches")
      #expect(record.eventType == "testbridge")
      #expect(record.inputs["run"] == "a1b2c3d4")
      #expect(record.inputs["grep"] == "T1a2b3c4d|T5e6f7a8b")
    }
  }

  @Test(
    "refusals become errors without the token",
    arguments: [
      (["GITHUB_TOKEN": "ghs_wrong_token_value"], 401, "Bad credentials"),
      (["TESTBRIDGE_GITHUB_WORKFLOW": "missing.yml"], 404, "Not Found"),
      (["GITHUB_REPOSITORY": "sandbox/other"], 404, "Not Found"),
      (["TESTBRIDGE_GITHUB_REF": "feature"], 422, "No ref found for: feature"),
    ])
  func refusals(environment: [String: String], status: Int, message: String) async throws {
    try await withCISandbox { sandbox, base in
      do throws(TriggerError) {
        _ = try await dispatcher(base, environment).dispatch(request)
        Issue.record("dispatched")
      } catch {
        guard case .ciDispatch(let ci, let code, let reason) = error else {
          Issue.record("unexpected \(error)")
          return
        }
        #expect(ci == .github)
        #expect(code == status)
        #expect(reason.contains(message), "\(reason)")
        #expect(!error.description.contains("ghs_"))
      }
      #expect(await sandbox.github.dispatches().isEmpty)
    }
  }

  @Test func undeclaredInputsAreRefused() async throws {
    let github = GitHubEmulator(workflows: [GitHubWorkflow(file: "testbridge.yml", id: 7, inputs: ["run", "grep"])])
    try await withCISandbox(github: github) { sandbox, base in
      do throws(TriggerError) {
        _ = try await dispatcher(base).dispatch(request)
        Issue.record("dispatched")
      } catch {
        #expect(error.reason.contains("Unexpected inputs provided"), "\(error)")
        #expect(error.reason.contains("HTTP 422"))
      }
      #expect(await sandbox.github.dispatches().isEmpty)
    }
  }

  @Test func injectedServerErrorsAreReportedThenServed() async throws {
    try await withCISandbox { sandbox, base in
      await sandbox.github.setFaults([SandboxFault(status: 500, times: 1, message: "boom")])
      do throws(TriggerError) {
        _ = try await dispatcher(base).dispatch(request)
        Issue.record("dispatched")
      } catch {
        #expect(error == .ciDispatch(ci: .github, status: 500, reason: "GitHub answered HTTP 500: boom"))
      }
      _ = try await dispatcher(base).dispatch(request)
      let state = await sandbox.github.state()
      #expect(state.dispatches.count == 1)
      #expect(state.requests.map(\.status) == [500, 204])
      #expect(state.requests.first?.fault == true)
    }
  }

  @Test func unreachableServerIsATransportError() async throws {
    // A port that was just closed: nothing listens there.
    let sandbox = CISandboxServer()
    let base = try await sandbox.start().absoluteString
    await sandbox.stop(graceful: false)
    do throws(TriggerError) {
      _ = try await dispatcher(base).dispatch(request)
      Issue.record("dispatched")
    } catch {
      guard case .ciDispatch(_, let status, _) = error else {
        Issue.record("unexpected \(error)")
        return
      }
      #expect(status == nil)
      #expect(!error.description.contains("ghs_sandbox_token"))
    }
  }
}

@Suite(.serialized) struct GitLabDispatcherTests {
  private func dispatcher(_ base: String, _ environment: [String: String] = [:]) throws(TriggerError)
    -> GitLabDispatcher
  {
    var env = ["GITLAB_URL": base, "GITLAB_PROJECT_ID": "42", "GITLAB_TRIGGER_TOKEN": "glptt-sandbox-token"]
    env.merge(environment) { $1 }
    return GitLabDispatcher(
      config: try GitLabDispatchConfig.resolve(environment: env), transport: URLSessionTransport(defaultTimeout: 10))
  }

  @Test func pipelineTriggerIsRecorded() async throws {
    try await withCISandbox { sandbox, base in
      let receipt = try await dispatcher(base).dispatch(request)
      #expect(receipt.ci == .gitlab)
      #expect(receipt.pipelineID == "1000")
      #expect(receipt.webURL == "\(base.hasSuffix("/") ? String(base.dropLast()) : base)/sandbox/tests/-/pipelines/1000")
      let record = try #require(await sandbox.gitlab.dispatches().first)
      #expect(record.kind == "pipeline_trigger")
      #expect(record.path == "/api/v4/projects/42/trigger/pipeline")
      #expect(record.ref == "main")
      #expect(record.authPresent)
      #expect(
        record.inputs == [
          "run": "a1b2c3d4", "grep": "T1a2b3c4d|T5e6f7a8b", "jira": "PROJ-1", "testomatio_url": "https://testomat.example",
        ])
    }
  }

  @Test func projectByPath() async throws {
    try await withCISandbox { sandbox, base in
      _ = try await dispatcher(base, ["GITLAB_PROJECT_ID": "sandbox/tests"]).dispatch(request)
      _ = try await dispatcher(base, ["GITLAB_PROJECT_ID": "sandbox%2Ftests"]).dispatch(request)
      let records = await sandbox.gitlab.dispatches()
      #expect(records.map(\.path) == Array(repeating: "/api/v4/projects/sandbox%2Ftests/trigger/pipeline", count: 2))
      #expect(records.map(\.pipelineID) == [1000, 1001])
    }
  }

  @Test(
    "refusals become errors without the token",
    arguments: [
      (["GITLAB_TRIGGER_TOKEN": "glptt-wrong-token"], 401, "401 Unauthorized"),
      (["GITLAB_PROJECT_ID": "43"], 404, "Project Not Found"),
      (["TESTBRIDGE_GITLAB_REF": "nope"], 400, "Reference not found"),
    ])
  func refusals(environment: [String: String], status: Int, message: String) async throws {
    try await withCISandbox { sandbox, base in
      do throws(TriggerError) {
        _ = try await dispatcher(base, environment).dispatch(request)
        Issue.record("dispatched")
      } catch {
        guard case .ciDispatch(let ci, let code, let reason) = error else {
          Issue.record("unexpected \(error)")
          return
        }
        #expect(ci == .gitlab)
        #expect(code == status)
        #expect(reason.contains(message), "\(reason)")
        #expect(!error.description.contains("glptt-"))
      }
      #expect(await sandbox.gitlab.dispatches().isEmpty)
    }
  }

  @Test func faultsAreInjectedTimesThenCleared() async throws {
    try await withCISandbox { sandbox, base in
      await sandbox.gitlab.setFaults([SandboxFault(method: "POST", pathPrefix: "/api/v4/", status: 503, times: 2)])
      for _ in 0..<2 {
        await #expect(throws: TriggerError.self) { try await dispatcher(base).dispatch(request) }
      }
      _ = try await dispatcher(base).dispatch(request)
      let state = await sandbox.state()
      #expect(state.gitlab.requests.map(\.status) == [503, 503, 201])
      #expect(state.gitlab.faults.isEmpty)
      #expect(state.dispatches.count == 1)
    }
  }

  /// GitLab created the pipeline, then its answer broke off: the trigger is not safe to send
  /// again (it would start a second pipeline), so even with retries on, it is reported as
  /// failed and the pipeline exists once.
  @Test func anAnswerCutOffAfterThePipelineStartedIsNotSentAgain() async throws {
    try await withCISandbox { sandbox, base in
      await sandbox.gitlab.setFaults([SandboxFault(method: "POST", pathPrefix: "/api/v4/", times: 1, cutBodyAfter: 4)])
      let config = try GitLabDispatchConfig.resolve(
        environment: ["GITLAB_URL": base, "GITLAB_PROJECT_ID": "42", "GITLAB_TRIGGER_TOKEN": "glptt-sandbox-token"])
      let retrying = RetryingTransport(base: URLSessionTransport(defaultTimeout: 10), policy: RetryPolicy(maxAttempts: 3))
      do throws(TriggerError) {
        _ = try await GitLabDispatcher(config: config, transport: retrying).dispatch(request)
        Issue.record("a cut answer was taken for a success")
      } catch {
        guard case .ciDispatch(ci: .gitlab, status: nil, _) = error else {
          Issue.record("\(error)")
          return
        }
        #expect(!error.reason.contains("glptt-sandbox-token"))
      }
      let state = await sandbox.state()
      #expect(state.gitlab.faults.isEmpty, "the cut was made")
      #expect(state.gitlab.dispatches.count == 1)
      #expect(state.gitlab.requests.map(\.status) == [201])
      #expect(state.gitlab.requests.first?.fault == true)
    }
  }
}
