import BridgeHTTP
import Foundation

/// The Jira platform REST API as testbridge uses it, on Cloud (v3, or v2 by override) and Data
/// Center (v2), with basic or bearer auth.
///
/// Every request goes through a ``GuardedJiraTransport``: the client cannot be built around a
/// bare transport, so an operation the write level does not permit fails with
/// ``JiraError/forbiddenRequest(method:path:level:)`` before anything is sent.
///
/// ```swift
/// let client = JiraClient(config: config, transport: RetryingTransport(base: URLSessionTransport()), level: .links)
/// let issues = try await client.search(jql: "project = ABC")
/// try await client.upsertRemoteLink(issue: "ABC-1", globalID: id, title: title, url: reportURL)
/// ```
public struct JiraClient: Sendable {
  public let config: JiraConfig
  /// The only transport the client sends through.
  public let transport: GuardedJiraTransport
  /// Seconds allowed per attempt.
  public let timeout: TimeInterval

  /// Wraps `transport` in a ``GuardedJiraTransport`` at `level` that admits only requests to
  /// `config`'s ``JiraConfig/restBaseURL``.
  public init(config: JiraConfig, transport: any HTTPTransport, level: JiraWriteLevel, timeout: TimeInterval = 20) {
    self.config = config
    self.transport = GuardedJiraTransport(base: transport, level: level, restBaseURL: config.restBaseURL)
    self.timeout = timeout
  }

  /// The write level the guard enforces.
  public var level: JiraWriteLevel { transport.level }

  /// Fields ``issue(_:fields:)`` and ``search(jql:fields:properties:pageSize:limit:)`` ask for by default.
  public static let defaultIssueFields = ["summary", "status", "project", "issuetype", "parent"]

  // MARK: - Reads

  /// `GET myself`: the authenticated account.
  public func myself() async throws(JiraError) -> JiraUser {
    let action = "reading the Jira account"
    let object = try await getObject(["myself"], action: action, issue: nil)
    return JiraUser(
      accountID: object["accountId"] as? String, name: object["name"] as? String,
      displayName: object["displayName"] as? String, emailAddress: object["emailAddress"] as? String,
      active: object["active"] as? Bool)
  }

  /// `GET mypermissions?permissions=…[&projectKey=…]`: which of `permissions` the account holds,
  /// in `projectKey` when given (Jira Cloud requires the `permissions` list).
  public func myPermissions(
    projectKey: String? = nil, permissions: [String] = JiraPermission.all
  ) async throws(JiraError) -> JiraPermissions {
    var query = [("permissions", permissions.joined(separator: ","))]
    if let projectKey { query.append(("projectKey", projectKey)) }
    let action = "reading Jira permissions" + (projectKey.map { " in project '\($0)'" } ?? "")
    let object = try await getObject(["mypermissions"], query: query, action: action, issue: nil)
    var granted: [String: Bool] = [:]
    for (key, value) in object["permissions"] as? [String: Any] ?? [:] {
      granted[key] = (value as? [String: Any])?["havePermission"] as? Bool ?? false
    }
    return JiraPermissions(granted: granted)
  }

  /// `GET issue/{key}`: one issue with `fields`.
  public func issue(_ key: String, fields: [String] = JiraClient.defaultIssueFields) async throws(JiraError) -> JiraIssue {
    try Self.validateIssueKey(key)
    let action = "reading issue"
    let object = try await getObject(
      ["issue", key], query: [("fields", fields.joined(separator: ","))], action: action, issue: key)
    guard let issue = Self.decodeIssue(object) else {
      throw .unexpectedResponse(action: "\(action) '\(key)'", detail: "no issue 'id' and 'key'")
    }
    return issue
  }

  /// Every issue matching `jql`, across all pages.
  ///
  /// Jira Cloud uses the enhanced search, `GET search/jql` paged by `nextPageToken` (the old
  /// endpoint answers 410 Gone there); Data Center uses `GET search` paged by `startAt`. Page
  /// sizes are whatever Jira returns, never assumed.
  ///
  /// - Parameters:
  ///   - fields: fields to return (`key` is always present).
  ///   - properties: issue property keys to return inline, at most 5.
  ///   - pageSize: the `maxResults` asked for; Jira may return fewer.
  ///   - limit: more matches than this is an error rather than a silently partial answer.
  public func search(
    jql: String, fields: [String] = JiraClient.defaultIssueFields, properties: [String] = [], pageSize: Int = 100,
    limit: Int = 10_000
  ) async throws(JiraError) -> [JiraIssue] {
    let action = "searching Jira issues with '\(jql)'"
    guard !jql.trimmingCharacters(in: .whitespaces).isEmpty else {
      throw .invalidArgument(name: "JQL", value: jql, reason: "an empty query is unbounded; Jira refuses it")
    }
    guard properties.count <= JiraLimits.maxSearchProperties else {
      throw .invalidArgument(
        name: "property list", value: properties.joined(separator: ","),
        reason: "search returns at most \(JiraLimits.maxSearchProperties) properties")
    }
    var base: [(String, String)] = [("jql", jql), ("fields", (fields.isEmpty ? ["key"] : fields).joined(separator: ","))]
    if !properties.isEmpty { base.append(("properties", properties.joined(separator: ","))) }
    base.append(("maxResults", String(max(1, pageSize))))

    var issues: [JiraIssue] = []
    switch config.deployment {
    case .cloud:
      var token: String?
      var seen: Set<String> = []
      while true {
        var query = base
        if let token { query.append(("nextPageToken", token)) }
        let object = try await getObject(["search", "jql"], query: query, action: action, issue: nil)
        issues += try Self.decodeIssues(object, action: action)
        try Self.checkLimit(issues.count, limit: limit, action: action)
        let next = object["nextPageToken"] as? String
        if object["isLast"] as? Bool == true || next == nil || next?.isEmpty == true { break }
        guard let next, seen.insert(next).inserted else {
          throw .unexpectedResponse(action: action, detail: "the same nextPageToken came back twice")
        }
        token = next
      }
    case .dataCenter:
      var startAt = 0
      while true {
        let object = try await getObject(
          ["search"], query: base + [("startAt", String(startAt))], action: action, issue: nil)
        let page = try Self.decodeIssues(object, action: action)
        issues += page
        try Self.checkLimit(issues.count, limit: limit, action: action)
        startAt += page.count
        let total = (object["total"] as? NSNumber)?.intValue ?? 0
        if page.isEmpty || startAt >= total { break }
      }
    }
    return issues
  }

  // MARK: - Issue properties

  /// The keys of the properties set on `issue`.
  public func propertyKeys(issue: String) async throws(JiraError) -> [String] {
    try Self.validateIssueKey(issue)
    let object = try await getObject(["issue", issue, "properties"], action: "listing issue properties", issue: issue)
    return (object["keys"] as? [Any] ?? []).compactMap { ($0 as? [String: Any])?["key"] as? String }
  }

  /// The value of property `key` on `issue` as JSON bytes (sorted keys), or nil when Jira
  /// answers 404 (the property is not set).
  public func property(issue: String, key: String) async throws(JiraError) -> Data? {
    try Self.validateIssueKey(issue)
    try Self.validatePropertyKey(key)
    let action = "reading property '\(key)'"
    let request = makeRequest(.GET, ["issue", issue, "properties", key])
    let response = try await send(request, action: action, issue: issue, allowing: [404])
    if response.status == 404 { return nil }
    let object = try Self.object(response, action: action)
    guard let value = object["value"] else {
      throw .unexpectedResponse(action: action, detail: "no 'value' member")
    }
    guard
      let data = try? JSONSerialization.data(
        withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys, .withoutEscapingSlashes])
    else {
      throw .unexpectedResponse(action: action, detail: "the value cannot be re-encoded")
    }
    return data
  }

  /// `PUT issue/{issue}/properties/{key}` with `json` as the value.
  ///
  /// Refused before sending when `json` is empty, not JSON, or over
  /// ``JiraLimits/maxPropertyBytes``.
  /// - Returns: true when the property was created (201), false when replaced (200).
  @discardableResult
  public func setProperty(issue: String, key: String, json: Data) async throws(JiraError) -> Bool {
    try Self.validateIssueKey(issue)
    try Self.validatePropertyKey(key)
    try Self.validatePropertyValue(json, issue: issue, key: key)
    let request = makeRequest(
      .PUT, ["issue", issue, "properties", key], body: Array(json), headers: ["Content-Type": "application/json"])
    let response = try await send(request, action: "setting property '\(key)'", issue: issue)
    return response.status == 201
  }

  /// `setProperty(issue:key:json:)` with `value` encoded as JSON (sorted keys).
  @discardableResult
  public func setProperty(issue: String, key: String, value: some Encodable & Sendable) async throws(JiraError) -> Bool {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    guard let data = try? encoder.encode(value) else {
      throw .invalidPropertyValue(issue: issue, key: key, reason: "the value cannot be encoded as JSON")
    }
    return try await setProperty(issue: issue, key: key, json: data)
  }

  /// Checks a property value the way Jira would, without sending anything.
  public static func validatePropertyValue(_ json: Data, issue: String, key: String) throws(JiraError) {
    guard !json.isEmpty, (try? JSONSerialization.jsonObject(with: json, options: [.fragmentsAllowed])) != nil else {
      throw .invalidPropertyValue(issue: issue, key: key, reason: "the value must be non-empty JSON")
    }
    guard json.count <= JiraLimits.maxPropertyBytes else {
      throw .invalidPropertyValue(
        issue: issue, key: key,
        reason: "the value is \(json.count) bytes; Jira accepts at most \(JiraLimits.maxPropertyBytes)")
    }
  }

  // MARK: - Remote links

  /// Every remote link on `issue`.
  public func remoteLinks(issue: String) async throws(JiraError) -> [JiraRemoteLink] {
    try Self.validateIssueKey(issue)
    let action = "listing remote links"
    let response = try await send(makeRequest(.GET, ["issue", issue, "remotelink"]), action: action, issue: issue)
    guard let list = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [Any] else {
      throw .unexpectedResponse(action: action, detail: "the body is not a JSON array")
    }
    return list.compactMap { ($0 as? [String: Any]).flatMap(Self.decodeRemoteLink) }
  }

  /// Creates the remote link with `globalID` on `issue`, or updates it in place when one exists:
  /// Jira matches on `globalId`, so a rerun replaces its link instead of adding another.
  ///
  /// Jira nulls every field missing from an update, so the whole link is always sent. The
  /// request is marked safe to repeat because the global id makes a repeat an update.
  @discardableResult
  public func upsertRemoteLink(
    issue: String, globalID: String, title: String, url: String, resolved: Bool = false, summary: String? = nil
  ) async throws(JiraError) -> JiraRemoteLinkResult {
    try Self.validateIssueKey(issue)
    guard !globalID.isEmpty, globalID.count <= JiraLimits.maxGlobalIDLength else {
      throw .invalidArgument(name: "remote link global id", value: globalID, reason: "must be 1 to 255 characters")
    }
    guard !title.isEmpty, title.count <= JiraLimits.maxRemoteLinkTitleLength else {
      throw .invalidArgument(name: "remote link title", value: title, reason: "must be 1 to 255 characters")
    }
    guard let scheme = URL(string: url)?.scheme?.lowercased(), scheme == "https" || scheme == "http" else {
      throw .invalidArgument(name: "remote link URL", value: url, reason: "must be an http(s) URL")
    }
    var object: [String: Any] = ["url": url, "title": title, "status": ["resolved": resolved]]
    if let summary, !summary.isEmpty { object["summary"] = summary }
    let body: [String: Any] = [
      "globalId": globalID,
      "application": ["type": RemoteLinkTitle.applicationType, "name": RemoteLinkTitle.applicationName],
      "relationship": RemoteLinkTitle.relationship,
      "object": object,
    ]
    let action = "attaching remote link '\(title)'"
    let request = makeRequest(
      .POST, ["issue", issue, "remotelink"], body: try Self.encode(body, action: action),
      headers: ["Content-Type": "application/json"], retrySafe: true)
    let response = try await send(request, action: action, issue: issue)
    let reply = try Self.object(response, action: action)
    guard let id = (reply["id"] as? NSNumber)?.intValue else {
      throw .unexpectedResponse(action: action, detail: "no link 'id' in the answer")
    }
    return JiraRemoteLinkResult(id: id, created: response.status == 201)
  }

  // MARK: - Comments

  /// Every comment on `issue`, oldest first, across all pages.
  public func comments(issue: String) async throws(JiraError) -> [JiraComment] {
    try Self.validateIssueKey(issue)
    let action = "reading comments"
    var comments: [JiraComment] = []
    var startAt = 0
    while true {
      let object = try await getObject(
        ["issue", issue, "comment"], query: [("startAt", String(startAt)), ("maxResults", "100")], action: action,
        issue: issue)
      let page = (object["comments"] as? [Any] ?? []).compactMap { ($0 as? [String: Any]).flatMap(Self.decodeComment) }
      comments += page
      startAt += page.count
      let total = (object["total"] as? NSNumber)?.intValue ?? 0
      if page.isEmpty || startAt >= total || comments.count > 100_000 { break }
    }
    return comments
  }

  /// Adds a comment: an ADF document on REST v3, wiki markup on v2.
  @discardableResult
  public func addComment(issue: String, _ document: JiraCommentDocument) async throws(JiraError) -> JiraComment {
    try Self.validateIssueKey(issue)
    let action = "adding a comment"
    let request = makeRequest(
      .POST, ["issue", issue, "comment"], body: try commentBody(document, action: action),
      headers: ["Content-Type": "application/json"])
    return try await decodeCommentReply(send(request, action: action, issue: issue), action: action)
  }

  /// Replaces the body of comment `id`.
  @discardableResult
  public func updateComment(issue: String, id: String, _ document: JiraCommentDocument) async throws(JiraError)
    -> JiraComment
  {
    try Self.validateIssueKey(issue)
    guard !id.isEmpty, id.count <= 20, id.allSatisfy({ $0.isASCII && $0.isNumber }) else {
      throw .invalidArgument(name: "comment id", value: id, reason: "must be digits")
    }
    let action = "updating comment \(id)"
    let request = makeRequest(
      .PUT, ["issue", issue, "comment", id], body: try commentBody(document, action: action),
      headers: ["Content-Type": "application/json"])
    return try await decodeCommentReply(send(request, action: action, issue: issue), action: action)
  }

  /// The JSON request body for a comment in this connection's format.
  public func commentBody(_ document: JiraCommentDocument, action: String = "encoding a comment") throws(JiraError)
    -> [UInt8]
  {
    let body: Any = config.usesADF ? document.adfObject() : document.wikiMarkup()
    return try Self.encode(["body": body], action: action)
  }

  // MARK: - Plumbing

  /// A request to `segments` under ``JiraConfig/restBaseURL``, with the auth header set.
  func makeRequest(
    _ method: HTTPMethod, _ segments: [String], query: [(String, String)] = [], body: [UInt8]? = nil,
    headers: [String: String] = [:], retrySafe: Bool = false
  ) -> HTTPRequest {
    var text = JiraConfig.trimmedSlash(config.restBaseURL.absoluteString)
    for segment in segments {
      text += "/" + (segment.addingPercentEncoding(withAllowedCharacters: JiraPath.unreserved) ?? segment)
    }
    if !query.isEmpty {
      text += "?" + query.map { JiraPath.encodeQuery($0.0) + "=" + JiraPath.encodeQuery($0.1) }.joined(separator: "&")
    }
    var all = headers
    all["Accept"] = "application/json"
    all["Authorization"] = config.auth.authorizationHeader
    // A 429 is repeated even for a write that is otherwise not (adding a comment): the rate
    // limiter refused it before anything was applied (RetryPolicy.isNotApplied).
    return HTTPRequest(
      method: method, url: URL(string: text) ?? config.restBaseURL, headers: all, body: body, retrySafe: retrySafe,
      timeout: timeout)
  }

  /// Checks the guard, sends, and turns non-2xx answers (except `allowing`) into ``JiraError/status(action:issue:code:messages:requestLine:)``.
  func send(
    _ request: HTTPRequest, action: String, issue: String?, allowing allowed: Set<Int> = []
  ) async throws(JiraError) -> HTTPResponse {
    try transport.check(request)
    let response: HTTPResponse
    do {
      response = try await transport.send(request)
    } catch {
      throw .transport(action: action, issue: issue, error)
    }
    guard response.isSuccess || allowed.contains(response.status) else {
      let secrets = Redactor.secrets(in: request) + config.auth.secrets
      throw .status(
        action: action, issue: issue, code: response.status,
        messages: Self.errorMessages(response.body, secrets: secrets), requestLine: request.redactedLine)
    }
    return response
  }

  private func getObject(
    _ segments: [String], query: [(String, String)] = [], action: String, issue: String?
  ) async throws(JiraError) -> [String: Any] {
    let response = try await send(makeRequest(.GET, segments, query: query), action: action, issue: issue)
    return try Self.object(response, action: action)
  }

  private func decodeCommentReply(_ response: HTTPResponse, action: String) throws(JiraError) -> JiraComment {
    guard let comment = Self.decodeComment(try Self.object(response, action: action)) else {
      throw .unexpectedResponse(action: action, detail: "no comment 'id' in the answer")
    }
    return comment
  }

  /// Jira's `errorMessages` plus `errors` as `field: message`, redacted; the body's head when
  /// it has neither.
  static func errorMessages(_ body: [UInt8], secrets: [String]) -> [String] {
    var messages: [String] = []
    if let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] {
      for message in object["errorMessages"] as? [Any] ?? [] {
        if let text = message as? String, !text.isEmpty { messages.append(text) }
      }
      let errors = object["errors"] as? [String: Any] ?? [:]
      for field in errors.keys.sorted() {
        if let text = errors[field] as? String { messages.append("\(field): \(text)") }
      }
      if messages.isEmpty, let message = object["message"] as? String { messages.append(message) }
    }
    if messages.isEmpty {
      let prefix = Redactor.bodyPrefix(body, secrets: secrets, limit: 300)
      return prefix.isEmpty ? [] : [prefix]
    }
    return messages.prefix(10).map { Redactor.bodyPrefix(Array($0.utf8), secrets: secrets, limit: 300) }
  }

  static func object(_ response: HTTPResponse, action: String) throws(JiraError) -> [String: Any] {
    guard let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] else {
      throw .unexpectedResponse(action: action, detail: "the body is not a JSON object")
    }
    return object
  }

  static func encode(_ object: Any, action: String) throws(JiraError) -> [UInt8] {
    guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    else {
      throw .unexpectedResponse(action: action, detail: "the request could not be encoded")
    }
    return Array(data)
  }

  private static func checkLimit(_ count: Int, limit: Int, action: String) throws(JiraError) {
    guard count <= limit else {
      throw .unexpectedResponse(action: action, detail: "more than \(limit) issues match; narrow the query")
    }
  }

  static func validateIssueKey(_ key: String) throws(JiraError) {
    guard JiraRequestGuard.isIssueKeyOrID(key) else {
      throw .invalidArgument(name: "issue key", value: key, reason: "expected a key such as ABC-123 or a numeric id")
    }
  }

  static func validatePropertyKey(_ key: String) throws(JiraError) {
    guard (1...JiraLimits.maxPropertyKeyLength).contains(key.count), key != ".", key != "..", !key.contains("/"),
      !key.contains("\\")
    else {
      throw .invalidArgument(name: "property key", value: key, reason: "must be 1 to 255 characters without '/'")
    }
  }

  static func decodeIssues(_ object: [String: Any], action: String) throws(JiraError) -> [JiraIssue] {
    guard let list = object["issues"] as? [Any] else {
      throw .unexpectedResponse(action: action, detail: "no 'issues' list")
    }
    return list.compactMap { ($0 as? [String: Any]).flatMap(decodeIssue) }
  }

  static func decodeIssue(_ object: [String: Any]) -> JiraIssue? {
    guard let id = stringish(object["id"]), let key = object["key"] as? String else { return nil }
    let fields = object["fields"] as? [String: Any] ?? [:]
    var properties: [String: Data] = [:]
    for (name, value) in object["properties"] as? [String: Any] ?? [:] {
      properties[name] = try? JSONSerialization.data(
        withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys, .withoutEscapingSlashes])
    }
    return JiraIssue(
      id: id, key: key, summary: fields["summary"] as? String,
      status: (fields["status"] as? [String: Any])?["name"] as? String,
      projectKey: (fields["project"] as? [String: Any])?["key"] as? String,
      issueType: (fields["issuetype"] as? [String: Any])?["name"] as? String,
      parentKey: (fields["parent"] as? [String: Any])?["key"] as? String, properties: properties)
  }

  static func decodeRemoteLink(_ object: [String: Any]) -> JiraRemoteLink? {
    guard let id = (object["id"] as? NSNumber)?.intValue, let link = object["object"] as? [String: Any] else {
      return nil
    }
    let application = object["application"] as? [String: Any]
    return JiraRemoteLink(
      id: id, globalID: object["globalId"] as? String, title: link["title"] as? String ?? "",
      url: link["url"] as? String ?? "", summary: link["summary"] as? String,
      resolved: (link["status"] as? [String: Any])?["resolved"] as? Bool ?? false,
      applicationType: application?["type"] as? String, applicationName: application?["name"] as? String,
      relationship: object["relationship"] as? String)
  }

  static func decodeComment(_ object: [String: Any]) -> JiraComment? {
    guard let id = stringish(object["id"]) else { return nil }
    let body: JiraCommentBody
    if let text = object["body"] as? String {
      body = .wiki(text)
    } else if let document = object["body"],
      let data = try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])
    {
      body = .adf(data)
    } else {
      body = .wiki("")
    }
    return JiraComment(
      id: id, body: body, authorName: (object["author"] as? [String: Any])?["displayName"] as? String,
      created: object["created"] as? String, updated: object["updated"] as? String)
  }

  /// Jira sends ids as strings (`"10001"`); some servers send numbers.
  private static func stringish(_ value: Any?) -> String? {
    if let text = value as? String { return text }
    if let number = value as? NSNumber { return number.stringValue }
    return nil
  }
}

/// Percent-encoding for Jira paths and queries.
enum JiraPath {
  /// RFC 3986 unreserved characters: everything else in a segment or query value is escaped.
  static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

  static func encodeQuery(_ text: String) -> String {
    text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
  }
}
