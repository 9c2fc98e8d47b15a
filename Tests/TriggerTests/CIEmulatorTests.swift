import BridgeHTTP
import Foundation
import Sandbox
import Testing

/// The CI emulators spoken to directly, as a misbehaving client would.
@Suite(.serialized) struct CIEmulatorTests {
  private let transport = URLSessionTransport(defaultTimeout: 10)

  private func send(
    _ method: HTTPMethod, _ base: String, _ path: String, body: String? = nil, headers: [String: String] = [:]
  ) async throws -> HTTPResponse {
    let url = try #require(URL(string: base + path))
    var all = headers
    if body != nil && all["Content-Type"] == nil { all["Content-Type"] = "application/json" }
    return try await transport.send(HTTPRequest(method: method, url: url, headers: all, body: body.map { Array($0.utf8) }))
  }

  private let auth = ["Authorization": "Bearer ghs_sandbox_token"]
  private let workflowPath = "/repos/sandbox/tests/actions/workflows/testbridge.yml/dispatches"

  @Test(
    "GitHub refusals",
    arguments: [
      ([String: String](), #"{"ref":"main","inputs":{"run":"r"}}"#, 401, "Requires authentication"),
      (["Authorization": "Bearer nope"], #"{"ref":"main","inputs":{"run":"r"}}"#, 401, "Bad credentials"),
      (["Authorization": "Bearer ghs_sandbox_token"], "not json", 400, "Problems parsing JSON"),
      (["Authorization": "Bearer ghs_sandbox_token"], #"{"inputs":{"run":"r"}}"#, 422, "wasn't supplied"),
      (["Authorization": "Bearer ghs_sandbox_token"], #"{"ref":1}"#, 422, "is not a string"),
      (["Authorization": "Bearer ghs_sandbox_token"], #"{"ref":"main","inputs":{"grep":"x"}}"#, 422, "Required input 'run'"),
      (["Authorization": "Bearer ghs_sandbox_token"], #"{"ref":"main","inputs":{"run":{"a":1}}}"#, 422, "is not a string"),
      (["Authorization": "token ghs_sandbox_token"], #"{"ref":"main","inputs":[]}"#, 422, "is not an object"),
    ])
  func gitHubRefusals(headers: [String: String], body: String, status: Int, message: String) async throws {
    try await withCISandbox { sandbox, base in
      let response = try await send(.POST, base, workflowPath, body: body, headers: headers)
      #expect(response.status == status)
      #expect(response.bodyText.contains(message), "\(response.bodyText)")
      #expect(await sandbox.github.dispatches().isEmpty)
    }
  }

  @Test func gitHubRepositoryDispatchValidation() async throws {
    try await withCISandbox { sandbox, base in
      let path = "/repos/sandbox/tests/dispatches"
      #expect(try await send(.POST, base, path, body: "{}", headers: auth).status == 422)
      let long = String(repeating: "e", count: 101)
      #expect(try await send(.POST, base, path, body: #"{"event_type":"\#(long)"}"#, headers: auth).status == 422)
      let eleven = (0..<11).map { #""k\#($0)":"v""# }.joined(separator: ",")
      #expect(
        try await send(.POST, base, path, body: #"{"event_type":"x","client_payload":{\#(eleven)}}"#, headers: auth)
          .status == 422)
      let ok = try await send(
        .POST, base, path, body: #"{"event_type":"x","client_payload":{"run":"r","n":3}}"#, headers: auth)
      #expect(ok.status == 204)
      #expect(await sandbox.github.dispatches().first?.inputs == ["run": "r", "n": "3"])
    }
  }

  @Test func unknownRoutesAnswer404() async throws {
    try await withCISandbox { _, base in
      let root = try await send(.GET, base, "/")
      #expect(root.status == 404)
      #expect(try await send(.GET, base, workflowPath, headers: auth).status == 404)
      #expect(try await send(.POST, base, "/api/v4/projects/42/pipeline").status == 404)
      #expect(try await send(.GET, base, "/_sandbox/ci/nothing").status == 404)
    }
  }

  @Test(
    "GitLab refusals",
    arguments: [
      ("ref=main", 401, "token is missing"),
      ("token=nope&ref=main", 401, "401 Unauthorized"),
      ("token=glptt-sandbox-token", 422, "ref is missing"),
      ("token=glptt-sandbox-token&ref=", 422, "ref is missing"),
      ("token=glptt-sandbox-token&ref=main&variables[]=x", 422, "variables is invalid"),
      ("token=glptt-sandbox-token&ref=other", 400, "Reference not found"),
    ])
  func gitLabRefusals(form: String, status: Int, message: String) async throws {
    try await withCISandbox { sandbox, base in
      let response = try await send(
        .POST, base, "/api/v4/projects/42/trigger/pipeline", body: form,
        headers: ["Content-Type": "application/x-www-form-urlencoded"])
      #expect(response.status == status)
      #expect(response.bodyText.contains(message), "\(response.bodyText)")
      #expect(await sandbox.gitlab.dispatches().isEmpty)
    }
  }

  @Test func gitLabAcceptsJSONAndQueryTokens() async throws {
    try await withCISandbox { sandbox, base in
      let json = try await send(
        .POST, base, "/api/v4/projects/sandbox%2Ftests/trigger/pipeline",
        body: #"{"token":"glptt-sandbox-token","ref":"main","variables":{"run":"r1"}}"#)
      #expect(json.status == 201)
      let query = try await send(
        .POST, base, "/api/v4/projects/42/trigger/pipeline?token=glptt-sandbox-token", body: "ref=main&variables[run]=r2",
        headers: ["Content-Type": "application/x-www-form-urlencoded"])
      #expect(query.status == 201)
      let unreadable = try await send(
        .POST, base, "/api/v4/projects/42/trigger/pipeline?token=glptt-sandbox-token", body: "ref=main&x=%zz",
        headers: ["Content-Type": "application/x-www-form-urlencoded"])
      #expect(unreadable.status == 400)
      #expect(unreadable.bodyText.contains("could not be read"))
      #expect(await sandbox.gitlab.dispatches().map { $0.inputs["run"] } == ["r1", "r2"])
    }
  }

  @Test func stateOverHTTPNeverShowsTokens() async throws {
    try await withCISandbox { _, base in
      _ = try await send(.POST, base, workflowPath, body: #"{"ref":"main","inputs":{"run":"ghs_sandbox_token"}}"#, headers: auth)
      _ = try await send(
        .POST, base, "/api/v4/projects/42/trigger/pipeline",
        body: "token=glptt-sandbox-token&ref=main&variables[run]=r", headers: ["Content-Type": "application/x-www-form-urlencoded"])
      let state = try await send(.GET, base, "/_sandbox/ci/state")
      #expect(state.status == 200)
      #expect(!state.bodyText.contains("ghs_sandbox_token"))
      #expect(!state.bodyText.contains("glptt-sandbox-token"))
      let decoded = try JSONDecoder().decode(CISandboxState.self, from: Data(state.body))
      #expect(decoded.github.dispatches.first?.inputs["run"] == "[REDACTED]")
      #expect(decoded.gitlab.dispatches.first?.authPresent == true)
      #expect(decoded.github.requests.first?.authPresent == true)
      #expect(decoded.gitlab.requests.first?.path == "/api/v4/projects/42/trigger/pipeline")
    }
  }

  @Test func faultsAndResetOverHTTP() async throws {
    try await withCISandbox { sandbox, base in
      let install = try await send(.POST, base, "/_sandbox/ci/github/faults", body: #"[{"status": 500, "times": 2}]"#)
      #expect(install.status == 200)
      #expect(try await send(.POST, base, "/_sandbox/ci/github/faults", body: #"[{"status": "x"}]"#).status == 422)
      #expect(try await send(.POST, base, "/_sandbox/ci/github/faults", body: "status=500").status == 400)
      // The rejected rules did not replace the installed ones.
      let body = #"{"ref":"main","inputs":{"run":"r"}}"#
      #expect(try await send(.POST, base, workflowPath, body: body, headers: auth).status == 500)
      #expect(try await send(.POST, base, workflowPath, body: body, headers: auth).status == 500)
      #expect(try await send(.POST, base, workflowPath, body: body, headers: auth).status == 204)
      _ = try await send(.POST, base, "/_sandbox/ci/gitlab/faults", body: #"{"rules": [{"drop_connection": true}]}"#)
      #expect(await sandbox.gitlab.state().faults.count == 1)
      #expect(try await send(.DELETE, base, "/_sandbox/ci/gitlab/faults").status == 200)
      #expect(await sandbox.gitlab.state().faults.isEmpty)
      #expect(try await send(.POST, base, "/_sandbox/ci/reset").status == 200)
      let state = await sandbox.state()
      #expect(state.dispatches.isEmpty)
      #expect(state.github.requests.isEmpty)
    }
  }
}
