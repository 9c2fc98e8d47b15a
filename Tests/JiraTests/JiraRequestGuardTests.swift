import BridgeHTTP
import BridgeTestSupport
import Foundation
import Jira
import Testing

@Suite struct JiraRequestGuardTests {
  /// (method, path after the REST base, the lowest level that allows it, or nil when no level does).
  static let table: [(HTTPMethod, String, JiraWriteLevel?)] = [
    // Reads needed at every level.
    (.GET, "myself", .properties),
    (.GET, "mypermissions", .properties),
    (.GET, "issue/ABC-1", .properties),
    (.GET, "issue/10001", .properties),
    (.GET, "search/jql", .properties),
    (.GET, "search", .properties),
    (.GET, "issue/ABC-1/properties", .properties),
    (.GET, "issue/ABC-1/properties/testbridge.runs", .properties),
    // Any property may be read, Testomat.io's included.
    (.GET, "issue/ABC-1/properties/sandbox.testomatio.tests", .properties),
    // Issue properties: the one write of the lowest level, and only testbridge's own.
    (.PUT, "issue/ABC-1/properties/testbridge.runs", .properties),
    (.PUT, "issue/10001/properties/testbridge.runs", .properties),
    (.PUT, "issue/ABC-1/properties/sandbox.testomatio.tests", nil),
    (.PUT, "issue/ABC-1/properties/testbridge.runs.old", nil),
    (.PUT, "issue/ABC-1/properties/Testbridge.runs", nil),
    (.PUT, "issue/ABC-1/properties/testbridge%2Eruns", .properties),
    (.PUT, "issue/ABC-1/properties/other", nil),
    // Remote links.
    (.GET, "issue/ABC-1/remotelink", .links),
    (.GET, "issue/ABC-1/remotelink/10100", .links),
    (.POST, "issue/ABC-1/remotelink", .links),
    // Comments.
    (.GET, "issue/ABC-1/comment", .comments),
    (.GET, "issue/ABC-1/comment/10200", .comments),
    (.POST, "issue/ABC-1/comment", .comments),
    (.PUT, "issue/ABC-1/comment/10200", .comments),
    // Never: editing, transitioning, creating, deleting, other APIs, odd paths.
    (.PUT, "issue/ABC-1", nil),
    (.DELETE, "issue/ABC-1", nil),
    (.POST, "issue", nil),
    (.POST, "issue/bulk", nil),
    (.POST, "issue/ABC-1/transitions", nil),
    (.GET, "issue/ABC-1/transitions", nil),
    (.DELETE, "issue/ABC-1/properties/testbridge.runs", nil),
    (.DELETE, "issue/ABC-1/remotelink/10100", nil),
    (.DELETE, "issue/ABC-1/comment/10200", nil),
    (.PUT, "issue/ABC-1/remotelink/10100", nil),
    (.POST, "search/jql", nil),
    (.POST, "issueLink", nil),
    (.POST, "issue/ABC-1/attachments", nil),
    (.GET, "field", nil),
    (.PUT, "issue/properties/testbridge.runs", nil),
    (.PATCH, "issue/ABC-1/properties/testbridge.runs", nil),
    (.HEAD, "myself", nil),
    (.GET, "myself/", nil),
    (.PUT, "issue/ABC-1/properties/x/../../../ABC-1", nil),
    (.PUT, "issue/ABC-1/properties/..", nil),
    (.PUT, "issue/ABC-1/properties/%2E%2E", nil),
    (.PUT, "issue/ABC-1/properties/a%2Fb", nil),
    (.PUT, "issue/..%2F..%2Fissue%2FABC-1/properties/testbridge.runs", nil),
    (.PUT, "issue//properties/testbridge.runs", nil),
    (.PUT, "issue/not%20a%20key/properties/testbridge.runs", nil),
    // The base again after the base is not the base.
    (.GET, "rest/api/3/myself", nil),
  ]

  /// The REST bases the table is checked under: Cloud, Data Center with a context path, the gateway.
  static let bases = [
    "https://acme.atlassian.net/rest/api/3",
    "https://jira.acme.com/jira/rest/api/2",
    "https://api.atlassian.com/ex/jira/35273b54/rest/api/3",
    "http://127.0.0.1:8080/rest/api/3",
  ]

  @Test func everyLevelAllowsExactlyItsOperations() throws {
    for base in Self.bases {
      let baseURL = try #require(URL(string: base))
      for (method, path, minimum) in Self.table {
        let url = try #require(URL(string: base + "/" + path), "\(path)")
        for level in JiraWriteLevel.allCases {
          let expected = minimum.map { $0 <= level } ?? false
          #expect(
            JiraRequestGuard(level: level, restBaseURL: baseURL).allows(method: method, url: url) == expected,
            "\(method.rawValue) \(base)/\(path) at '\(level.rawValue)'")
        }
      }
    }
  }

  /// Requests that do not go to the configured base, each with an operation every level allows.
  static let foreign: [(base: String, url: String)] = [
    // Another host, port or scheme.
    ("https://acme.atlassian.net/rest/api/3", "https://evil.example/rest/api/3/myself"),
    ("https://acme.atlassian.net/rest/api/3", "https://acme.atlassian.net.evil.example/rest/api/3/myself"),
    ("https://acme.atlassian.net/rest/api/3", "https://other.atlassian.net/rest/api/3/issue/ABC-1/properties/testbridge.runs"),
    ("https://acme.atlassian.net/rest/api/3", "https://acme.atlassian.net:8443/rest/api/3/myself"),
    ("https://acme.atlassian.net/rest/api/3", "http://acme.atlassian.net/rest/api/3/myself"),
    ("http://127.0.0.1:8080/rest/api/3", "http://127.0.0.1:8081/rest/api/3/myself"),
    ("http://127.0.0.1:8080/rest/api/3", "http://localhost:8080/rest/api/3/myself"),
    // Credentials in the URL.
    ("https://acme.atlassian.net/rest/api/3", "https://user:pass@acme.atlassian.net/rest/api/3/myself"),
    // Another REST version than the configured one.
    ("https://acme.atlassian.net/rest/api/3", "https://acme.atlassian.net/rest/api/2/myself"),
    ("https://acme.atlassian.net/rest/api/3", "https://acme.atlassian.net/rest/api/latest/myself"),
    // The context path missing, changed or preceded by something.
    ("https://jira.acme.com/jira/rest/api/2", "https://jira.acme.com/rest/api/2/myself"),
    ("https://jira.acme.com/jira/rest/api/2", "https://jira.acme.com/other/rest/api/2/myself"),
    ("https://acme.atlassian.net/rest/api/3", "https://acme.atlassian.net/plugins/rest/api/3/myself"),
    ("https://acme.atlassian.net/rest/api/3", "https://acme.atlassian.net/x/../rest/api/3/myself"),
    // The gateway for another site, or the site instead of the gateway.
    ("https://api.atlassian.com/ex/jira/35273b54/rest/api/3", "https://api.atlassian.com/ex/jira/99999999/rest/api/3/myself"),
    ("https://api.atlassian.com/ex/jira/35273b54/rest/api/3", "https://acme.atlassian.net/rest/api/3/myself"),
    // Other APIs on the same site.
    ("https://acme.atlassian.net/rest/api/3", "https://acme.atlassian.net/rest/agile/1.0/sprint/7"),
    ("https://acme.atlassian.net/rest/api/3", "https://acme.atlassian.net/rest/webhooks/1.0/webhook"),
    ("https://acme.atlassian.net/rest/api/3", "https://acme.atlassian.net/myself"),
    ("https://acme.atlassian.net/rest/api/3", "https://acme.atlassian.net/rest/api/3"),
  ]

  @Test func requestsOutsideTheConfiguredBaseAreRefusedAtEveryLevel() async throws {
    for (base, text) in Self.foreign {
      let baseURL = try #require(URL(string: base))
      let url = try #require(URL(string: text), "\(text)")
      for level in JiraWriteLevel.allCases {
        let rules = JiraRequestGuard(level: level, restBaseURL: baseURL)
        #expect(!rules.allows(method: .GET, url: url), "\(text) under \(base)")
        #expect(!rules.allows(method: .PUT, url: url), "\(text) under \(base)")
      }
      let stub = StubTransport(fallback: .status(200))
      let guarded = GuardedJiraTransport(base: stub, level: .comments, restBaseURL: baseURL)
      let request = HTTPRequest(method: .GET, url: url, headers: ["Authorization": "Bearer secret-token-1234"])
      await #expect(throws: HTTPError.self, "\(text)") { try await guarded.send(request) }
      #expect(stub.requestCount == 0, "\(text) was sent")
    }

    let base = try #require(URL(string: "https://acme.atlassian.net/rest/api/3"))
    let rules = JiraRequestGuard(level: .comments, restBaseURL: base)
    let other = try #require(URL(string: "https://user:s3cret-pass@evil.example:444/rest/api/3/myself?token=abc"))
    #expect(throws: JiraError.foreignRequest(
      method: "GET", url: "https://evil.example:444/rest/api/3/myself", base: "https://acme.atlassian.net/rest/api/3")
    ) {
      try rules.check(HTTPRequest(method: .GET, url: other))
    }
    let error = JiraError.foreignRequest(method: "GET", url: "https://evil.example/rest/api/3/myself", base: "https://acme.atlassian.net/rest/api/3")
    #expect(error.description == "refused to send GET https://evil.example/rest/api/3/myself: it does not go to the configured Jira REST base https://acme.atlassian.net/rest/api/3")
    #expect(error.isForbiddenRequest)
    // The host's casing and an explicit default port do not matter.
    #expect(rules.allows(method: .GET, url: try #require(URL(string: "https://ACME.atlassian.net:443/rest/api/3/myself"))))
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

  static let cloudBase = URL(string: "https://acme.atlassian.net/rest/api/3")!

  @Test func aForbiddenRequestNeverReachesTheUnderlyingTransport() async throws {
    let stub = StubTransport(fallback: .status(200))
    let guarded = GuardedJiraTransport(base: stub, level: .comments, restBaseURL: Self.cloudBase)
    for (method, path, minimum) in Self.table where minimum == nil {
      let url = try #require(URL(string: Self.cloudBase.absoluteString + "/" + path))
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
        #expect(!reason.contains("secret-token-1234"))
      }
    }
    #expect(stub.requestCount == 0)

    let allowed = HTTPRequest(method: .GET, url: Self.cloudBase.appendingPathComponent("myself"))
    _ = try await guarded.send(allowed)
    #expect(stub.requestCount == 1)
  }

  @Test func testomatiosPropertyCannotBeOverwritten() async throws {
    let stub = StubTransport(fallback: .json(200, "{}"))
    let config = JiraConfig(
      siteURL: try #require(URL(string: "https://acme.atlassian.net")),
      auth: .basic(email: "ci@acme.com", apiToken: "token-value-1234"), deployment: .cloud)
    let client = JiraClient(config: config, transport: stub, level: .comments)
    let error = await jiraError {
      try await client.setProperty(issue: "ABC-1", key: "sandbox.testomatio.tests", json: Data(#"["@T1a2b3c4d"]"#.utf8))
    }
    #expect(
      error
        == .forbiddenRequest(
          method: "PUT", path: "/rest/api/3/issue/ABC-1/properties/sandbox.testomatio.tests", level: .comments))
    #expect(stub.requestCount == 0)
    // Reading it is fine.
    stub.enqueue(.json(200, #"{"key": "sandbox.testomatio.tests", "value": ["@T1a2b3c4d"]}"#))
    #expect(try await client.property(issue: "ABC-1", key: "sandbox.testomatio.tests") != nil)
    #expect(stub.requestCount == 1)
  }

  @Test func theRefusalNamesTheRequestAndTheLevel() throws {
    let url = try #require(URL(string: "https://acme.atlassian.net/rest/api/3/issue/ABC-1?notifyUsers=false"))
    let guarded = GuardedJiraTransport(base: StubTransport(), level: .links, restBaseURL: Self.cloudBase)
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
    let guarded = GuardedJiraTransport(base: stub, level: .comments, restBaseURL: Self.cloudBase)
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

  @Test func operationSegmentsFollowTheConfiguredBase() throws {
    let config = JiraConfig(
      siteURL: try #require(URL(string: "https://jira.acme.com/jira")), auth: .bearer(token: "pat-value-1234"),
      deployment: .dataCenter)
    let rules = JiraRequestGuard(level: .properties, config: config)
    #expect(rules.restBaseURL.absoluteString == "https://jira.acme.com/jira/rest/api/2")
    let dc = try #require(URL(string: "https://jira.acme.com/jira/rest/api/2/issue/ABC-1?fields=summary"))
    #expect(rules.operationSegments(of: dc) == ["issue", "ABC-1"])
    #expect(rules.operationSegments(of: try #require(URL(string: "https://jira.acme.com/rest/api/2/issue/ABC-1"))) == nil)

    let gateway = JiraConfig(
      siteURL: try #require(URL(string: "https://acme.atlassian.net")),
      auth: .basic(email: "ci@acme.com", apiToken: "token-value-1234"), deployment: .cloud, cloudID: "abc-123")
    let viaGateway = JiraRequestGuard(level: .properties, config: gateway)
    let myself = try #require(URL(string: "https://api.atlassian.com/ex/jira/abc-123/rest/api/3/myself?x=1"))
    #expect(viaGateway.operationSegments(of: myself) == ["myself"])
    // With a cloud id, the site itself is not where requests go.
    #expect(viaGateway.operationSegments(of: try #require(URL(string: "https://acme.atlassian.net/rest/api/3/myself"))) == nil)
  }
}
