import BridgeHTTP
import BridgeTestSupport
import Foundation
import Jira
import Testing

@Suite struct JiraRequestGuardTests {
  /// (method, path, the lowest level that allows it, or nil when no level does).
  static let table: [(HTTPMethod, String, JiraWriteLevel?)] = [
    // Reads needed at every level.
    (.GET, "/rest/api/3/myself", .properties),
    (.GET, "/rest/api/2/myself", .properties),
    (.GET, "/rest/api/3/mypermissions", .properties),
    (.GET, "/rest/api/3/issue/ABC-1", .properties),
    (.GET, "/rest/api/3/issue/10001", .properties),
    (.GET, "/rest/api/3/search/jql", .properties),
    (.GET, "/rest/api/2/search", .properties),
    (.GET, "/rest/api/3/issue/ABC-1/properties", .properties),
    (.GET, "/rest/api/3/issue/ABC-1/properties/testbridge.runs", .properties),
    // Issue properties: the one write of the lowest level.
    (.PUT, "/rest/api/3/issue/ABC-1/properties/testbridge.runs", .properties),
    (.PUT, "/jira/rest/api/2/issue/ABC-1/properties/sandbox.testomatio.tests", .properties),
    (.PUT, "/ex/jira/35273b54/rest/api/3/issue/ABC-1/properties/testbridge.runs", .properties),
    // Remote links.
    (.GET, "/rest/api/3/issue/ABC-1/remotelink", .links),
    (.GET, "/rest/api/3/issue/ABC-1/remotelink/10100", .links),
    (.POST, "/rest/api/3/issue/ABC-1/remotelink", .links),
    // Comments.
    (.GET, "/rest/api/3/issue/ABC-1/comment", .comments),
    (.GET, "/rest/api/3/issue/ABC-1/comment/10200", .comments),
    (.POST, "/rest/api/2/issue/ABC-1/comment", .comments),
    (.PUT, "/rest/api/3/issue/ABC-1/comment/10200", .comments),
    // Never: editing, transitioning, creating, deleting, other APIs, odd paths.
    (.PUT, "/rest/api/3/issue/ABC-1", nil),
    (.DELETE, "/rest/api/3/issue/ABC-1", nil),
    (.POST, "/rest/api/3/issue", nil),
    (.POST, "/rest/api/3/issue/bulk", nil),
    (.POST, "/rest/api/3/issue/ABC-1/transitions", nil),
    (.GET, "/rest/api/3/issue/ABC-1/transitions", nil),
    (.DELETE, "/rest/api/3/issue/ABC-1/properties/testbridge.runs", nil),
    (.DELETE, "/rest/api/3/issue/ABC-1/remotelink/10100", nil),
    (.DELETE, "/rest/api/3/issue/ABC-1/comment/10200", nil),
    (.PUT, "/rest/api/3/issue/ABC-1/remotelink/10100", nil),
    (.POST, "/rest/api/3/search/jql", nil),
    (.POST, "/rest/api/3/issueLink", nil),
    (.POST, "/rest/api/3/issue/ABC-1/attachments", nil),
    (.GET, "/rest/api/3/field", nil),
    (.POST, "/rest/webhooks/1.0/webhook", nil),
    (.GET, "/rest/agile/1.0/sprint/7", nil),
    (.PATCH, "/rest/api/3/issue/ABC-1/properties/testbridge.runs", nil),
    (.HEAD, "/rest/api/3/myself", nil),
    (.GET, "/rest/api/3/myself/", nil),
    (.PUT, "/rest/api/3/issue/ABC-1/properties/x/../../../ABC-1", nil),
    (.PUT, "/rest/api/3/issue/ABC-1/properties/..", nil),
    (.PUT, "/rest/api/3/issue/ABC-1/properties/%2E%2E", nil),
    (.PUT, "/rest/api/3/issue/ABC-1/properties/a%2Fb", nil),
    (.PUT, "/rest/api/3/issue/..%2F..%2Fissue%2FABC-1/properties/k", nil),
    (.PUT, "/rest/api/3/issue//properties/k", nil),
    (.PUT, "/rest/api/3/issue/not%20a%20key/properties/k", nil),
    (.GET, "/myself", nil),
  ]

  @Test func everyLevelAllowsExactlyItsOperations() throws {
    for (method, path, minimum) in Self.table {
      let url = try #require(URL(string: "https://acme.atlassian.net" + path), "\(path)")
      for level in JiraWriteLevel.allCases {
        let expected = minimum.map { $0 <= level } ?? false
        #expect(
          JiraRequestGuard(level: level).allows(method: method, url: url) == expected,
          "\(method.rawValue) \(path) at '\(level.rawValue)'")
      }
    }
  }

  @Test func levelsAreOrderedAndParsed() {
    #expect(JiraWriteLevel.properties < .links)
    #expect(JiraWriteLevel.links < .comments)
    #expect(JiraWriteLevel(parsing: "Links") == .links)
    #expect(JiraWriteLevel(parsing: "comment") == .comments)
    #expect(JiraWriteLevel(parsing: "everything") == nil)
    #expect(JiraWriteLevel.properties.requiredPermissions == ["BROWSE_PROJECTS", "EDIT_ISSUES"])
    #expect(JiraWriteLevel.comments.requiredPermissions.contains("ADD_COMMENTS"))
  }

  @Test func aForbiddenRequestNeverReachesTheUnderlyingTransport() async throws {
    let stub = StubTransport(fallback: .status(200))
    let guarded = GuardedJiraTransport(base: stub, level: .comments)
    for (method, path, minimum) in Self.table where minimum == nil {
      let url = try #require(URL(string: "https://acme.atlassian.net" + path))
      let request = HTTPRequest(method: method, url: url, headers: ["Authorization": "Bearer secret-token-1234"])
      do {
        _ = try await guarded.send(request)
        Issue.record("\(method.rawValue) \(path) was sent")
      } catch {
        guard case .refused(let reason) = error.kind else {
          Issue.record("expected a refusal for \(path), got \(error)")
          continue
        }
        #expect(reason.contains(method.rawValue))
        #expect(reason.contains("'comments'"))
      }
    }
    #expect(stub.requestCount == 0)

    let allowed = HTTPRequest(method: .GET, url: try #require(URL(string: "https://acme.atlassian.net/rest/api/3/myself")))
    _ = try await guarded.send(allowed)
    #expect(stub.requestCount == 1)
  }

  @Test func theRefusalNamesTheRequestAndTheLevel() throws {
    let url = try #require(URL(string: "https://acme.atlassian.net/rest/api/3/issue/ABC-1?notifyUsers=false"))
    let guarded = GuardedJiraTransport(base: StubTransport(), level: .links)
    #expect(throws: JiraError.forbiddenRequest(method: "PUT", path: "/rest/api/3/issue/ABC-1", level: .links)) {
      try guarded.check(HTTPRequest(method: .PUT, url: url))
    }
    let error = JiraError.forbiddenRequest(method: "PUT", path: "/rest/api/3/issue/ABC-1", level: .links)
    #expect(error.description.contains("PUT /rest/api/3/issue/ABC-1"))
    #expect(error.description.contains("'links'"))
    #expect(error.isForbiddenRequest)
  }

  @Test func methodOverrideHeadersAreRefused() async throws {
    let stub = StubTransport(fallback: .status(200))
    let guarded = GuardedJiraTransport(base: stub, level: .comments)
    let url = try #require(URL(string: "https://acme.atlassian.net/rest/api/3/issue/ABC-1/comment"))
    let request = HTTPRequest(method: .POST, url: url, headers: ["X-HTTP-Method-Override": "DELETE"])
    await #expect(throws: HTTPError.self) { try await guarded.send(request) }
    #expect(stub.requestCount == 0)
  }

  @Test func clientOperationsAboveTheLevelFailBeforeSending() async throws {
    let stub = StubTransport(fallback: .json(200, "{}"))
    let config = JiraConfig(
      siteURL: try #require(URL(string: "https://acme.atlassian.net")),
      auth: .basic(email: "ci@acme.com", apiToken: "token-value-1234"), deployment: .cloud)
    let client = JiraClient(config: config, transport: stub, level: .properties)

    let link = await jiraError {
      try await client.upsertRemoteLink(issue: "ABC-1", globalID: "testbridge:1", title: "t", url: "https://r.example/1")
    }
    #expect(
      link == .forbiddenRequest(method: "POST", path: "/rest/api/3/issue/ABC-1/remotelink", level: .properties))
    let comment = await jiraError { try await client.addComment(issue: "ABC-1", JiraCommentDocument(text: "hi")) }
    #expect(comment == .forbiddenRequest(method: "POST", path: "/rest/api/3/issue/ABC-1/comment", level: .properties))
    let links = await jiraError { try await client.remoteLinks(issue: "ABC-1") }
    #expect(links?.isForbiddenRequest == true)
    let update = await jiraError {
      try await client.updateComment(issue: "ABC-1", id: "10200", JiraCommentDocument(text: "hi"))
    }
    #expect(update?.isForbiddenRequest == true)
    #expect(stub.requestCount == 0)

    // At the comments level the same calls go out.
    let commenting = JiraClient(config: config, transport: stub, level: .comments)
    stub.enqueue(.json(201, #"{"id":"10200","body":{"type":"doc","version":1,"content":[]}}"#))
    _ = try await commenting.addComment(issue: "ABC-1", JiraCommentDocument(text: "hi"))
    #expect(stub.requestCount == 1)
  }

  @Test func apiSegmentsSkipContextPathsAndTheGateway() throws {
    let dc = try #require(URL(string: "https://jira.acme.com/jira/rest/api/2/issue/ABC-1"))
    #expect(JiraRequestGuard.apiSegments(of: dc) == ["issue", "ABC-1"])
    let gateway = try #require(URL(string: "https://api.atlassian.com/ex/jira/abc-123/rest/api/3/myself?x=1"))
    #expect(JiraRequestGuard.apiSegments(of: gateway) == ["myself"])
    let other = try #require(URL(string: "https://jira.acme.com/rest/agile/1.0/board"))
    #expect(JiraRequestGuard.apiSegments(of: other) == nil)
  }
}
