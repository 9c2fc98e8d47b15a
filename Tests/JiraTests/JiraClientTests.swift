import BridgeHTTP
import BridgeTestSupport
import Foundation
import Jira
import Testing

@Suite struct JiraClientTests {
  private static let token = "ATATT-client-test-token"
  private static let pat = "dc-client-test-pat-0001"

  private static func cloud(cloudID: String? = nil) -> JiraConfig {
    JiraConfig(
      siteURL: URL(string: "https://acme.atlassian.net")!, auth: .basic(email: "ci@acme.com", apiToken: token),
      deployment: .cloud, cloudID: cloudID)
  }

  private static func dataCenter() -> JiraConfig {
    JiraConfig(siteURL: URL(string: "https://jira.acme.com/jira")!, auth: .bearer(token: pat), deployment: .dataCenter)
  }

  private static func query(_ request: HTTPRequest) -> [String: String] {
    var result: [String: String] = [:]
    for item in URLComponents(url: request.url, resolvingAgainstBaseURL: false)?.queryItems ?? [] {
      result[item.name] = item.value
    }
    return result
  }

  private static func issuesJSON(_ keys: [String]) -> String {
    keys.map { #"{"id":"1\#($0.split(separator: "-").last ?? "")","key":"\#($0)","fields":{"summary":"S \#($0)"}}"# }
      .joined(separator: ",")
  }

  @Test func cloudCallsUseRESTv3AndBasicAuth() async throws {
    let stub = StubTransport([.json(200, #"{"accountId":"5b10","displayName":"CI Bot","active":true}"#)])
    let client = JiraClient(config: Self.cloud(), transport: stub, level: .properties)
    let user = try await client.myself()
    #expect(user.accountID == "5b10")
    #expect(user.label == "CI Bot")
    let request = try #require(stub.lastRequest)
    #expect(request.url.absoluteString == "https://acme.atlassian.net/rest/api/3/myself")
    #expect(request.header("Authorization")?.hasPrefix("Basic ") == true)
    #expect(request.header("Accept") == "application/json")
  }

  @Test func dataCenterCallsUseRESTv2AndBearerAuth() async throws {
    let stub = StubTransport([.json(200, #"{"name":"ci","displayName":"CI","active":true}"#)])
    let client = JiraClient(config: Self.dataCenter(), transport: stub, level: .properties)
    let user = try await client.myself()
    #expect(user.name == "ci")
    let request = try #require(stub.lastRequest)
    #expect(request.url.absoluteString == "https://jira.acme.com/jira/rest/api/2/myself")
    #expect(request.header("Authorization") == "Bearer \(Self.pat)")
  }

  @Test func scopedTokenCallsGoThroughTheGateway() async throws {
    let stub = StubTransport([.json(200, #"{"id":"10001","key":"ABC-1","fields":{"summary":"Login","status":{"name":"Done"},"project":{"key":"ABC"}}}"#)])
    let client = JiraClient(config: Self.cloud(cloudID: "abc-123"), transport: stub, level: .properties)
    let issue = try await client.issue("ABC-1")
    #expect(issue == JiraIssue(id: "10001", key: "ABC-1", summary: "Login", status: "Done", projectKey: "ABC"))
    let request = try #require(stub.lastRequest)
    #expect(request.url.path == "/ex/jira/abc-123/rest/api/3/issue/ABC-1")
    #expect(Self.query(request)["fields"] == "summary,status,project,issuetype,parent")
  }

  @Test func cloudSearchFollowsNextPageTokensToTheEnd() async throws {
    let stub = StubTransport { request in
      switch Self.query(request)["nextPageToken"] {
      case nil: .json(200, #"{"issues":[\#(Self.issuesJSON(["ABC-1", "ABC-2"]))],"nextPageToken":"t1","isLast":false}"#)
      case "t1": .json(200, #"{"issues":[\#(Self.issuesJSON(["ABC-3", "ABC-4"]))],"nextPageToken":"t2"}"#)
      // The last page leaves the token out (JRACLOUD-92184).
      default: .json(200, #"{"issues":[\#(Self.issuesJSON(["ABC-5"]))]}"#)
      }
    }
    let client = JiraClient(config: Self.cloud(), transport: stub, level: .properties)
    let issues = try await client.search(jql: "project = ABC ORDER BY key", properties: ["testbridge.runs"], pageSize: 2)
    #expect(issues.map(\.key) == ["ABC-1", "ABC-2", "ABC-3", "ABC-4", "ABC-5"])
    #expect(stub.requestCount == 3)
    let first = try #require(stub.requests.first)
    #expect(first.url.path == "/rest/api/3/search/jql")
    #expect(Self.query(first)["jql"] == "project = ABC ORDER BY key")
    #expect(Self.query(first)["maxResults"] == "2")
    #expect(Self.query(first)["properties"] == "testbridge.runs")
    // Reserved characters in the JQL are escaped, so the server reads the query as sent.
    #expect(first.url.absoluteString.contains("jql=project%20%3D%20ABC%20ORDER%20BY%20key"))
    #expect(Self.query(stub.requests[2])["nextPageToken"] == "t2")
  }

  @Test func aRepeatedPageTokenStopsTheSearch() async throws {
    let stub = StubTransport(fallback: .json(200, #"{"issues":[\#(Self.issuesJSON(["ABC-1"]))],"nextPageToken":"same"}"#))
    let client = JiraClient(config: Self.cloud(), transport: stub, level: .properties)
    let error = await jiraError { try await client.search(jql: "project = ABC") }
    guard case .unexpectedResponse(_, let detail)? = error else {
      Issue.record("expected an unexpected-response error, got \(String(describing: error))")
      return
    }
    #expect(detail.contains("nextPageToken"))
    #expect(stub.requestCount == 2)
  }

  @Test func dataCenterSearchPagesByStartAt() async throws {
    let stub = StubTransport { request in
      let startAt = Int(Self.query(request)["startAt"] ?? "") ?? -1
      let keys = ["ABC-1", "ABC-2", "ABC-3", "ABC-4", "ABC-5"].dropFirst(startAt).prefix(2)
      return .json(200, #"{"startAt":\#(startAt),"maxResults":2,"total":5,"issues":[\#(Self.issuesJSON(Array(keys)))]}"#)
    }
    let client = JiraClient(config: Self.dataCenter(), transport: stub, level: .properties)
    let issues = try await client.search(jql: "project = ABC", pageSize: 2)
    #expect(issues.map(\.key) == ["ABC-1", "ABC-2", "ABC-3", "ABC-4", "ABC-5"])
    #expect(stub.requests.map { Self.query($0)["startAt"] } == ["0", "2", "4"])
    #expect(stub.requests.allSatisfy { $0.url.path == "/jira/rest/api/2/search" })
  }

  @Test func searchRefusesUnboundedQueriesAndTooManyProperties() async {
    let stub = StubTransport()
    let client = JiraClient(config: Self.cloud(), transport: stub, level: .properties)
    #expect(await jiraError { try await client.search(jql: "  ") } != nil)
    #expect(await jiraError { try await client.search(jql: "project = A", properties: ["a", "b", "c", "d", "e", "f"]) } != nil)
    #expect(stub.requestCount == 0)
  }

  @Test func propertiesOver32KBAreRefusedBeforeSending() async throws {
    let stub = StubTransport(fallback: .status(201))
    let client = JiraClient(config: Self.cloud(), transport: stub, level: .properties)
    let big = Data(("\"" + String(repeating: "x", count: JiraLimits.maxPropertyBytes) + "\"").utf8)
    let error = await jiraError { try await client.setProperty(issue: "ABC-1", key: "testbridge.runs", json: big) }
    guard case .invalidPropertyValue(let issue, let key, let reason)? = error else {
      Issue.record("expected an invalid property value, got \(String(describing: error))")
      return
    }
    #expect(issue == "ABC-1")
    #expect(key == "testbridge.runs")
    #expect(reason.contains("32768"))
    #expect(await jiraError { try await client.setProperty(issue: "ABC-1", key: "testbridge.runs", json: Data()) } != nil)
    #expect(await jiraError { try await client.setProperty(issue: "ABC-1", key: "testbridge.runs", json: Data("{nope".utf8)) } != nil)
    #expect(await jiraError { try await client.setProperty(issue: "ABC-1", key: "a/b", json: Data("1".utf8)) } != nil)
    #expect(stub.requestCount == 0)

    let fits = Data(("\"" + String(repeating: "x", count: JiraLimits.maxPropertyBytes - 2) + "\"").utf8)
    let created = try await client.setProperty(issue: "ABC-1", key: "testbridge.runs", json: fits)
    #expect(created)
    let request = try #require(stub.lastRequest)
    #expect(request.method == .PUT)
    #expect(request.url.path == "/rest/api/3/issue/ABC-1/properties/testbridge.runs")
    #expect(request.header("Content-Type") == "application/json")
    #expect(request.body?.count == JiraLimits.maxPropertyBytes)
  }

  @Test func aMissingPropertyIsNil() async throws {
    let stub = StubTransport([
      .json(404, #"{"errorMessages":["The property with key 'testbridge.runs' does not exist."],"errors":{}}"#),
      .json(200, #"{"key":"testbridge.runs","value":{"runs":[],"version":1}}"#),
    ])
    let client = JiraClient(config: Self.cloud(), transport: stub, level: .properties)
    #expect(try await client.property(issue: "ABC-1", key: "testbridge.runs") == nil)
    let value = try await client.property(issue: "ABC-1", key: "testbridge.runs")
    #expect(value?.text == #"{"runs":[],"version":1}"#)
  }

  @Test func jiraErrorsCarryTheIssueStatusAndMessagesRedacted() async throws {
    let echoed = #"{"errorMessages":["You do not have permission to edit issue ABC-7 (token \#(Self.token))"],"errors":{"value":"too long"}}"#
    let stub = StubTransport([.json(403, echoed)])
    let client = JiraClient(config: Self.cloud(), transport: stub, level: .properties)
    let error = await jiraError { try await client.setProperty(issue: "ABC-7", key: "testbridge.runs", json: Data("1".utf8)) }
    guard case .status(_, let issue, let code, let messages, let requestLine)? = error else {
      Issue.record("expected a status error, got \(String(describing: error))")
      return
    }
    #expect(issue == "ABC-7")
    #expect(code == 403)
    #expect(messages.count == 2)
    #expect(messages[0].hasPrefix("You do not have permission to edit issue ABC-7"))
    #expect(messages[1] == "value: too long")
    #expect(requestLine == "PUT https://acme.atlassian.net/rest/api/3/issue/ABC-7/properties/testbridge.runs")
    let text = try #require(error).description
    #expect(!text.contains(Self.token))
    #expect(text.contains("HTTP 403"))
    #expect(text.contains("'ABC-7'"))
    #expect(error?.statusCode == 403)
    #expect(error?.issueKey == "ABC-7")
  }

  @Test func transportFailuresAreWrappedWithTheAction() async {
    let stub = StubTransport([.connectionRefused])
    let client = JiraClient(config: Self.cloud(), transport: stub, level: .properties)
    let error = await jiraError { try await client.issue("ABC-1") }
    guard case .transport(let action, let issue, let underlying)? = error else {
      Issue.record("expected a transport error, got \(String(describing: error))")
      return
    }
    #expect(action == "reading issue")
    #expect(issue == "ABC-1")
    #expect(underlying.isConnectionError)
  }

  @Test func invalidIssueKeysNeverLeave() async {
    let stub = StubTransport(fallback: .json(200, "{}"))
    let client = JiraClient(config: Self.cloud(), transport: stub, level: .comments)
    for key in ["../ABC-1", "ABC-1/transitions", "", "ABC", "ABC-1?x=1"] {
      #expect(await jiraError { try await client.issue(key) } != nil, "\(key)")
      #expect(await jiraError { try await client.setProperty(issue: key, key: "k", json: Data("1".utf8)) } != nil)
    }
    #expect(stub.requestCount == 0)
  }

  @Test func remoteLinkUpsertSendsTheWholeLinkWithItsGlobalID() async throws {
    let stub = StubTransport([.json(201, #"{"id":10100,"self":"x"}"#), .json(200, #"{"id":10100,"self":"x"}"#)])
    let client = JiraClient(config: Self.cloud(), transport: stub, level: .links)
    let created = try await client.upsertRemoteLink(
      issue: "ABC-1", globalID: "testbridge:00ff", title: "testbridge: 3 passed · Nightly",
      url: "https://app.testomat.io/projects/p/runs/r1", resolved: false, summary: "main @ 1a2b3c")
    #expect(created == JiraRemoteLinkResult(id: 10100, created: true))
    let request = try #require(stub.lastRequest)
    #expect(request.method == .POST)
    #expect(request.url.path == "/rest/api/3/issue/ABC-1/remotelink")
    #expect(request.isRetrySafe)
    let expected = """
      {
        "application" : {
          "name" : "testbridge",
          "type" : "io.testbridge"
        },
        "globalId" : "testbridge:00ff",
        "object" : {
          "status" : {
            "resolved" : false
          },
          "summary" : "main @ 1a2b3c",
          "title" : "testbridge: 3 passed · Nightly",
          "url" : "https://app.testomat.io/projects/p/runs/r1"
        },
        "relationship" : "test runs"
      }
      """
    #expect(request.canonicalJSONBody == expected)
    let updated = try await client.upsertRemoteLink(issue: "ABC-1", globalID: "testbridge:00ff", title: "t", url: "https://x.example")
    #expect(!updated.created)

    #expect(await jiraError { try await client.upsertRemoteLink(issue: "ABC-1", globalID: "g", title: "t", url: "javascript:alert(1)") } != nil)
    #expect(await jiraError { try await client.upsertRemoteLink(issue: "ABC-1", globalID: String(repeating: "g", count: 256), title: "t", url: "https://x.example") } != nil)
    #expect(stub.requestCount == 2)
  }

  @Test func commentsAreADFOnCloudAndWikiMarkupOnDataCenter() async throws {
    let document = JiraCommentDocument(paragraphs: [
      [.strong("testbridge"), .text(": 2 passed · "), .link(text: "report", url: "https://r.example/1")]
    ])
    let cloudStub = StubTransport([.json(201, #"{"id":"10200","body":{"type":"doc","version":1,"content":[]}}"#)])
    let cloud = JiraClient(config: Self.cloud(), transport: cloudStub, level: .comments)
    _ = try await cloud.addComment(issue: "ABC-1", document)
    let adf = try #require(cloudStub.lastRequest?.body)
    let adfObject = try #require(try JSONSerialization.jsonObject(with: Data(adf)) as? [String: Any])
    let body = try #require(adfObject["body"] as? [String: Any])
    #expect(body["type"] as? String == "doc")
    #expect(body["version"] as? Int == 1)
    let paragraph = try #require((body["content"] as? [[String: Any]])?.first)
    let nodes = try #require(paragraph["content"] as? [[String: Any]])
    #expect(nodes.count == 3)
    #expect(nodes[2]["text"] as? String == "report")
    let mark = try #require((nodes[2]["marks"] as? [[String: Any]])?.first)
    #expect(mark["type"] as? String == "link")
    #expect((mark["attrs"] as? [String: Any])?["href"] as? String == "https://r.example/1")

    let dcStub = StubTransport([.json(200, #"{"id":"10300","body":"x"}"#)])
    let dc = JiraClient(config: Self.dataCenter(), transport: dcStub, level: .comments)
    let updated = try await dc.updateComment(issue: "ABC-1", id: "10300", document)
    #expect(updated.id == "10300")
    let wiki = try #require(dcStub.lastRequest)
    #expect(wiki.method == .PUT)
    #expect(wiki.url.path == "/jira/rest/api/2/issue/ABC-1/comment/10300")
    #expect(wiki.bodyText == #"{"body":"*testbridge*: 2 passed · [report|https://r.example/1]"}"#)
    #expect(await jiraError { try await dc.updateComment(issue: "ABC-1", id: "1/../2", document) } != nil)
  }

  @Test func commentListsArePagedAndReadInBothFormats() async throws {
    let stub = StubTransport { request in
      switch Self.query(request)["startAt"] {
      case "0":
        .json(200, #"{"startAt":0,"maxResults":1,"total":2,"comments":[{"id":"1","body":"*wiki* text","author":{"displayName":"A"}}]}"#)
      default:
        .json(200, #"{"startAt":1,"maxResults":1,"total":2,"comments":[{"id":"2","body":{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"adf text"}]}]}}]}"#)
      }
    }
    let client = JiraClient(config: Self.cloud(), transport: stub, level: .comments)
    let comments = try await client.comments(issue: "ABC-1")
    #expect(comments.map(\.id) == ["1", "2"])
    #expect(comments[0].body == .wiki("*wiki* text"))
    #expect(comments[0].authorName == "A")
    #expect(comments[1].body.plainText == "adf text")
  }

  @Test func permissionsAreReadAndCheckedAgainstALevel() async throws {
    let stub = StubTransport([
      .json(
        200,
        #"{"permissions":{"BROWSE_PROJECTS":{"havePermission":true},"EDIT_ISSUES":{"havePermission":false},"LINK_ISSUES":{"havePermission":true},"ADD_COMMENTS":{"havePermission":true}}}"#
      )
    ])
    let client = JiraClient(config: Self.cloud(), transport: stub, level: .properties)
    let permissions = try await client.myPermissions(projectKey: "ABC")
    #expect(permissions.has("BROWSE_PROJECTS"))
    #expect(permissions.missing(for: .properties) == ["EDIT_ISSUES"])
    #expect(permissions.missing(for: .comments) == ["EDIT_ISSUES"])
    let query = Self.query(try #require(stub.lastRequest))
    #expect(query["permissions"] == "BROWSE_PROJECTS,EDIT_ISSUES,LINK_ISSUES,ADD_COMMENTS")
    #expect(query["projectKey"] == "ABC")
  }
}
