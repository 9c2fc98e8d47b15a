import BridgeCore
import Foundation
import HTTPServer
import Sandbox
import Testing

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

private let key = "tstmt_sandbox"

/// A minimal JSON client over URLSession for talking to the sandbox like a reporter would.
private struct SandboxClient {
  let base: URL
  let session: URLSession

  struct Reply {
    var status: Int
    var json: JSONValue?
    var text: String
    var headers: [String: String]

    var message: String { json?["message"]?.stringValue ?? "" }
  }

  func send(
    _ method: String, _ path: String, json body: String? = nil, contentType: String? = "application/json"
  ) async throws -> Reply {
    let url = try #require(URL(string: base.absoluteString + path))
    var request = URLRequest(url: url)
    request.httpMethod = method
    if let body {
      request.httpBody = Data(body.utf8)
      if let contentType { request.setValue(contentType, forHTTPHeaderField: "Content-Type") }
    }
    let (data, response) = try await session.data(for: request)
    let http = try #require(response as? HTTPURLResponse)
    var headers: [String: String] = [:]
    for (name, value) in http.allHeaderFields {
      if let name = name as? String, let value = value as? String { headers[name.lowercased()] = value }
    }
    return Reply(
      status: http.statusCode, json: JSONValue.parse(Array(data)), text: String(decoding: data, as: UTF8.self),
      headers: headers)
  }

  /// Creates a run and returns its uid.
  func createRun(_ fields: String = #""title": "nightly""#) async throws -> String {
    let reply = try await send("POST", "/api/reporter", json: #"{"api_key": "\#(key)", \#(fields)}"#)
    #expect(reply.status == 200, "\(reply.text)")
    return try #require(reply.json?["uid"]?.stringValue)
  }

  func state() async throws -> SandboxState {
    let reply = try await send("GET", "/_sandbox/state")
    #expect(reply.status == 200)
    return try JSONDecoder().decode(SandboxState.self, from: Data(reply.text.utf8))
  }
}

/// Runs `body` against a fresh sandbox on 127.0.0.1 and always stops it.
private func withSandbox(_ body: (SandboxServer, SandboxClient) async throws -> Void) async throws {
  let sandbox = SandboxServer()
  let base = try await sandbox.start()
  let configuration = URLSessionConfiguration.ephemeral
  configuration.timeoutIntervalForRequest = 10
  let session = URLSession(configuration: configuration)
  do {
    try await body(sandbox, SandboxClient(base: base, session: session))
  } catch {
    session.finishTasksAndInvalidate()
    await sandbox.stop(graceful: false)
    throw error
  }
  session.finishTasksAndInvalidate()
  await sandbox.stop(graceful: false)
}

private func test(_ title: String, status: String = "passed", rid: String? = nil, extra: String = "") -> String {
  var fields = [#""title": "\#(title)""#, #""status": "\#(status)""#, #""run_time": 12"#]
  if let rid { fields.append(#""rid": "\#(rid)""#) }
  if !extra.isEmpty { fields.append(extra) }
  return "{" + fields.joined(separator: ", ") + "}"
}

@Suite struct SandboxEmulatorTests {
  @Test func createAdoptAndFinishARun() async throws {
    try await withSandbox { sandbox, client in
      let created = try await client.send(
        "POST", "/api/reporter",
        json: #"""
          {"api_key": "\#(key)", "title": "nightly", "env": "linux,chrome", "group_title": "CI/main",
           "jira_id": "PROJ-7", "label": "release", "access_event": "publish", "shared_run": false,
           "parallel": true, "kind": "automated", "ci_build_url": "https://ci.example/1"}
          """#)
      #expect(created.status == 200)
      let uid = try #require(created.json?["uid"]?.stringValue)
      #expect(uid.count == 8 && uid.allSatisfy(\.isHexDigit))
      let base = try #require(sandbox.baseURL).absoluteString
      #expect(base.hasPrefix("http://127.0.0.1:"))
      #expect(created.json?["url"]?.stringValue == "\(base)/projects/sandbox/runs/\(uid)")
      #expect(created.json?["public_url"]?.stringValue?.hasPrefix(base) == true)

      let adopted = try await client.send(
        "PUT", "/api/reporter/\(uid)", json: #"{"api_key": "\#(key)", "title": "nightly #2"}"#)
      #expect(adopted.status == 200)
      #expect(adopted.json?["uid"]?.stringValue == uid)

      let finished = try await client.send(
        "PUT", "/api/reporter/\(uid)", json: #"{"api_key": "\#(key)", "status_event": "finish", "duration": 12.5}"#)
      #expect(finished.status == 200)

      let run = try #require(try await client.state().run(uid))
      #expect(run.title == "nightly #2")
      #expect(run.env == "linux,chrome")
      #expect(run.groupTitle == "CI/main")
      #expect(run.jiraID == "PROJ-7")
      #expect(run.label == .string("release"))
      #expect(run.parallel == true)
      #expect(run.kind == "automated")
      #expect(run.ciBuildURL == "https://ci.example/1")
      #expect(run.sharedRun == false)
      #expect(run.updateCount == 1)
      #expect(run.statusEvents == ["finish"])
      #expect(run.finished)
      #expect(run.finishCount == 1)
      #expect(run.duration == 12.5)
      #expect(run.status == "passed")
      #expect(run.attributes["api_key"] == nil)
    }
  }

  @Test func acceptsTheOfficialPytestPluginTraffic() async throws {
    // Bodies as pytestomatio 2.13.0 sends them: nulls everywhere, seconds as fractions,
    // the key only in the query for results.
    try await withSandbox { _, client in
      let uid = try await client.createRun(
        #""title": "nightly", "env": "linux", "kind": "automated", "parallel": true, "shared_run": false"#)
      let adopted = try await client.send(
        "PUT", "/api/reporter/\(uid)",
        json: #"{"api_key": "\#(key)", "title": "nightly", "env": "linux", "kind": "automated", "parallel": true, "shared_run": false}"#
      )
      #expect(adopted.status == 200)
      let batch = #"""
        {"tests": [
          {"status": "passed", "title": "Login works", "create": null, "run_time": 0.000198, "file": null,
           "suite_title": "test_sample.py", "suite_id": null, "test_id": "1a2b3c4d", "message": null, "stack": null,
           "example": null, "artifacts": [], "steps": null, "code": null, "timestamp": 1796321051.6245885,
           "overwrite": null, "rid": "linux-test_login_works-1a2b3c4d", "meta": {"linux": null}, "links": null},
          {"status": "skipped", "title": "Later", "create": null, "run_time": 9.7e-05, "test_id": null,
           "message": "not ready", "rid": "linux-test_later-None", "meta": null, "links": null},
          {"status": "passed", "title": "Param björn", "example": {"user": "björn"}, "artifacts": [],
           "rid": "linux-test_param[bj\\xf6rn]-None", "meta": {"linux": null}}
        ], "batch_index": 1}
        """#
      let posted = try await client.send("POST", "/api/reporter/\(uid)/testrun?api_key=\(key)", json: batch)
      #expect(posted.status == 200, "\(posted.text)")
      let run = try #require(try await client.state().run(uid))
      #expect(run.results.count == 3)
      #expect(run.batchIndexes == [1])
      #expect(run.results.last?.test["example"]?["user"]?.stringValue == "björn")
      #expect(run.ridCounts["linux-test_param[bj\\xf6rn]-None"] == 1)
    }
  }

  @Test func storesBatchAndSingleResults() async throws {
    try await withSandbox { _, client in
      let uid = try await client.createRun()
      let batch = try await client.send(
        "POST", "/api/reporter/\(uid)/testrun",
        json: #"{"api_key": "\#(key)", "batch_index": 1, "tests": [\#(test("A", rid: "r-a")), \#(test("B", status: "failed", rid: "r-b"))]}"#
      )
      #expect(batch.status == 200)
      #expect(batch.json?["accepted"]?.intValue == 2)
      let single = try await client.send(
        "POST", "/api/reporter/\(uid)/testrun",
        json: #"{"api_key": "\#(key)", "create": true, "title": "C", "status": "skipped", "test_id": "5e6f7a8b"}"#)
      #expect(single.status == 200)
      // Results in the finishing PUT (as the XML import sends them).
      let finish = try await client.send(
        "PUT", "/api/reporter/\(uid)",
        json: #"{"api_key": "\#(key)", "status_event": "finish", "tests": [\#(test("D", rid: "r-d"))]}"#)
      #expect(finish.status == 200)

      let run = try #require(try await client.state().run(uid))
      #expect(run.results.map(\.title) == ["A", "B", "C", "D"])
      #expect(run.results.map(\.via) == ["batch", "batch", "single", "finish"])
      #expect(run.results[2].testID == "5e6f7a8b")
      #expect(run.results[2].test["api_key"] == nil)
      #expect(run.batchIndexes == [1])
      #expect(run.status == "failed")
    }
  }

  @Test func resentRidsReplaceEarlierResultsAndAreCounted() async throws {
    try await withSandbox { _, client in
      let uid = try await client.createRun()
      for (index, status) in ["failed", "passed"].enumerated() {
        let otherRid = "run-\(index + 2)"
        let reply = try await client.send(
          "POST", "/api/reporter/\(uid)/testrun",
          json: #"{"api_key": "\#(key)", "batch_index": \#(index + 1), "tests": [\#(test("Flaky", status: status, rid: "run-1")), \#(test("Other", rid: otherRid))]}"#
        )
        #expect(reply.status == 200)
      }
      let run = try #require(try await client.state().run(uid))
      #expect(run.results.count == 3)
      #expect(run.results.first?.rid == "run-1")
      #expect(run.results.first?.status == "passed")
      #expect(run.ridCounts == ["run-1": 2, "run-2": 1, "run-3": 1])
      #expect(run.results(withStatus: "failed").isEmpty)
    }
  }

  @Test func missingOrWrongKeysAre401() async throws {
    try await withSandbox { _, client in
      let missing = try await client.send("POST", "/api/reporter", json: #"{"title": "x"}"#)
      #expect(missing.status == 401)
      #expect(missing.message.contains("api key is missing"))
      let wrong = try await client.send("POST", "/api/reporter", json: #"{"api_key": "tstmt_wrong", "title": "x"}"#)
      #expect(wrong.status == 401)
      #expect(wrong.message == "invalid api key")
      #expect(!wrong.text.contains("tstmt_wrong"))
      let wrongQuery = try await client.send("GET", "/api/test_grep?type=tag&id=smoke&api_key=nope")
      #expect(wrongQuery.status == 401)
      // The key may also come in the query.
      let viaQuery = try await client.send("POST", "/api/reporter?api_key=\(key)", json: #"{"title": "x"}"#)
      #expect(viaQuery.status == 200)
      #expect(try await client.state().runs.count == 1)
    }
  }

  @Test func unknownRoutesAndRunsAre404() async throws {
    try await withSandbox { _, client in
      let route = try await client.send("GET", "/api/reporter")
      #expect(route.status == 404)
      #expect(route.message.contains("GET /api/reporter"))
      #expect(try await client.send("POST", "/api/reporters", json: #"{"api_key": "\#(key)"}"#).status == 404)
      #expect(try await client.send("DELETE", "/api/reporter/abcd1234").status == 404)
      let run = try await client.send("PUT", "/api/reporter/deadbeef", json: #"{"api_key": "\#(key)"}"#)
      #expect(run.status == 404)
      #expect(run.message == "run 'deadbeef' not found")
      let results = try await client.send(
        "POST", "/api/reporter/deadbeef/testrun", json: #"{"api_key": "\#(key)", "tests": []}"#)
      #expect(results.status == 404)
    }
  }

  struct InvalidCase: Sendable, CustomTestStringConvertible {
    var name: String
    var path: String
    var body: String
    var status: Int
    var field: String
    var testDescription: String { name }
  }

  static let invalid: [InvalidCase] = [
    .init(
      name: "run_time not a number", path: "/testrun",
      body: #"{"api_key": "\#(key)", "tests": [{"title": "t", "status": "passed", "run_time": "fast"}]}"#,
      status: 422, field: "'tests[0].run_time' must be a number, got a string"),
    .init(
      name: "tests not an array", path: "/testrun", body: #"{"api_key": "\#(key)", "tests": {"title": "t"}}"#,
      status: 422, field: "'tests' must be an array, got an object"),
    .init(
      name: "title not a string", path: "/testrun", body: #"{"api_key": "\#(key)", "title": 42, "status": "passed"}"#,
      status: 422, field: "'title' must be a string, got a number"),
    .init(
      name: "unknown status", path: "/testrun",
      body: #"{"api_key": "\#(key)", "tests": [{"title": "ok", "status": "passed"}, {"title": "t", "status": "finished"}]}"#,
      status: 422, field: "'tests[1].status' must be one of passed, failed, skipped, got 'finished'"),
    .init(
      name: "missing status", path: "/testrun", body: #"{"api_key": "\#(key)", "title": "t"}"#, status: 422,
      field: "'status' is required"),
    .init(
      name: "no title or test_id", path: "/testrun", body: #"{"api_key": "\#(key)", "status": "passed"}"#,
      status: 422, field: "'title' is required when 'test_id' is missing"),
    .init(
      name: "batch_index not an integer", path: "/testrun",
      body: #"{"api_key": "\#(key)", "tests": [], "batch_index": "one"}"#, status: 422,
      field: "'batch_index' must be an integer, got a string"),
    .init(
      name: "unknown status_event", path: "", body: #"{"api_key": "\#(key)", "status_event": "done"}"#, status: 422,
      field: "'status_event' must be one of finish, pass, fail, finish_parallel, pass_parallel, fail_parallel, got 'done'"
    ),
    .init(
      name: "duration not a number", path: "", body: #"{"api_key": "\#(key)", "status_event": "finish", "duration": "1s"}"#,
      status: 422, field: "'duration' must be a number, got a string"),
    .init(
      name: "api_key not a string", path: "", body: #"{"api_key": 7}"#, status: 422,
      field: "'api_key' must be a string, got a number"),
    .init(name: "body not JSON", path: "/testrun", body: "tests=1", status: 400, field: "request body is not valid JSON"),
    .init(
      name: "body not an object", path: "/testrun", body: "[1, 2]", status: 400,
      field: "request body must be a JSON object, got an array"),
  ]

  @Test(arguments: invalid)
  func invalidBodiesAreRejectedNamingTheField(_ testCase: InvalidCase) async throws {
    try await withSandbox { _, client in
      let uid = try await client.createRun()
      let method = testCase.path.isEmpty ? "PUT" : "POST"
      let reply = try await client.send(method, "/api/reporter/\(uid)\(testCase.path)", json: testCase.body)
      #expect(reply.status == testCase.status)
      #expect(reply.message == testCase.field)
      let run = try #require(try await client.state().run(uid))
      #expect(run.results.isEmpty)
      #expect(!run.finished)
    }
  }

  @Test func createValidationAndContentType() async throws {
    try await withSandbox { _, client in
      let kind = try await client.send("POST", "/api/reporter", json: #"{"api_key": "\#(key)", "kind": "robot"}"#)
      #expect(kind.status == 422)
      #expect(kind.message.contains("'kind'"))
      let shared = try await client.send("POST", "/api/reporter", json: #"{"api_key": "\#(key)", "shared_run": "yes"}"#)
      #expect(shared.status == 422)
      #expect(shared.message == "'shared_run' must be a boolean, got a string")
      let numericFlag = try await client.send("POST", "/api/reporter", json: #"{"api_key": "\#(key)", "parallel": 1}"#)
      #expect(numericFlag.message == "'parallel' must be a boolean, got a number")
      let boolTime = try await client.send(
        "POST", "/api/reporter", json: #"{"api_key": "\#(key)", "shared_run_timeout": "20"}"#)
      #expect(boolTime.message == "'shared_run_timeout' must be a number or a boolean, got a string")
      let form = try await client.send(
        "POST", "/api/reporter", json: #"{"api_key": "\#(key)"}"#, contentType: "application/x-www-form-urlencoded")
      #expect(form.status == 415)
      #expect(try await client.state().runs.isEmpty)
    }
  }

  @Test func finishedRunsRefuseResultsWith409() async throws {
    try await withSandbox { _, client in
      let uid = try await client.createRun()
      #expect(
        try await client.send("PUT", "/api/reporter/\(uid)", json: #"{"api_key": "\#(key)", "status_event": "fail"}"#)
          .status == 200)
      let late = try await client.send(
        "POST", "/api/reporter/\(uid)/testrun", json: #"{"api_key": "\#(key)", "tests": [\#(test("Late"))]}"#)
      #expect(late.status == 409)
      #expect(late.message.contains("already finished"))
      // A repeated finish is accepted but counted, so double finishes are visible.
      let again = try await client.send("PUT", "/api/reporter/\(uid)", json: #"{"api_key": "\#(key)", "status_event": "finish"}"#)
      #expect(again.status == 200)
      let run = try #require(try await client.state().run(uid))
      #expect(run.finishCount == 2)
      #expect(run.statusEvents == ["fail", "finish"])
      #expect(run.status == "failed")
      #expect(run.results.isEmpty)
      #expect(run.reopenCount == 0)
    }
  }

  @Test func adoptingAFinishedRunReopensIt() async throws {
    try await withSandbox { _, client in
      let uid = try await client.createRun()
      #expect(
        try await client.send("PUT", "/api/reporter/\(uid)", json: #"{"api_key": "\#(key)", "status_event": "fail"}"#)
          .status == 200)
      // As a relaunch in CI does: the job adopts the finished run by id.
      let adopt = try await client.send("PUT", "/api/reporter/\(uid)", json: #"{"api_key": "\#(key)", "title": "again"}"#)
      #expect(adopt.status == 200)
      var run = try #require(try await client.state().run(uid))
      #expect(!run.finished && run.status == "running" && run.reopenCount == 1)
      let late = try await client.send(
        "POST", "/api/reporter/\(uid)/testrun", json: #"{"api_key": "\#(key)", "tests": [\#(test("Late"))]}"#)
      #expect(late.status == 200)
      #expect(
        try await client.send("PUT", "/api/reporter/\(uid)", json: #"{"api_key": "\#(key)", "status_event": "pass"}"#)
          .status == 200)
      run = try #require(try await client.state().run(uid))
      #expect(run.finished && run.status == "passed" && run.finishCount == 2 && run.results.count == 1)
    }
  }

  @Test func aSharedRunTakesJoinersOnlyWithinItsTimeout() async throws {
    try await withSandbox { sandbox, client in
      let body = #"{"api_key": "\#(key)", "title": "T", "shared_run": true, "shared_run_timeout": 30}"#
      let first = try await client.send("POST", "/api/reporter", json: body)
      await sandbox.emulator.advanceClock(by: 29 * 60)
      let joined = try await client.send("POST", "/api/reporter", json: body)
      await sandbox.emulator.advanceClock(by: 2 * 60)
      let late = try await client.send("POST", "/api/reporter", json: body)
      let uids = [first, joined, late].map { $0.json?["uid"]?.stringValue }
      #expect(uids[0] != nil && uids[0] == uids[1], "joined within 30 minutes")
      #expect(uids[2] != nil && uids[2] != uids[0], "a new run after the window closed")
    }
  }

  @Test func parallelEventsDoNotCloseTheRun() async throws {
    try await withSandbox { _, client in
      let uid = try await client.createRun()
      for event in ["pass_parallel", "fail_parallel"] {
        #expect(
          try await client.send("PUT", "/api/reporter/\(uid)", json: #"{"api_key": "\#(key)", "status_event": "\#(event)"}"#)
            .status == 200)
      }
      let more = try await client.send(
        "POST", "/api/reporter/\(uid)/testrun", json: #"{"api_key": "\#(key)", "tests": [\#(test("More"))]}"#)
      #expect(more.status == 200)
      var run = try #require(try await client.state().run(uid))
      #expect(!run.finished)
      #expect(run.parallelFinishCount == 2)
      #expect(
        try await client.send("PUT", "/api/reporter/\(uid)", json: #"{"api_key": "\#(key)", "status_event": "finish"}"#)
          .status == 200)
      run = try #require(try await client.state().run(uid))
      #expect(run.finished)
      #expect(run.finishCount == 1)
      #expect(run.statusEvents == ["pass_parallel", "fail_parallel", "finish"])
    }
  }

  @Test func sharedRunsAreJoinedByTitle() async throws {
    try await withSandbox { _, client in
      let first = try await client.createRun(#""title": "shard run", "shared_run": true"#)
      let second = try await client.createRun(#""title": "shard run", "shared_run": true"#)
      let other = try await client.createRun(#""title": "other", "shared_run": true"#)
      #expect(first == second)
      #expect(first != other)
      let state = try await client.state()
      #expect(state.runs.count == 2)
      #expect(state.run(first)?.sharedJoins == 1)
    }
  }

  @Test func seededRunsCanBeAdopted() async throws {
    try await withSandbox { _, client in
      let seeded = try await client.send("POST", "/_sandbox/seed", json: #"{"runs": [{"uid": "cafe0001", "title": "from CI"}]}"#)
      #expect(seeded.status == 200)
      var run = try #require(try await client.state().run("cafe0001"))
      #expect(run.status == "scheduled")
      let adopted = try await client.send("PUT", "/api/reporter/cafe0001", json: #"{"api_key": "\#(key)", "env": "ci"}"#)
      #expect(adopted.status == 200)
      #expect(adopted.json?["url"]?.stringValue?.hasSuffix("/projects/sandbox/runs/cafe0001") == true)
      run = try #require(try await client.state().run("cafe0001"))
      #expect(run.origin == "seeded")
      #expect(run.status == "running")
      #expect(run.title == "from CI")
      #expect(run.env == "ci")
    }
  }

  @Test func serverErrorsTwiceThenSuccess() async throws {
    try await withSandbox { _, client in
      let rules = try await client.send(
        "POST", "/_sandbox/faults",
        json: #"[{"method": "POST", "path_prefix": "/api/reporter", "status": 503, "times": 2, "retry_after": 1}]"#)
      #expect(rules.status == 200)
      for _ in 0..<2 {
        let refused = try await client.send("POST", "/api/reporter", json: #"{"api_key": "\#(key)", "title": "x"}"#)
        #expect(refused.status == 503)
        #expect(refused.headers["retry-after"] == "1")
        #expect(refused.message == "sandbox fault: injected 503")
      }
      let accepted = try await client.send("POST", "/api/reporter", json: #"{"api_key": "\#(key)", "title": "x"}"#)
      #expect(accepted.status == 200)
      let state = try await client.state()
      #expect(state.runs.count == 1)
      #expect(state.faults.isEmpty)
      #expect(state.requests.map(\.status) == [503, 503, 200])
      #expect(state.requests.map(\.fault) == [true, true, false])
    }
  }

  @Test func faultsOnlyMatchTheirMethodAndPath() async throws {
    try await withSandbox { sandbox, client in
      await sandbox.emulator.setFaults([SandboxFault(method: "PUT", pathPrefix: "/api/reporter/", status: 500)])
      let uid = try await client.createRun()
      let posted = try await client.send(
        "POST", "/api/reporter/\(uid)/testrun", json: #"{"api_key": "\#(key)", "tests": [\#(test("A"))]}"#)
      #expect(posted.status == 200)
      let put = try await client.send("PUT", "/api/reporter/\(uid)", json: #"{"api_key": "\#(key)", "status_event": "finish"}"#)
      #expect(put.status == 500)
      // Answered without touching state.
      #expect(try await client.state().run(uid)?.finished == false)
      let retried = try await client.send("PUT", "/api/reporter/\(uid)", json: #"{"api_key": "\#(key)", "status_event": "finish"}"#)
      #expect(retried.status == 200)
    }
  }

  @Test func droppedConnectionsFailTheRequest() async throws {
    try await withSandbox { _, client in
      let rules = try await client.send(
        "POST", "/_sandbox/faults", json: #"{"rules": [{"path_prefix": "/api/reporter", "drop_connection": true}]}"#)
      #expect(rules.status == 200)
      // A fresh connection: libcurl silently re-sends a request whose *reused* keep-alive
      // connection was closed, which would hide the drop from the caller.
      let fresh = URLSession(configuration: .ephemeral)
      defer { fresh.finishTasksAndInvalidate() }
      let dropping = SandboxClient(base: client.base, session: fresh)
      let started = ContinuousClock.now
      await #expect(throws: (any Error).self) {
        _ = try await dropping.send("POST", "/api/reporter", json: #"{"api_key": "\#(key)", "title": "x"}"#)
      }
      #expect(ContinuousClock.now - started < .seconds(5))
      let after = try await client.send("POST", "/api/reporter", json: #"{"api_key": "\#(key)", "title": "x"}"#)
      #expect(after.status == 200)
      let state = try await client.state()
      #expect(state.runs.count == 1)
      #expect(state.requests.map(\.status) == [0, 200])
      #expect(state.requests.first?.fault == true)
    }
  }

  @Test func delayedAnswersStillSucceed() async throws {
    try await withSandbox { _, client in
      _ = try await client.send("POST", "/_sandbox/faults", json: #"[{"path_prefix": "/api/", "delay_ms": 300}]"#)
      let started = ContinuousClock.now
      let reply = try await client.send("POST", "/api/reporter", json: #"{"api_key": "\#(key)"}"#)
      #expect(reply.status == 200)
      #expect(ContinuousClock.now - started >= .milliseconds(300))
    }
  }

  @Test func invalidFaultRulesAreRejected() async throws {
    try await withSandbox { _, client in
      let unknown = try await client.send("POST", "/_sandbox/faults", json: #"[{"stauts": 503}]"#)
      #expect(unknown.status == 422)
      #expect(unknown.message == "'rules[0].stauts' is not a fault rule field")
      let times = try await client.send("POST", "/_sandbox/faults", json: #"[{"status": 503, "times": 0}]"#)
      #expect(times.status == 422)
      #expect(times.message.contains("times"))
      let cut = try await client.send("POST", "/_sandbox/faults", json: #"[{"cut_body_after": -1}]"#)
      #expect(cut.status == 422)
      #expect(cut.message.contains("rules[0].cut_body_after"), "\(cut.message)")
      let reset = try await client.send("POST", "/_sandbox/faults", json: #"[{"cut_body_after": 2, "reset": "yes"}]"#)
      #expect(reset.status == 422)
      #expect(reset.message.contains("rules[0].reset"), "\(reset.message)")
      let notJSON = try await client.send("POST", "/_sandbox/faults", json: "status=503")
      #expect(notJSON.status == 400)
      #expect(notJSON.message == "'body' is not valid JSON")
      let notAList = try await client.send("POST", "/_sandbox/faults", json: #"{"status": 503}"#)
      #expect(notAList.status == 422)
      #expect(notAList.message.contains("must be an array of rules"), "\(notAList.message)")
      let state = try await client.send("GET", "/_sandbox/faults")
      #expect(state.status == 200)
      #expect(state.json?.arrayValue?.isEmpty == true, "a rejected body must install nothing: \(state.text)")
    }
  }

  @Test func answersCutOffMidBodyFailTheRequestAfterTheStateChanged() async throws {
    try await withSandbox { sandbox, client in
      let rules = try await client.send(
        "POST", "/_sandbox/faults", json: #"{"rules": [{"method": "POST", "path_prefix": "/api/reporter", "cut_body_after": 3}]}"#)
      #expect(rules.status == 200)
      let fresh = URLSession(configuration: .ephemeral)
      defer { fresh.finishTasksAndInvalidate() }
      let cutting = SandboxClient(base: client.base, session: fresh)
      await #expect(throws: (any Error).self) {
        _ = try await cutting.send("POST", "/api/reporter", json: #"{"api_key": "\#(key)", "title": "x"}"#)
      }
      // The run was created before its answer was cut: the client never learnt its id.
      let state = await sandbox.emulator.state()
      #expect(state.runs.count == 1)
      #expect(state.requests.map(\.status) == [200])
      #expect(state.requests.first?.fault == true)
      #expect(state.faults.isEmpty)
    }
  }

  @Test func testGrepAnswersFromSeededData() async throws {
    try await withSandbox { _, client in
      let seeded = try await client.send(
        "POST", "/_sandbox/seed",
        json: #"{"test_grep": {"jira": {"PROJ-1": ["1a2b3c4d", "5e6f7a8b"]}, "tag": {"smoke test": ["9c0d1e2f"]}}}"#)
      #expect(seeded.status == 200)
      let jira = try await client.send("GET", "/api/test_grep?type=jira&id=PROJ-1&api_key=\(key)")
      #expect(jira.status == 200)
      #expect(jira.json == .object(["tests": .array([.string("1a2b3c4d"), .string("5e6f7a8b")])]))
      let tag = try await client.send("GET", "/api/test_grep?type=tag&id=smoke%20test&api_key=\(key)")
      #expect(tag.json?["tests"]?.arrayValue?.count == 1)
      let none = try await client.send("GET", "/api/test_grep?type=plan&id=42&api_key=\(key)")
      #expect(none.json == .object(["tests": .array([])]))
      let badType = try await client.send("GET", "/api/test_grep?type=suite&id=1&api_key=\(key)")
      #expect(badType.status == 422)
      #expect(badType.message.contains("'type'"))
      let noID = try await client.send("GET", "/api/test_grep?type=tag&api_key=\(key)")
      #expect(noID.status == 422)
      #expect(try await client.send("GET", "/api/test_grep?type=tag&id=x").status == 401)
    }
  }

  @Test func stateNeverContainsTheKey() async throws {
    try await withSandbox { _, client in
      let uid = try await client.createRun(#""title": "run with \#(key) in it""#)
      _ = try await client.send(
        "POST", "/api/reporter/\(uid)/testrun?api_key=\(key)",
        json: #"{"api_key": "\#(key)", "tests": [\#(test("T", extra: #""message": "key was \#(key)", "meta": {"api_key": "\#(key)"}"#))]}"#
      )
      _ = try await client.send("GET", "/api/test_grep?type=tag&id=x&api_key=\(key)")
      _ = try await client.send("POST", "/api/reporter", json: #"{"api_key": "tstmt_wrong_guess"}"#)
      let raw = try await client.send("GET", "/_sandbox/state")
      #expect(raw.status == 200)
      #expect(!raw.text.contains(key))
      #expect(raw.text.contains("[REDACTED]"))
      let state = try await client.state()
      #expect(state.requests.count == 4)
      #expect(state.requests[1].query == "api_key=[REDACTED]")
      #expect(state.requests[2].query == "type=tag&id=x&api_key=[REDACTED]")
      #expect(state.requests.map(\.status) == [200, 200, 200, 401])
    }
  }

  @Test func resetClearsEverything() async throws {
    try await withSandbox { sandbox, client in
      _ = try await client.createRun()
      await sandbox.emulator.seedTestGrep(type: "tag", id: "smoke", tests: ["1a2b3c4d"])
      _ = try await client.send("POST", "/_sandbox/faults", json: #"[{"status": 500, "times": 5}]"#)
      let reset = try await client.send("POST", "/_sandbox/reset")
      #expect(reset.status == 200)
      let state = try await client.state()
      #expect(state == SandboxState())
      #expect(try await client.send("GET", "/_sandbox/nothing").status == 404)
    }
  }
}

@Suite struct SandboxJSONValueTests {
  @Test func keepsJSONTypesApart() throws {
    let value = try #require(
      JSONValue.parse(Array(#"{"b": true, "i": 3, "d": 0.5, "big": 1796321051624588, "n": null, "s": "x", "a": [1, "2"]}"#.utf8)))
    #expect(value["b"] == .bool(true))
    #expect(value["i"] == .integer(3))
    #expect(value["d"] == .number(0.5))
    #expect(value["big"]?.intValue == 1_796_321_051_624_588)
    #expect(value["n"]?.isNull == true)
    #expect(value["s"]?.stringValue == "x")
    #expect(value["a"]?.arrayValue?.count == 2)
    #expect(value["missing"] == nil)
    #expect(JSONValue.parse(Array("{nope".utf8)) == nil)
    #expect(value.jsonText.hasPrefix(#"{"a":[1,"2"],"b":true,"big":1796321051624588"#))
  }

  @Test func inProcessControlMatchesTheHTTPView() async throws {
    let emulator = TestomatioEmulator(apiKey: "tstmt_other", projectSlug: "demo", baseURL: "http://127.0.0.1:1/")
    let uid = await emulator.seedRun(title: "scheduled")
    await emulator.seedTestGrep(type: "label", id: "severity:high", tests: ["1a2b3c4d"])
    let request = ServerRequest(
      method: "PUT", target: "/api/reporter/\(uid)", headers: ["Host": "h", "Content-Type": "application/json"],
      body: Array(#"{"api_key": "tstmt_other"}"#.utf8))
    let reply = await emulator.handle(request)
    #expect(reply.status == 200)
    #expect(JSONValue.parse(reply.body)?["url"]?.stringValue == "http://127.0.0.1:1/projects/demo/runs/\(uid)")
    let wrongKey = await emulator.handle(
      ServerRequest(method: "GET", target: "/api/test_grep?type=label&id=severity%3Ahigh&api_key=tstmt_sandbox"))
    #expect(wrongKey.status == 401)
    let grep = await emulator.handle(
      ServerRequest(method: "GET", target: "/api/test_grep?type=label&id=severity%3Ahigh&api_key=tstmt_other"))
    #expect(JSONValue.parse(grep.body)?["tests"] == .array([.string("1a2b3c4d")]))
    let state = await emulator.state()
    #expect(state.run(uid)?.updateCount == 1)
    #expect(state.requests.map(\.query) == [nil, "type=label&id=severity:high&api_key=[REDACTED]", "type=label&id=severity:high&api_key=[REDACTED]"])
  }
}
