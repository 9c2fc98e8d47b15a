import BridgeHTTP
import BridgeTestSupport
import Foundation
import Jira
import Sandbox
import Testing

/// The client against the Jira emulator over real HTTP on 127.0.0.1.
@Suite struct JiraEmulatorTests {
  /// Seeds ABC-1…ABC-7 (ABC-1 an epic with ABC-2…ABC-4 in it, ABC-5 a child of ABC-2 via parent,
  /// ABC-6/ABC-7 in sprint 7) and XYZ-1, XYZ-2.
  private func seedProjects(_ emulator: JiraEmulator) async {
    await emulator.seedIssue(key: "ABC-1", summary: "Checkout epic", type: "Epic")
    for number in 2...4 { await emulator.seedIssue(key: "ABC-\(number)", epic: "ABC-1") }
    await emulator.seedIssue(key: "ABC-5", type: "Sub-task", parent: "ABC-2")
    await emulator.seedIssue(key: "ABC-6", status: "In Progress", sprints: [7])
    await emulator.seedIssue(key: "ABC-7", status: "Done", sprints: [7, 8])
    await emulator.seedIssue(key: "XYZ-1")
    await emulator.seedIssue(key: "XYZ-2", parent: "XYZ-1")
  }

  private func raw(
    _ transport: URLSessionTransport, _ method: HTTPMethod, _ url: String, body: String? = nil,
    headers: [String: String] = [:]
  ) async throws -> HTTPResponse {
    var all = headers
    if body != nil { all["Content-Type"] = "application/json" }
    return try await transport.send(
      HTTPRequest(method: method, url: try #require(URL(string: url)), headers: all, body: body.map { Array($0.utf8) }))
  }

  private var basicHeader: String {
    JiraAuth.basic(email: SandboxCredentials.email, apiToken: SandboxCredentials.apiToken).authorizationHeader
  }

  @Test func cloudSearchPaginatesWithNextPageTokens() async throws {
    try await withJiraSandbox { sandbox, base, transport in
      await seedProjects(sandbox.emulator)
      await sandbox.emulator.setMaxResults(3)
      let client = JiraClient(config: cloudConfig(base), transport: transport, level: .properties)
      let issues = try await client.search(jql: "project = ABC ORDER BY key", pageSize: 50)
      #expect(issues.map(\.key) == (1...7).map { "ABC-\($0)" })
      #expect(issues.first?.summary == "Checkout epic")
      #expect(issues.last?.status == "Done")
      #expect(issues.allSatisfy { $0.projectKey == "ABC" })

      let searches = await sandbox.emulator.state().requests.filter { $0.path == "/rest/api/3/search/jql" }
      #expect(searches.count == 3)
      #expect(searches.allSatisfy { $0.status == 200 && $0.auth == "basic" })
      #expect(searches.dropFirst().allSatisfy { $0.query?.contains("nextPageToken=") == true })

      let descending = try await client.search(jql: "project = ABC ORDER BY key DESC")
      #expect(descending.first?.key == "ABC-7")
    }
  }

  @Test func dataCenterSearchPaginatesWithStartAt() async throws {
    try await withJiraSandbox { sandbox, base, transport in
      await seedProjects(sandbox.emulator)
      await sandbox.emulator.setMaxResults(2)
      let client = JiraClient(config: dataCenterConfig(base), transport: transport, level: .properties)
      let issues = try await client.search(jql: "project = ABC", pageSize: 100)
      #expect(issues.map(\.key) == (1...7).map { "ABC-\($0)" })
      let searches = await sandbox.emulator.state().requests.filter { $0.path == "/rest/api/2/search" }
      #expect(searches.count == 4)
      #expect(searches.allSatisfy { $0.auth == "bearer" })
    }
  }

  @Test func theJQLTestbridgeSendsIsUnderstood() async throws {
    try await withJiraSandbox { sandbox, base, transport in
      await seedProjects(sandbox.emulator)
      let client = JiraClient(config: cloudConfig(base), transport: transport, level: .properties)
      let cases: [(String, [String])] = [
        ("key in (ABC-3, XYZ-1, abc-7) ORDER BY key", ["ABC-3", "ABC-7", "XYZ-1"]),
        ("parent = ABC-2", ["ABC-5"]),
        (#""Epic Link" = ABC-1"#, ["ABC-2", "ABC-3", "ABC-4"]),
        ("parentEpic = ABC-1", ["ABC-1", "ABC-2", "ABC-3", "ABC-4", "ABC-5"]),
        ("sprint = 7", ["ABC-6", "ABC-7"]),
        ("project = ABC AND sprint in (8)", ["ABC-7"]),
        (#"project = "XYZ" AND parent = XYZ-1 ORDER BY key ASC"#, ["XYZ-2"]),
        ("status = Done and project = ABC", ["ABC-7"]),
      ]
      for (jql, expected) in cases {
        let keys = try await client.search(jql: jql).map(\.key)
        #expect(keys == expected, "\(jql)")
      }

      for bad in ["project = ABC OR project = XYZ", "summary ~ login", "project = NOPE", "key in (ABC-99)", "project != ABC"] {
        let error = await jiraError { try await client.search(jql: bad) }
        #expect(error?.statusCode == 400, "\(bad)")
        guard case .status(_, _, _, let messages, _)? = error else { continue }
        #expect(!messages.isEmpty, "\(bad)")
      }
      // The old Cloud search endpoint is gone.
      let gone = try await raw(
        transport, .GET, base.absoluteString + "/rest/api/3/search?jql=project%3DABC",
        headers: ["Authorization": basicHeader])
      #expect(gone.status == 410)
    }
  }

  @Test func issuePropertiesRoundTripAndTheSizeLimitHolds() async throws {
    try await withJiraSandbox { sandbox, base, transport in
      await sandbox.emulator.seedIssue(
        key: "ABC-1", properties: ["shop.testomatio.tests": .array([.string("@T1a2b3c4d"), .string("@T5e6f7a8b")])])
      let client = JiraClient(config: cloudConfig(base), transport: transport, level: .properties)

      #expect(try await client.property(issue: "ABC-1", key: RunHistoryProperty.key) == nil)
      var history = RunHistoryProperty()
      history.record(
        RunSummary(
          runID: "r1", title: "Nightly", url: "https://app.testomat.io/r1", status: "passed",
          counts: JiraRunCounts(passed: 3), at: Date(timeIntervalSince1970: 1_772_359_200)))
      #expect(try await client.setProperty(issue: "ABC-1", key: RunHistoryProperty.key, json: history.encoded()))
      let stored = try await client.property(issue: "ABC-1", key: RunHistoryProperty.key)
      #expect(RunHistoryProperty.decode(stored) == history)

      history.record(
        RunSummary(
          runID: "r2", title: "Nightly", url: nil, status: "failed", counts: JiraRunCounts(passed: 2, failed: 1),
          at: Date(timeIntervalSince1970: 1_772_362_800)))
      #expect(try await client.setProperty(issue: "ABC-1", key: RunHistoryProperty.key, value: history) == false)
      #expect(RunHistoryProperty.decode(try await client.property(issue: "ABC-1", key: RunHistoryProperty.key)).runs.map(\.runID) == ["r2", "r1"])

      let keys = try await client.propertyKeys(issue: "ABC-1")
      #expect(keys == ["shop.testomatio.tests", "testbridge.runs"])
      let linked = try #require(try await client.property(issue: "ABC-1", key: TestomatioTestsProperty.key(projectSlug: "shop")))
      #expect(TestomatioTestsProperty.testIDs(in: linked) == ["1a2b3c4d", "5e6f7a8b"])

      // Over the limit: the client refuses without sending, and the emulator refuses a raw PUT too.
      let before = await sandbox.emulator.state().requests.count
      let tooBig = Data(("\"" + String(repeating: "x", count: 40_000) + "\"").utf8)
      #expect(await jiraError { try await client.setProperty(issue: "ABC-1", key: RunHistoryProperty.key, json: tooBig) } != nil)
      #expect(await sandbox.emulator.state().requests.count == before)
      let rawPut = try await raw(
        transport, .PUT, base.absoluteString + "/rest/api/3/issue/ABC-1/properties/testbridge.runs", body: tooBig.text,
        headers: ["Authorization": basicHeader])
      #expect(rawPut.status == 400)
      let state = await sandbox.emulator.state()
      #expect(RunHistoryProperty.decode(try await client.property(issue: "ABC-1", key: RunHistoryProperty.key)) == history)
      #expect(state.issue("ABC-1")?.propertyWrites == 2)
      #expect(state.refused.isEmpty)

      // Inline properties in search results.
      let found = try await client.search(jql: "key = ABC-1", properties: [RunHistoryProperty.key])
      #expect(RunHistoryProperty.decode(found.first?.properties[RunHistoryProperty.key]).runs.count == 2)

      // A missing issue is an error, not a missing property.
      let missing = await jiraError { try await client.setProperty(issue: "ABC-404", key: RunHistoryProperty.key, json: Data("1".utf8)) }
      #expect(missing?.statusCode == 404)
    }
  }

  @Test func remoteLinkUpsertUpdatesInPlace() async throws {
    try await withJiraSandbox { sandbox, base, transport in
      await sandbox.emulator.seedIssue(key: "ABC-1")
      let client = JiraClient(config: cloudConfig(base), transport: transport, level: .links)
      let globalID = RemoteLinkTitle.globalID(linkKey: "nightly")
      let first = try await client.upsertRemoteLink(
        issue: "ABC-1", globalID: globalID,
        title: RemoteLinkTitle.make(counts: JiraRunCounts(passed: 12, failed: 1, flaky: 1), runTitle: "Nightly"),
        url: "https://app.testomat.io/r1", resolved: false, summary: "first")
      #expect(first.created)
      let second = try await client.upsertRemoteLink(
        issue: "ABC-1", globalID: globalID,
        title: RemoteLinkTitle.make(counts: JiraRunCounts(passed: 14), runTitle: "Nightly"),
        url: "https://app.testomat.io/r2", resolved: true)
      #expect(!second.created)
      #expect(second.id == first.id)

      var state = await sandbox.emulator.state()
      let links = try #require(state.issue("ABC-1")?.remoteLinks)
      #expect(links.count == 1)
      #expect(links[0].title == "testbridge: 14 passed · Nightly")
      #expect(links[0].url == "https://app.testomat.io/r2")
      #expect(links[0].resolved == true)
      #expect(links[0].updateCount == 1)
      // The update replaced the whole link: the summary sent only the first time is gone.
      #expect(links[0].object["summary"] == nil)

      _ = try await client.upsertRemoteLink(
        issue: "ABC-1", globalID: RemoteLinkTitle.globalID(linkKey: "pr-checks"), title: "testbridge: 1 passed",
        url: "https://app.testomat.io/r3")
      let listed = try await client.remoteLinks(issue: "ABC-1")
      #expect(listed.count == 2)
      #expect(listed.first?.globalID == globalID)
      #expect(listed.first?.applicationType == "io.testbridge")
      #expect(listed.first?.relationship == "test runs")
      state = await sandbox.emulator.state()
      #expect(state.issue("ABC-1")?.remoteLinks.count == 2)
      #expect(state.refused.isEmpty)
    }
  }

  @Test func commentsAreADFOnCloudAndWikiOnDataCenter() async throws {
    try await withJiraSandbox { sandbox, base, transport in
      await sandbox.emulator.seedIssue(key: "ABC-1")
      let document = JiraCommentDocument(paragraphs: [
        [.strong("testbridge"), .text(": 12 passed, 1 failed · "), .link(text: "report", url: "https://r.example/1")]
      ])
      let cloud = JiraClient(config: cloudConfig(base), transport: transport, level: .comments)
      let added = try await cloud.addComment(issue: "ABC-1", document)
      guard case .adf = added.body else {
        Issue.record("expected an ADF body, got \(added.body)")
        return
      }
      #expect(added.body.plainText == "testbridge: 12 passed, 1 failed · report")
      let updated = try await cloud.updateComment(
        issue: "ABC-1", id: added.id, JiraCommentDocument(paragraphs: [[.text("rerun: "), .link(text: "r2", url: "https://r.example/2")]]))
      #expect(updated.body.plainText == "rerun: r2")

      let dc = JiraClient(config: dataCenterConfig(base), transport: transport, level: .comments)
      let wiki = try await dc.addComment(issue: "ABC-1", document)
      #expect(wiki.body == .wiki("*testbridge*: 12 passed, 1 failed · [report|https://r.example/1]"))

      let state = await sandbox.emulator.state()
      let comments = try #require(state.issue("ABC-1")?.comments)
      #expect(comments.map(\.format) == ["adf", "wiki"])
      #expect(comments[0].body["type"]?.stringValue == "doc")
      #expect(comments[0].updateCount == 1)
      #expect(comments[1].body.stringValue?.contains("[report|https://r.example/1]") == true)

      let listed = try await cloud.comments(issue: "ABC-1")
      #expect(listed.map(\.id) == [added.id, wiki.id])

      // The emulator rejects a wiki string on v3 and an ADF document on v2.
      let wrongV3 = try await raw(
        transport, .POST, base.absoluteString + "/rest/api/3/issue/ABC-1/comment", body: #"{"body":"plain"}"#,
        headers: ["Authorization": basicHeader])
      #expect(wrongV3.status == 400)
      let wrongV2 = try await raw(
        transport, .POST, base.absoluteString + "/rest/api/2/issue/ABC-1/comment",
        body: #"{"body":{"type":"doc","version":1,"content":[]}}"#,
        headers: ["Authorization": "Bearer \(SandboxCredentials.pat)"])
      #expect(wrongV2.status == 400)
    }
  }

  @Test func cloudWithTheV2OverrideUsesEnhancedSearchAndWikiMarkup() async throws {
    try await withJiraSandbox { sandbox, base, transport in
      await seedProjects(sandbox.emulator)
      await sandbox.emulator.setMaxResults(2)
      var config = cloudConfig(base)
      config.apiVersion = .v2
      let client = JiraClient(config: config, transport: transport, level: .comments)
      let issues = try await client.search(jql: "project = XYZ")
      #expect(issues.map(\.key) == ["XYZ-1", "XYZ-2"])
      let comment = try await client.addComment(issue: "XYZ-1", JiraCommentDocument(text: "plain *text*"))
      #expect(comment.body == .wiki(#"plain \*text\*"#))
      let state = await sandbox.emulator.state()
      #expect(state.requests.contains { $0.path == "/rest/api/2/search/jql" && $0.auth == "basic" })
      #expect(state.issue("XYZ-1")?.comments.first?.format == "wiki")
    }
  }

  @Test func rateLimitingWithRetryAfterIsSurvived() async throws {
    try await withJiraSandbox { sandbox, base, transport in
      await seedProjects(sandbox.emulator)
      await sandbox.emulator.setFaults([
        SandboxFault(method: "GET", pathPrefix: "/rest/api/3/search/jql", status: 429, times: 2, retryAfter: 3),
        SandboxFault(method: "PUT", pathPrefix: "/rest/api/3/issue/ABC-1/properties/", status: 429, times: 1, retryAfter: 1),
      ])
      let sleeper = RecordingSleeper()
      let retrying = RetryingTransport(
        base: transport, policy: RetryPolicy(maxAttempts: 4, jitter: false), sleeper: sleeper)
      let client = JiraClient(config: cloudConfig(base), transport: retrying, level: .properties)

      let issues = try await client.search(jql: "project = XYZ")
      #expect(issues.map(\.key) == ["XYZ-1", "XYZ-2"])
      try await client.setProperty(issue: "ABC-1", key: "testbridge.runs", json: RunHistoryProperty().encoded())
      #expect(sleeper.delays == [3, 3, 1])

      let state = await sandbox.emulator.state()
      let faulted = state.requests.filter(\.fault)
      #expect(faulted.count == 3)
      #expect(faulted.allSatisfy { $0.status == 429 })
      #expect(state.faults.isEmpty)
      #expect(state.issue("ABC-1")?.propertyWrites == 1)

      // The emulator's 429 looks like Jira's.
      await sandbox.emulator.setFaults([SandboxFault(pathPrefix: "/rest/api/3/myself", status: 429, retryAfter: 5)])
      let limited = try await raw(transport, .GET, base.absoluteString + "/rest/api/3/myself", headers: ["Authorization": basicHeader])
      #expect(limited.status == 429)
      #expect(limited.header("Retry-After") == "5")
      #expect(limited.header("RateLimit-Reason") == "jira-burst-based")
    }
  }

  /// Adding a comment is not idempotent, but Jira's limiter refuses before applying: a 429 with
  /// `Retry-After` is waited out and the comment added once; a 503 is not repeated.
  @Test func aRateLimitedCommentIsRetriedAndAddedOnce() async throws {
    try await withJiraSandbox { sandbox, base, transport in
      await sandbox.emulator.seedIssue(key: "ABC-1")
      await sandbox.emulator.setFaults([
        SandboxFault(method: "POST", pathPrefix: "/rest/api/3/issue/ABC-1/comment", status: 429, times: 1, retryAfter: 2)
      ])
      let sleeper = RecordingSleeper()
      let retrying = RetryingTransport(
        base: transport, policy: RetryPolicy(maxAttempts: 4, jitter: false), sleeper: sleeper)
      let client = JiraClient(config: cloudConfig(base), transport: retrying, level: .comments)
      _ = try await client.addComment(issue: "ABC-1", JiraCommentDocument(text: "testbridge: 3 passed"))
      #expect(sleeper.delays == [2])
      var state = await sandbox.emulator.state()
      #expect(state.issue("ABC-1")?.comments.count == 1)
      #expect(state.requests.filter { $0.method == "POST" }.map(\.status) == [429, 201])

      await sandbox.emulator.setFaults([
        SandboxFault(method: "POST", pathPrefix: "/rest/api/3/issue/ABC-1/comment", status: 503, times: 1, retryAfter: 1)
      ])
      let failed = await jiraError {
        try await client.addComment(issue: "ABC-1", JiraCommentDocument(text: "testbridge: 3 passed"))
      }
      #expect(failed?.statusCode == 503)
      #expect(sleeper.delays == [2], "a 503 on adding a comment is not repeated")
      state = await sandbox.emulator.state()
      #expect(state.issue("ABC-1")?.comments.count == 1)
      #expect(state.refused.isEmpty)
    }
  }

  @Test func theEmulatorRefusesAndRecordsRequestsOutsideTheAllowedSet() async throws {
    try await withJiraSandbox { sandbox, base, transport in
      await sandbox.emulator.seedIssue(key: "ABC-1", summary: "Original", properties: ["k": .integer(1)])
      let root = base.absoluteString
      let auth = ["Authorization": basicHeader]
      // Sent raw, bypassing the client and its guard.
      let attempts: [(HTTPMethod, String, String?)] = [
        (.PUT, "/rest/api/3/issue/ABC-1", #"{"fields":{"summary":"Changed"}}"#),
        (.DELETE, "/rest/api/3/issue/ABC-1", nil),
        (.POST, "/rest/api/3/issue", #"{"fields":{"project":{"key":"ABC"},"summary":"New"}}"#),
        (.POST, "/rest/api/3/issue/ABC-1/transitions", #"{"transition":{"id":"31"}}"#),
        (.DELETE, "/rest/api/3/issue/ABC-1/properties/k", nil),
        (.PUT, "/rest/api/2/issue/ABC-1", #"{"fields":{"summary":"Changed"}}"#),
        (.POST, "/rest/webhooks/1.0/webhook", "{}"),
        // Another app's property: readable, never written.
        (.PUT, "/rest/api/3/issue/ABC-1/properties/k", "2"),
        (.PUT, "/rest/api/3/issue/ABC-1/properties/sandbox.testomatio.tests", #"["@T00000000"]"#),
      ]
      for (method, path, body) in attempts {
        let response = try await raw(transport, method, root + path, body: body, headers: auth)
        #expect(response.status == 403, "\(method.rawValue) \(path)")
        #expect(response.bodyText.contains("errorMessages"))
      }
      let overridden = try await raw(
        transport, .POST, root + "/rest/api/3/issue/ABC-1/comment", body: #"{"body":"x"}"#,
        headers: auth.merging(["X-HTTP-Method-Override": "DELETE"]) { $1 })
      #expect(overridden.status == 403)

      // Outside the REST API: answered as Jira would (404), and recorded.
      let elsewhere = try await raw(transport, .GET, root + "/secure/admin/ViewApplicationProperties.jspa", headers: auth)
      #expect(elsewhere.status == 404)

      let state = await sandbox.emulator.state()
      #expect(state.refused.count == attempts.count + 2)
      #expect(state.refused.first?.method == "PUT")
      #expect(state.refused.first?.path == "/rest/api/3/issue/ABC-1")
      #expect(state.refused.first?.reason.contains("never edited") == true)
      #expect(state.refused.contains { $0.path == "/rest/api/3/issue/ABC-1/transitions" })
      #expect(
        state.refused.contains {
          $0.path == "/rest/api/3/issue/ABC-1/properties/sandbox.testomatio.tests" && $0.reason.contains("testbridge.runs")
        })
      #expect(state.refused.last?.path == "/secure/admin/ViewApplicationProperties.jspa")
      #expect(state.refused.last?.reason.contains("outside the Jira REST API") == true)
      #expect(state.requests.filter(\.refused).count == attempts.count + 2)
      let issue = try #require(state.issue("ABC-1"))
      #expect(issue.summary == "Original")
      #expect(issue.properties["k"] == .integer(1))
      #expect(issue.properties["sandbox.testomatio.tests"] == nil)
      #expect(issue.propertyWrites == 0)
      #expect(state.issues.count == 1)
    }
  }

  /// The emulator's allowed set follows the write level a test sets, as testbridge's
  /// `--jira-write` does: a remote link under `properties` is refused and recorded.
  @Test func theWriteLevelNarrowsWhatTheEmulatorAccepts() async throws {
    try await withJiraSandbox { sandbox, base, transport in
      await sandbox.emulator.seedIssue(key: "ABC-1")
      #expect(await sandbox.emulator.state().writeLevel == .comments)
      let root = base.absoluteString
      let auth = ["Authorization": basicHeader, "Content-Type": "application/json"]
      let link = #"{"globalId":"g1","object":{"url":"https://r.example/1","title":"t"}}"#

      let set = try await raw(transport, .POST, root + "/_sandbox/jira/write-level", body: #"{"level":"properties"}"#)
      #expect(set.status == 200, "\(set.bodyText)")
      #expect(await sandbox.emulator.state().writeLevel == .properties)
      let refusedLink = try await raw(transport, .POST, root + "/rest/api/3/issue/ABC-1/remotelink", body: link, headers: auth)
      #expect(refusedLink.status == 403)
      #expect(refusedLink.bodyText.contains("needs write level 'links'"))
      let refusedComment = try await raw(
        transport, .POST, root + "/rest/api/2/issue/ABC-1/comment", body: #"{"body":"x"}"#, headers: auth)
      #expect(refusedComment.status == 403)
      // What the level allows still goes through.
      let property = try await raw(
        transport, .PUT, root + "/rest/api/3/issue/ABC-1/properties/testbridge.runs", body: #"{"version":1,"runs":[]}"#,
        headers: auth)
      #expect(property.status == 201, "\(property.bodyText)")
      let read = try await raw(transport, .GET, root + "/rest/api/3/issue/ABC-1/remotelink", headers: auth)
      #expect(read.status == 403, "remote link reads belong to the links level too")

      var state = await sandbox.emulator.state()
      #expect(state.refused.map(\.path) == [
        "/rest/api/3/issue/ABC-1/remotelink", "/rest/api/2/issue/ABC-1/comment", "/rest/api/3/issue/ABC-1/remotelink",
      ])
      #expect(state.refused.first?.method == "POST")
      #expect(state.issue("ABC-1")?.remoteLinks.isEmpty == true)
      #expect(state.issue("ABC-1")?.comments.isEmpty == true)

      // links: the remote link is accepted, the comment still refused.
      await sandbox.emulator.setWriteLevel(.links)
      let accepted = try await raw(transport, .POST, root + "/rest/api/3/issue/ABC-1/remotelink", body: link, headers: auth)
      #expect(accepted.status == 201, "\(accepted.bodyText)")
      let stillRefused = try await raw(
        transport, .POST, root + "/rest/api/2/issue/ABC-1/comment", body: #"{"body":"x"}"#, headers: auth)
      #expect(stillRefused.status == 403)
      state = await sandbox.emulator.state()
      #expect(state.refused.count == 4)
      #expect(state.issue("ABC-1")?.remoteLinks.count == 1)

      let invalid = try await raw(transport, .POST, root + "/_sandbox/jira/write-level", body: #"{"level":"all"}"#)
      #expect(invalid.status == 422)
      _ = try await raw(transport, .POST, root + "/_sandbox/jira/reset")
      #expect(await sandbox.emulator.state().writeLevel == .comments)
    }
  }

  /// The faults control route: a rejected body leaves the rules installed before it.
  @Test func faultRulesOverHTTP() async throws {
    try await withJiraSandbox { sandbox, base, transport in
      let faults = base.absoluteString + "/_sandbox/jira/faults"
      let install = try await raw(transport, .POST, faults, body: #"{"rules": [{"path_prefix": "/rest/api/3/myself", "status": 503}]}"#)
      #expect(install.status == 200, "\(install.bodyText)")
      #expect(await sandbox.emulator.state().faults.map(\.status) == [503])

      let notJSON = try await raw(transport, .POST, faults, body: "status=503")
      #expect(notJSON.status == 400)
      #expect(notJSON.bodyText.contains("'body' is not valid JSON"), "\(notJSON.bodyText)")
      let unknownField = try await raw(transport, .POST, faults, body: #"[{"stauts": 500}]"#)
      #expect(unknownField.status == 422)
      #expect(unknownField.bodyText.contains("rules[0].stauts"), "\(unknownField.bodyText)")
      #expect(await sandbox.emulator.state().faults.map(\.status) == [503])

      let faulted = try await raw(transport, .GET, base.absoluteString + "/rest/api/3/myself", headers: ["Authorization": basicHeader])
      #expect(faulted.status == 503)
      #expect(try await raw(transport, .DELETE, faults).status == 200)
      #expect(await sandbox.emulator.state().faults.isEmpty)
    }
  }

  @Test func seedingAndStateOverHTTP() async throws {
    try await withJiraSandbox { sandbox, base, transport in
      let seed = """
        {"projects": [{"key": "ABC", "name": "Alpha"}],
         "issues": [{"key": "ABC-1", "summary": "Login works", "status": "In Progress", "sprints": [3],
                     "properties": {"shop.testomatio.tests": {"tests": ["@T1a2b3c4d"]}}},
                    {"key": "ABC-2", "epic": "ABC-1"}],
         "permissions": ["BROWSE_PROJECTS", "EDIT_ISSUES"],
         "max_results": 25}
        """
      let seeded = try await raw(transport, .POST, base.absoluteString + "/_sandbox/jira/seed", body: seed)
      #expect(seeded.status == 200, "\(seeded.bodyText)")
      let invalid = try await raw(
        transport, .POST, base.absoluteString + "/_sandbox/jira/seed", body: #"{"issues": [{"key": "abc"}]}"#)
      #expect(invalid.status == 422)
      #expect(invalid.bodyText.contains("issues[0].key"))

      let client = JiraClient(config: cloudConfig(base), transport: transport, level: .links)
      let issue = try await client.issue("ABC-1")
      #expect(issue.summary == "Login works")
      #expect(issue.status == "In Progress")
      let permissions = try await client.myPermissions(projectKey: "ABC")
      #expect(permissions.missing(for: .properties).isEmpty)
      #expect(permissions.missing(for: .links) == ["LINK_ISSUES"])
      let refused = await jiraError {
        try await client.upsertRemoteLink(issue: "ABC-1", globalID: "g", title: "t", url: "https://r.example")
      }
      #expect(refused?.statusCode == 403)

      let reply = try await raw(transport, .GET, base.absoluteString + "/_sandbox/jira/state")
      let state = try JSONDecoder().decode(JiraSandboxState.self, from: Data(reply.body))
      #expect(state.projects.map(\.name) == ["Alpha"])
      #expect(state.maxResults == 25)
      #expect(state.issue("ABC-2")?.epic == "ABC-1")
      #expect(state.requests.map(\.auth).allSatisfy { $0 == "basic" })
      #expect(!reply.bodyText.contains(SandboxCredentials.apiToken))
      #expect(!reply.bodyText.contains(basicHeader.dropFirst(6)))
    }
  }

  @Test func accountGatewayAndAuthentication() async throws {
    try await withJiraSandbox { sandbox, base, transport in
      await sandbox.emulator.seedIssue(key: "ABC-1")
      let cloud = JiraClient(config: cloudConfig(base), transport: transport, level: .properties)
      let user = try await cloud.myself()
      #expect(user.accountID != nil)
      #expect(user.emailAddress == SandboxCredentials.email)
      let dc = try await JiraClient(config: dataCenterConfig(base), transport: transport, level: .properties).myself()
      #expect(dc.name == "testbridge")

      // Scoped tokens: through /ex/jira/{cloudId}.
      let gateway = JiraConfig(
        siteURL: try #require(URL(string: "https://acme.atlassian.net")),
        auth: .basic(email: SandboxCredentials.email, apiToken: SandboxCredentials.apiToken), deployment: .cloud,
        cloudID: SandboxCredentials.cloudID, gatewayURL: base)
      let viaGateway = JiraClient(config: gateway, transport: transport, level: .properties)
      #expect(try await viaGateway.issue("ABC-1").key == "ABC-1")
      var wrongID = gateway
      wrongID.cloudID = "other-site"
      let unknownSite = await jiraError { try await JiraClient(config: wrongID, transport: transport, level: .properties).myself() }
      #expect(unknownSite?.statusCode == 404)

      // Wrong credentials, and a bearer token on v3, are 401s; the token never shows in the error.
      let wrong = JiraConfig(siteURL: base, auth: .basic(email: SandboxCredentials.email, apiToken: "wrong-token-123"), deployment: .cloud)
      let unauthorized = await jiraError { try await JiraClient(config: wrong, transport: transport, level: .properties).myself() }
      #expect(unauthorized?.statusCode == 401)
      #expect(unauthorized?.description.contains("wrong-token-123") == false)
      let bearerOnCloud = JiraConfig(siteURL: base, auth: .bearer(token: SandboxCredentials.pat), deployment: .cloud)
      let rejected = await jiraError { try await JiraClient(config: bearerOnCloud, transport: transport, level: .properties).myself() }
      #expect(rejected?.statusCode == 401)

      let log = await sandbox.emulator.state().requests
      #expect(log.contains { $0.auth == "invalid" && $0.status == 401 })
    }
  }
}
