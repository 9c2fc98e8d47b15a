import BridgeCore
import Foundation
import HTTPServer

/// A local stand-in for the parts of the Jira platform REST API testbridge uses, on Cloud
/// (`/rest/api/3/…`, and `/ex/jira/{cloudId}/rest/api/3/…` through the gateway, basic auth)
/// and Data Center (`/rest/api/2/…`, bearer personal access token; basic is accepted there too).
///
/// Routes (after `/rest/api/{2|3}/`):
/// - `GET myself`, `GET mypermissions?permissions=…&projectKey=…` (the list is required on v3)
/// - `GET issue/{key}?fields=…`
/// - `GET search/jql?jql=&fields=&properties=&maxResults=&nextPageToken=` (token paging, no
///   total; unbounded JQL is a 400); `GET search?jql=&startAt=&maxResults=` (v2 only; v3
///   answers 410 Gone as Jira Cloud now does). JQL: see ``JiraJQL``.
/// - `GET issue/{key}/properties`, `GET|PUT issue/{key}/properties/{propertyKey}` (values are
///   non-empty JSON of at most 32,768 characters; PUT answers 201 or 200)
/// - `GET issue/{key}/remotelink[?globalId=]`, `GET issue/{key}/remotelink/{id}`,
///   `POST issue/{key}/remotelink` (a known `globalId` updates that link in place: 200)
/// - `GET|POST issue/{key}/comment`, `GET|PUT issue/{key}/comment/{id}` (an ADF document on
///   v3, a wiki-markup string on v2)
///
/// **Every other request** under `/rest/` (editing, transitioning, creating or deleting issues,
/// writing any property but `testbridge.runs`, any `DELETE`, other APIs, and whatever the
/// configured write level does not permit) is answered 403 and recorded in
/// ``JiraSandboxState/refused``, so a test catches a least-privilege violation even if the
/// client's own guard were wrong. A request outside `/rest/` is answered 404 and recorded there
/// too. The write level (``setWriteLevel(_:)``, `POST /_sandbox/jira/write-level`) mirrors
/// testbridge's `--jira-write`: `properties` allows the reads and `PUT` of `testbridge.runs`,
/// `links` adds remote links, `comments` (the default) adds comments.
///
/// Writes need the matching project permission (`EDIT_ISSUES` for properties, `LINK_ISSUES`,
/// `ADD_COMMENTS`); reads need `BROWSE_PROJECTS`. Errors use Jira's
/// `{"errorMessages": [...], "errors": {...}}` shape. Control routes under `/_sandbox/jira/`:
/// `GET state`, `POST reset`, `POST seed`, `GET|POST|DELETE faults` (same rules as the
/// Testomat.io emulator's faults; a 429 also carries `RateLimit-Reason: jira-burst-based`),
/// `POST rate-limits` (`{"enabled": false}` lifts the enforced limits), `POST write-level`
/// (`{"level": "properties"}`).
///
/// Jira Cloud's burst and per-issue write limits are enforced (``JiraRateLimiter``): a request
/// over them is answered 429 with `Retry-After` and `RateLimit-Reason`, and recorded in
/// ``JiraSandboxState/rateLimited``.
public actor JiraEmulator {
  /// The Cloud account email basic auth must carry.
  public let email: String
  /// The Cloud API token basic auth must carry.
  public let apiToken: String
  /// The Data Center personal access token bearer auth must carry.
  public let pat: String
  /// The cloud id accepted in gateway paths (`/ex/jira/{cloudId}/…`).
  public let cloudID: String

  private var projects: [JiraSandboxProject] = []
  private var issues: [IssueRecord] = []
  private var permissions: Set<String> = JiraEmulator.allPermissions
  private var maxResults = 50
  private var requestLog: [JiraSandboxRequestRecord] = []
  private var refused: [JiraSandboxRefusal] = []
  private var faults: [SandboxFault] = []
  private var rateLimiter = JiraRateLimiter()
  private var rateLimited: [JiraSandboxRefusal] = []
  private var writeLevel = JiraSandboxWriteLevel.comments
  private var nextID = 10_000

  /// The project permissions the emulator knows.
  public static let allPermissions: Set<String> = ["BROWSE_PROJECTS", "EDIT_ISSUES", "LINK_ISSUES", "ADD_COMMENTS"]
  /// Jira's property value limit, in characters.
  public static let maxPropertyCharacters = 32_768

  public init(
    email: String = "bridge@example.com", apiToken: String = "jira-sandbox-token", pat: String = "jira-sandbox-pat",
    cloudID: String = "sandbox-cloud"
  ) {
    self.email = email
    self.apiToken = apiToken
    self.pat = pat
    self.cloudID = cloudID
  }

  // MARK: - In-process control (the same operations as the `/_sandbox/jira/` routes)

  /// A snapshot of everything held and seen.
  public func state() -> JiraSandboxState {
    JiraSandboxState(
      projects: projects, issues: sortedIssues().map(\.snapshot), requests: requestLog, refused: refused,
      faults: faults.filter { $0.times > 0 }, permissions: permissions.sorted(), maxResults: maxResults,
      rateLimitsEnabled: rateLimiter.enabled, rateLimited: rateLimited, writeLevel: writeLevel)
  }

  /// Forgets projects, issues, logs and faults; restores all permissions, the page size of 50
  /// and the `comments` write level.
  public func reset() {
    projects = []
    issues = []
    permissions = Self.allPermissions
    maxResults = 50
    requestLog = []
    refused = []
    rateLimiter = JiraRateLimiter()
    rateLimited = []
    faults = []
    writeLevel = .comments
  }

  /// Adds (or renames) a project.
  public func seedProject(key: String, name: String? = nil) {
    if let index = projects.firstIndex(where: { $0.key == key }) {
      if let name { projects[index].name = name }
      return
    }
    projects.append(JiraSandboxProject(id: newID(), key: key, name: name ?? key))
  }

  /// Adds an issue, or replaces the fields of an existing one (keeping its links and comments).
  /// The project is created when missing.
  ///
  /// - Returns: false when `key` is not an issue key such as `ABC-12`.
  @discardableResult
  public func seedIssue(
    key: String, summary: String? = nil, status: String = "To Do", type: String = "Story", parent: String? = nil,
    epic: String? = nil, sprints: [Int] = [], properties: [String: JSONValue] = [:]
  ) -> Bool {
    guard let projectKey = Self.projectKey(of: key) else { return false }
    seedProject(key: projectKey)
    if let index = issues.firstIndex(where: { $0.key == key }) {
      issues[index].summary = summary ?? issues[index].summary
      issues[index].status = status
      issues[index].type = type
      issues[index].parent = parent
      issues[index].epic = epic
      issues[index].sprints = sprints
      for (name, value) in properties { issues[index].properties[name] = value }
      return true
    }
    issues.append(
      IssueRecord(
        id: newID(), key: key, summary: summary ?? "Issue \(key)", status: status, type: type, project: projectKey,
        parent: parent, epic: epic, sprints: sprints, properties: properties))
    return true
  }

  /// Sets the project permissions the sandbox account holds.
  public func setPermissions(_ granted: Set<String>) {
    permissions = granted
  }

  /// Sets the largest page `search`, `search/jql` and `comment` return (at least 1).
  public func setMaxResults(_ value: Int) {
    maxResults = max(1, value)
  }

  /// Turns the enforcement of Jira Cloud's rate limits (``JiraRateLimiter``) on or off; on by
  /// default and after `reset`.
  public func setRateLimits(enabled: Bool) {
    rateLimiter.enabled = enabled
  }

  /// Sets the widest kind of write the emulator accepts, as testbridge's `--jira-write` does;
  /// anything above it is refused (403) and recorded. `comments` by default and after `reset`.
  public func setWriteLevel(_ level: JiraSandboxWriteLevel) {
    writeLevel = level
  }

  /// Replaces the fault rules; they apply in order to matching Jira API requests.
  public func setFaults(_ rules: [SandboxFault]) {
    faults = rules
  }

  // MARK: - Routing

  /// Answers one request.
  public func handle(_ request: ServerRequest) async -> ServerResponse {
    let segments = request.path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
    if segments.count >= 2, segments[0] == "_sandbox", segments[1] == "jira" {
      return control(request, segments: Array(segments.dropFirst(2)))
    }
    let auth = authKind(request)

    // Where the REST API starts: `/rest/api/{v}/…`, or the gateway's `/ex/jira/{cloudId}/rest/api/{v}/…`.
    var rest = segments[...]
    var gatewayPrefix = ""
    if rest.count >= 3, rest[rest.startIndex] == "ex", rest[rest.startIndex + 1] == "jira" {
      let id = rest[rest.startIndex + 2]
      guard id == cloudID else {
        let response = Self.jiraError(404, ["No site with cloud id '\(id)' is known to the sandbox."])
        log(request, auth: auth, status: 404, fault: false, refused: false)
        return response
      }
      gatewayPrefix = "/ex/jira/\(id)"
      rest = rest.dropFirst(3)
    }
    guard rest.first == "rest" else {
      // Not the REST API at all: Jira would answer 404; testbridge has no business here either.
      refused.append(
        JiraSandboxRefusal(
          method: request.method, path: request.path, reason: "outside the Jira REST API (/rest/…)"))
      log(request, auth: auth, status: 404, fault: false, refused: true)
      return Self.jiraError(404, ["No route matches '\(request.method) \(request.path)'."])
    }
    let apiVersion: String?
    var operation: [String] = []
    if rest.count >= 3, rest[rest.startIndex + 1] == "api", ["2", "3"].contains(rest[rest.startIndex + 2]) {
      apiVersion = rest[rest.startIndex + 2]
      operation = Array(rest.dropFirst(3))
    } else {
      apiVersion = nil
    }

    // 1. Least privilege: anything testbridge must never send is refused and recorded.
    if let reason = refusalReason(request, version: apiVersion, operation: operation) {
      refused.append(JiraSandboxRefusal(method: request.method, path: request.path, reason: reason))
      log(request, auth: auth, status: 403, fault: false, refused: true)
      return Self.jiraError(403, ["testbridge sandbox: '\(request.method) \(request.path)' is refused: \(reason)."])
    }
    guard let apiVersion else {
      log(request, auth: auth, status: 404, fault: false, refused: false)
      return Self.jiraError(404, ["No route matches '\(request.method) \(request.path)'."])
    }

    // 2. Scripted faults.
    // A rule's cut (`cut_body_after`) applies to whatever is answered below.
    let shaping = SandboxFault.take(from: &faults, for: request)
    let faulted = shaping != nil
    if let rule = shaping {
      await rule.waitItsDelay()
      if rule.dropConnection {
        log(request, auth: auth, status: 0, fault: true, refused: false)
        return .dropConnection
      }
      if let status = rule.status {
        var headers = rule.statusHeaders
        if status == 429 { headers["RateLimit-Reason"] = "jira-burst-based" }
        log(request, auth: auth, status: status, fault: true, refused: false)
        return rule.shape(
          Self.jiraError(status, [rule.message ?? "sandbox fault: injected \(status)"], headers: headers))
      }
    }

    // 3. Authentication: basic (email + API token) everywhere, bearer PAT on v2 only.
    let accepted: Bool
    switch auth {
    case "basic": accepted = true
    case "bearer": accepted = apiVersion == "2"
    default: accepted = false
    }
    guard accepted else {
      log(request, auth: auth, status: 401, fault: faulted, refused: false)
      let detail =
        auth == "bearer"
        ? "Bearer personal access tokens are a Data Center feature; use basic auth (email and API token) on /rest/api/3."
        : "You are not authenticated. Authentication required to perform this operation."
      // Jira adds `WWW-Authenticate` to its 401s. The sandbox leaves it out: URLSession on Linux
      // answers that header with an authentication challenge and the request then waits for a
      // credential until it times out, instead of returning the 401.
      let refusal = Self.jiraError(401, [detail])
      return shaping?.shape(refusal) ?? refusal
    }

    // 4. Jira Cloud's burst and per-issue write limits.
    if let refusal = rateLimiter.admit(
      method: request.method, operation: operation, at: ProcessInfo.processInfo.systemUptime)
    {
      rateLimited.append(JiraSandboxRefusal(method: request.method, path: request.path, reason: refusal.reason))
      log(request, auth: auth, status: 429, fault: false, refused: false)
      var headers = HTTPHeaders()
      headers["Retry-After"] = String(refusal.retryAfter)
      headers["RateLimit-Reason"] = refusal.reason
      return Self.jiraError(429, ["Rate limit exceeded."], headers: headers)
    }

    let context = Context(
      version: apiVersion, base: baseURL(for: request) + gatewayPrefix + "/rest/api/\(apiVersion)")
    let response = route(request, operation: operation, context: context)
    log(request, auth: auth, status: response.status, fault: faulted, refused: false)
    return shaping?.shape(response) ?? response
  }

  /// Where an answer is built: the API version and the `self` URL prefix.
  private struct Context {
    var version: String
    var base: String
    var isCloud: Bool { version == "3" }
  }

  /// The operations testbridge may use, as (method, pattern, the lowest write level that
  /// permits it); `*` is any non-empty segment.
  private static let allowedOperations: [(method: String, pattern: [String], level: JiraSandboxWriteLevel)] = [
    ("GET", ["myself"], .properties),
    ("GET", ["mypermissions"], .properties),
    ("GET", ["issue", "*"], .properties),
    ("GET", ["search"], .properties),
    ("GET", ["search", "jql"], .properties),
    ("GET", ["issue", "*", "properties"], .properties),
    ("GET", ["issue", "*", "properties", "*"], .properties),
    ("PUT", ["issue", "*", "properties", "testbridge.runs"], .properties),
    ("GET", ["issue", "*", "remotelink"], .links),
    ("GET", ["issue", "*", "remotelink", "*"], .links),
    ("POST", ["issue", "*", "remotelink"], .links),
    ("GET", ["issue", "*", "comment"], .comments),
    ("GET", ["issue", "*", "comment", "*"], .comments),
    ("POST", ["issue", "*", "comment"], .comments),
    ("PUT", ["issue", "*", "comment", "*"], .comments),
  ]

  /// Why a request is outside what testbridge may send at the configured write level, or nil
  /// when it is allowed.
  private func refusalReason(_ request: ServerRequest, version: String?, operation: [String]) -> String? {
    if request.method == "DELETE" { return "testbridge never deletes anything" }
    for name in ["X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"] where request.headers.contains(name) {
      return "method override headers are not allowed"
    }
    guard version != nil else { return "only the platform REST API (/rest/api/2, /rest/api/3) may be used" }
    let rule = Self.allowedOperations.first { rule in
      rule.method == request.method && rule.pattern.count == operation.count
        && zip(rule.pattern, operation).allSatisfy { $0 == "*" ? !$1.isEmpty : $0 == $1 }
    }
    if let rule {
      guard rule.level > writeLevel else { return nil }
      return "it needs write level '\(rule.level.rawValue)' and the sandbox is at '\(writeLevel.rawValue)'"
    }
    switch (request.method, operation.first, operation.count) {
    case ("PUT", "issue", 2): return "issue fields are never edited"
    case ("POST", "issue", 1): return "issues are never created"
    case ("POST", "issue", 2) where operation.last == "bulk": return "issues are never created"
    case (_, "issue", 3) where operation[2] == "transitions": return "issues are never transitioned"
    case ("PUT", "issue", 4) where operation[2] == "properties":
      return "the only property testbridge writes is testbridge.runs; other apps' properties are never written"
    default: return "not one of the operations testbridge uses"
    }
  }

  private func route(_ request: ServerRequest, operation: [String], context: Context) -> ServerResponse {
    switch (request.method, operation.count, operation.first) {
    case ("GET", 1, "myself"): return myself(context)
    case ("GET", 1, "mypermissions"): return myPermissions(request, context)
    case ("GET", 1, "search"):
      guard !context.isCloud else {
        return Self.jiraError(
          410, ["The requested API has been removed. Please migrate to the /rest/api/3/search/jql API."])
      }
      return searchByOffset(request, context)
    case ("GET", 2, "search"): return searchByToken(request, context)
    default: break
    }
    // issue/{key}/…
    let key = operation[1]
    guard let index = visibleIssueIndex(key) else {
      return Self.jiraError(404, ["Issue does not exist or you do not have permission to see it."])
    }
    switch (request.method, Array(operation.dropFirst(2))) {
    case ("GET", []): return issue(index, request, context)
    case ("GET", ["properties"]): return propertyKeys(index, context)
    case ("GET", let rest) where rest.count == 2 && rest[0] == "properties": return property(index, key: rest[1])
    case ("PUT", let rest) where rest.count == 2 && rest[0] == "properties":
      return setProperty(index, key: rest[1], request: request)
    case ("GET", ["remotelink"]): return remoteLinks(index, request, context)
    case ("GET", let rest) where rest.count == 2 && rest[0] == "remotelink":
      return remoteLink(index, id: rest[1], context)
    case ("POST", ["remotelink"]): return upsertRemoteLink(index, request, context)
    case ("GET", ["comment"]): return comments(index, request, context)
    case ("GET", let rest) where rest.count == 2 && rest[0] == "comment": return comment(index, id: rest[1], context)
    case ("POST", ["comment"]): return addComment(index, request, context)
    case ("PUT", let rest) where rest.count == 2 && rest[0] == "comment":
      return updateComment(index, id: rest[1], request, context)
    default:
      return Self.jiraError(404, ["No route matches '\(request.method) \(request.path)'."])
    }
  }

  // MARK: - Account

  private func myself(_ context: Context) -> ServerResponse {
    var user: [String: JSONValue] = [
      "self": .string("\(context.base)/myself"),
      "emailAddress": .string(email),
      "displayName": .string("testbridge sandbox"),
      "active": .bool(true),
      "timeZone": .string("UTC"),
    ]
    if context.isCloud {
      user["accountId"] = .string("5b10ac8d82e05b22cc7d4ef5")
      user["accountType"] = .string("atlassian")
    } else {
      user["name"] = .string("testbridge")
      user["key"] = .string("JIRAUSER10000")
    }
    return ServerResponse.json(JSONValue.object(user))
  }

  private func myPermissions(_ request: ServerRequest, _ context: Context) -> ServerResponse {
    let requested = (request.queryValue("permissions") ?? "").split(separator: ",").map {
      $0.trimmingCharacters(in: .whitespaces)
    }.filter { !$0.isEmpty }
    if requested.isEmpty && context.isCloud {
      return Self.jiraError(400, ["The 'permissions' query parameter is required."])
    }
    if let projectKey = request.queryValue("projectKey"), !projects.contains(where: { $0.key == projectKey }) {
      return Self.jiraError(404, ["No project could be found with key '\(projectKey)'."])
    }
    let keys = requested.isEmpty ? Self.allPermissions.sorted() : requested
    var result: [String: JSONValue] = [:]
    for key in keys {
      guard Self.allPermissions.contains(key) || key.allSatisfy({ $0.isUppercase || $0 == "_" }) else {
        return Self.jiraError(400, ["Permission '\(key)' does not exist."])
      }
      result[key] = .object([
        "key": .string(key), "name": .string(key.capitalized.replacingOccurrences(of: "_", with: " ")),
        "type": .string("PROJECT"), "havePermission": .bool(permissions.contains(key)),
      ])
    }
    return ServerResponse.json(JSONValue.object(["permissions": .object(result)]))
  }

  // MARK: - Issues and search

  private func issue(_ index: Int, _ request: ServerRequest, _ context: Context) -> ServerResponse {
    let fields = Self.fieldSelection(request.queryValue("fields"))
    let properties = Self.list(request.queryValue("properties"))
    return ServerResponse.json(issueJSON(issues[index], fields: fields, properties: properties, context: context))
  }

  /// `search/jql`: token paging, `isLast`, no total; issues carry only `id` unless fields are asked for.
  private func searchByToken(_ request: ServerRequest, _ context: Context) -> ServerResponse {
    let jqlText = request.queryValue("jql") ?? ""
    let matches: [IssueRecord]
    switch evaluate(jqlText, requireBounded: true) {
    case .success(let found): matches = found
    case .failure(let error): return error.response
    }
    guard let pageSize = pageSize(request) else {
      return Self.jiraError(400, ["'maxResults' must be a non-negative integer."])
    }
    let fieldsParameter = request.queryValue("fields")
    let fingerprint = Self.fingerprint(jqlText + "\n" + (fieldsParameter ?? ""))
    var offset = 0
    if let token = request.queryValue("nextPageToken"), !token.isEmpty {
      guard let decoded = Self.decodeToken(token), decoded.fingerprint == fingerprint else {
        return Self.jiraError(400, ["The provided next page token is invalid or expired."])
      }
      offset = decoded.offset
    }
    let page = Array(matches.dropFirst(offset).prefix(pageSize))
    let fields = fieldsParameter == nil ? Optional<Set<String>>.some([]) : Self.fieldSelection(fieldsParameter)
    let properties = Self.list(request.queryValue("properties"))
    var reply: [String: JSONValue] = [
      "issues": .array(
        page.map { issue in
          fieldsParameter == nil
            ? JSONValue.object(["id": .string(issue.id)])
            : issueJSON(issue, fields: fields, properties: properties, context: context)
        })
    ]
    let nextOffset = offset + page.count
    let isLast = nextOffset >= matches.count
    reply["isLast"] = .bool(isLast)
    if !isLast {
      // Jira leaves the member out (rather than null) on the last page.
      reply["nextPageToken"] = .string(Self.encodeToken(offset: nextOffset, fingerprint: fingerprint))
    }
    return ServerResponse.json(JSONValue.object(reply))
  }

  /// Data Center `search`: `startAt` paging with `total`.
  private func searchByOffset(_ request: ServerRequest, _ context: Context) -> ServerResponse {
    let matches: [IssueRecord]
    switch evaluate(request.queryValue("jql") ?? "", requireBounded: false) {
    case .success(let found): matches = found
    case .failure(let error): return error.response
    }
    guard let pageSize = pageSize(request) else {
      return Self.jiraError(400, ["'maxResults' must be a non-negative integer."])
    }
    guard let startAt = Int(request.queryValue("startAt") ?? "0"), startAt >= 0 else {
      return Self.jiraError(400, ["'startAt' must be a non-negative integer."])
    }
    let page = Array(matches.dropFirst(startAt).prefix(pageSize))
    let fields = Self.fieldSelection(request.queryValue("fields"))
    let properties = Self.list(request.queryValue("properties"))
    return ServerResponse.json(
      JSONValue.object([
        "expand": .string("names,schema"),
        "startAt": .integer(Int64(startAt)),
        "maxResults": .integer(Int64(pageSize)),
        "total": .integer(Int64(matches.count)),
        "issues": .array(page.map { issueJSON($0, fields: fields, properties: properties, context: context) }),
      ]))
  }

  private struct JQLFailure: Error {
    var response: ServerResponse
  }

  private func evaluate(_ text: String, requireBounded: Bool) -> Result<[IssueRecord], JQLFailure> {
    let query: JiraJQL
    do throws(JiraJQL.ParseError) {
      query = try JiraJQL.parse(text)
    } catch {
      return .failure(JQLFailure(response: Self.jiraError(400, [error.message])))
    }
    if requireBounded && !query.isBounded {
      return .failure(
        JQLFailure(
          response: Self.jiraError(
            400, ["Unbounded JQL queries are not allowed here. Please add a search restriction to your query."])))
    }
    // Values naming things that do not exist are errors, as in Jira.
    for clause in query.clauses {
      for value in clause.values {
        switch clause.field {
        case .project:
          if !projects.contains(where: { $0.key == value.uppercased() || $0.id == value || $0.name == value }) {
            return .failure(
              JQLFailure(response: Self.jiraError(400, ["The value '\(value)' does not exist for the field 'project'."])))
          }
        case .key, .parent, .epicLink, .parentEpic:
          if visibleIssueIndex(value.uppercased()) == nil {
            let field = clause.field == .key ? "key" : clause.field == .parent ? "parent" : "Epic Link"
            return .failure(
              JQLFailure(
                response: Self.jiraError(400, ["An issue with key '\(value)' does not exist for field '\(field)'."])))
          }
        case .sprint:
          if Int(value) == nil {
            return .failure(
              JQLFailure(response: Self.jiraError(400, ["The value '\(value)' does not exist for the field 'sprint'."])))
          }
        case .status:
          break
        }
      }
    }
    guard permissions.contains("BROWSE_PROJECTS") else { return .success([]) }
    var found = sortedIssues().filter { issue in
      query.clauses.allSatisfy { clause in clause.values.contains { matches(issue, clause.field, $0) } }
    }
    if query.descending { found.reverse() }
    return .success(found)
  }

  private func matches(_ issue: IssueRecord, _ field: JiraJQL.Field, _ value: String) -> Bool {
    let upper = value.uppercased()
    switch field {
    case .project:
      return issue.project == upper || projects.contains { $0.key == issue.project && ($0.id == value || $0.name == value) }
    case .key: return issue.key == upper || issue.id == value
    case .parent: return issue.parent == upper
    case .epicLink: return issue.epic == upper
    case .parentEpic:
      if issue.key == upper || issue.epic == upper || issue.parent == upper { return true }
      guard let parent = issue.parent, let record = issues.first(where: { $0.key == parent }) else { return false }
      return record.epic == upper || record.parent == upper
    case .sprint: return Int(value).map { issue.sprints.contains($0) } ?? false
    case .status: return issue.status.lowercased() == value.lowercased()
    }
  }

  private func pageSize(_ request: ServerRequest) -> Int? {
    guard let text = request.queryValue("maxResults") else { return maxResults }
    guard let value = Int(text), value >= 0 else { return nil }
    return min(max(value, 1), maxResults)
  }

  /// The issue as Jira shows it; `fields` nil means all of them.
  private func issueJSON(_ issue: IssueRecord, fields: Set<String>?, properties: [String], context: Context) -> JSONValue {
    let project = projects.first { $0.key == issue.project }
    var all: [String: JSONValue] = [
      "summary": .string(issue.summary),
      "status": .object([
        "name": .string(issue.status),
        "statusCategory": .object(["key": .string(Self.statusCategory(issue.status))]),
      ]),
      "project": .object([
        "id": .string(project?.id ?? ""), "key": .string(issue.project), "name": .string(project?.name ?? issue.project),
      ]),
      "issuetype": .object(["name": .string(issue.type)]),
    ]
    if let parent = issue.parent {
      let parentID = issues.first { $0.key == parent }?.id ?? ""
      all["parent"] = .object(["id": .string(parentID), "key": .string(parent)])
    }
    if let epic = issue.epic { all["customfield_10014"] = .string(epic) }
    if !issue.sprints.isEmpty {
      all["customfield_10020"] = .array(
        issue.sprints.map { .object(["id": .integer(Int64($0)), "name": .string("Sprint \($0)")]) })
    }
    var shown: [String: JSONValue] = [:]
    if let fields {
      for name in fields { if let value = all[name] { shown[name] = value } }
    } else {
      shown = all
    }
    var object: [String: JSONValue] = [
      "id": .string(issue.id),
      "key": .string(issue.key),
      "self": .string("\(context.base)/issue/\(issue.id)"),
      "fields": .object(shown),
    ]
    let inline = properties.compactMap { name in issue.properties[name].map { (name, $0) } }
    if !properties.isEmpty {
      object["properties"] = .object(Dictionary(inline, uniquingKeysWith: { first, _ in first }))
    }
    return .object(object)
  }

  // MARK: - Properties

  private func propertyKeys(_ index: Int, _ context: Context) -> ServerResponse {
    let issue = issues[index]
    let keys = issue.properties.keys.sorted().map { name -> JSONValue in
      .object(["key": .string(name), "self": .string("\(context.base)/issue/\(issue.id)/properties/\(name)")])
    }
    return ServerResponse.json(JSONValue.object(["keys": .array(keys)]))
  }

  private func property(_ index: Int, key: String) -> ServerResponse {
    guard let value = issues[index].properties[key] else {
      return Self.jiraError(404, ["The property with key '\(key)' does not exist."])
    }
    return ServerResponse.json(JSONValue.object(["key": .string(key), "value": value]))
  }

  private func setProperty(_ index: Int, key: String, request: ServerRequest) -> ServerResponse {
    guard permissions.contains("EDIT_ISSUES") else {
      return Self.jiraError(403, ["You do not have permission to edit issue '\(issues[index].key)'."])
    }
    if let rejection = Self.requireJSONContentType(request) { return rejection }
    guard key.count <= 255 else {
      return Self.jiraError(400, ["The property key cannot be longer than 255 characters."])
    }
    let text = String(decoding: request.body, as: UTF8.self)
    guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
      return Self.jiraError(400, ["The property value cannot be empty."])
    }
    guard text.count <= Self.maxPropertyCharacters else {
      return Self.jiraError(
        400, ["The property value is too long. The maximum length is \(Self.maxPropertyCharacters) characters."])
    }
    guard let value = JSONValue.parse(request.body) else {
      return Self.jiraError(400, ["The property value must be valid JSON."])
    }
    let existed = issues[index].properties[key] != nil
    issues[index].properties[key] = value
    issues[index].propertyWrites += 1
    return ServerResponse(status: existed ? 200 : 201)
  }

  // MARK: - Remote links

  private func remoteLinks(_ index: Int, _ request: ServerRequest, _ context: Context) -> ServerResponse {
    guard permissions.contains("BROWSE_PROJECTS") else {
      return Self.jiraError(404, ["Issue does not exist or you do not have permission to see it."])
    }
    let issue = issues[index]
    if let globalID = request.queryValue("globalId") {
      guard let link = issue.remoteLinks.first(where: { $0.globalID == globalID }) else {
        return Self.jiraError(404, ["No remote link with global id '\(globalID)' exists on issue \(issue.key)."])
      }
      return ServerResponse.json(linkJSON(link, issue: issue, context: context))
    }
    return ServerResponse.json(JSONValue.array(issue.remoteLinks.map { linkJSON($0, issue: issue, context: context) }))
  }

  private func remoteLink(_ index: Int, id: String, _ context: Context) -> ServerResponse {
    let issue = issues[index]
    guard let link = issue.remoteLinks.first(where: { String($0.id) == id }) else {
      return Self.jiraError(404, ["No remote link with id '\(id)' exists on issue \(issue.key)."])
    }
    return ServerResponse.json(linkJSON(link, issue: issue, context: context))
  }

  private func upsertRemoteLink(_ index: Int, _ request: ServerRequest, _ context: Context) -> ServerResponse {
    guard permissions.contains("LINK_ISSUES") else {
      return Self.jiraError(403, ["You do not have permission to link issues."])
    }
    if let rejection = Self.requireJSONContentType(request) { return rejection }
    guard let body = JSONValue.parse(request.body)?.objectValue else {
      return Self.jiraError(400, ["The request body must be a JSON object."])
    }
    var errors: [String: String] = [:]
    let object = body["object"]?.objectValue
    if body["object"] == nil || body["object"]?.isNull == true {
      errors["object"] = "'object' is required."
    } else if object == nil {
      errors["object"] = "'object' must be an object."
    } else {
      if object?["url"]?.stringValue?.isEmpty ?? true { errors["url"] = "'url' is required." }
      if object?["title"]?.stringValue?.isEmpty ?? true { errors["title"] = "'title' is required." }
    }
    var globalID: String?
    if let value = body["globalId"], !value.isNull {
      guard let text = value.stringValue else {
        return Self.jiraError(400, [], errors: ["globalId": "'globalId' must be a string."])
      }
      if text.count > 255 { errors["globalId"] = "The global id cannot be longer than 255 characters." }
      globalID = text.isEmpty ? nil : text
    }
    if let relationship = body["relationship"], !relationship.isNull, relationship.stringValue == nil {
      errors["relationship"] = "'relationship' must be a string."
    }
    if let application = body["application"], !application.isNull, application.objectValue == nil {
      errors["application"] = "'application' must be an object."
    }
    guard errors.isEmpty, let object else { return Self.jiraError(400, [], errors: errors) }

    let application = body["application"].flatMap { $0.isNull ? nil : $0 }
    let relationship = body["relationship"]?.stringValue
    if let globalID, let position = issues[index].remoteLinks.firstIndex(where: { $0.globalID == globalID }) {
      // An update replaces the whole link: fields missing from the request become null.
      issues[index].remoteLinks[position].application = application
      issues[index].remoteLinks[position].relationship = relationship
      issues[index].remoteLinks[position].object = .object(object)
      issues[index].remoteLinks[position].updateCount += 1
      let id = issues[index].remoteLinks[position].id
      return ServerResponse.json(linkReply(id: id, issue: issues[index], context: context), status: 200)
    }
    guard let id = Int(newID()) else { return Self.jiraError(500, ["id overflow"]) }
    issues[index].remoteLinks.append(
      JiraSandboxRemoteLink(
        id: id, globalID: globalID, application: application, relationship: relationship, object: .object(object),
        updateCount: 0))
    return ServerResponse.json(linkReply(id: id, issue: issues[index], context: context), status: 201)
  }

  private func linkReply(id: Int, issue: IssueRecord, context: Context) -> JSONValue {
    .object(["id": .integer(Int64(id)), "self": .string("\(context.base)/issue/\(issue.key)/remotelink/\(id)")])
  }

  private func linkJSON(_ link: JiraSandboxRemoteLink, issue: IssueRecord, context: Context) -> JSONValue {
    var object: [String: JSONValue] = [
      "id": .integer(Int64(link.id)),
      "self": .string("\(context.base)/issue/\(issue.key)/remotelink/\(link.id)"),
      "object": link.object,
    ]
    if let globalID = link.globalID { object["globalId"] = .string(globalID) }
    if let application = link.application { object["application"] = application }
    if let relationship = link.relationship { object["relationship"] = .string(relationship) }
    return .object(object)
  }

  // MARK: - Comments

  private func comments(_ index: Int, _ request: ServerRequest, _ context: Context) -> ServerResponse {
    guard let pageSize = pageSize(request) else {
      return Self.jiraError(400, ["'maxResults' must be a non-negative integer."])
    }
    guard let startAt = Int(request.queryValue("startAt") ?? "0"), startAt >= 0 else {
      return Self.jiraError(400, ["'startAt' must be a non-negative integer."])
    }
    let all = issues[index].comments
    let page = all.dropFirst(startAt).prefix(pageSize)
    return ServerResponse.json(
      JSONValue.object([
        "startAt": .integer(Int64(startAt)),
        "maxResults": .integer(Int64(pageSize)),
        "total": .integer(Int64(all.count)),
        "comments": .array(page.map { commentJSON($0, issue: issues[index], context: context) }),
      ]))
  }

  private func comment(_ index: Int, id: String, _ context: Context) -> ServerResponse {
    guard let comment = issues[index].comments.first(where: { $0.id == id }) else {
      return Self.jiraError(404, ["Can not find a comment for key: \(id)."])
    }
    return ServerResponse.json(commentJSON(comment, issue: issues[index], context: context))
  }

  private func addComment(_ index: Int, _ request: ServerRequest, _ context: Context) -> ServerResponse {
    guard permissions.contains("ADD_COMMENTS") else {
      return Self.jiraError(403, ["You do not have the permission to comment on this issue."])
    }
    let body: JSONValue
    switch commentBody(request, context) {
    case .success(let value): body = value
    case .failure(let rejection): return rejection.response
    }
    let now = Self.timestamp()
    let comment = JiraSandboxComment(
      id: newID(), format: context.isCloud ? "adf" : "wiki", body: body, created: now, updated: now, updateCount: 0)
    issues[index].comments.append(comment)
    return ServerResponse.json(commentJSON(comment, issue: issues[index], context: context), status: 201)
  }

  private func updateComment(_ index: Int, id: String, _ request: ServerRequest, _ context: Context) -> ServerResponse {
    guard permissions.contains("ADD_COMMENTS") else {
      return Self.jiraError(403, ["You do not have the permission to edit this comment."])
    }
    guard let position = issues[index].comments.firstIndex(where: { $0.id == id }) else {
      return Self.jiraError(404, ["Can not find a comment for key: \(id)."])
    }
    let body: JSONValue
    switch commentBody(request, context) {
    case .success(let value): body = value
    case .failure(let rejection): return rejection.response
    }
    issues[index].comments[position].body = body
    issues[index].comments[position].format = context.isCloud ? "adf" : "wiki"
    issues[index].comments[position].updated = Self.timestamp()
    issues[index].comments[position].updateCount += 1
    return ServerResponse.json(commentJSON(issues[index].comments[position], issue: issues[index], context: context))
  }

  private struct Rejection: Error {
    var response: ServerResponse
  }

  /// The `body` member: an ADF document on v3, a non-empty string on v2.
  private func commentBody(_ request: ServerRequest, _ context: Context) -> Result<JSONValue, Rejection> {
    if let rejection = Self.requireJSONContentType(request) { return .failure(Rejection(response: rejection)) }
    guard let object = JSONValue.parse(request.body)?.objectValue else {
      return .failure(Rejection(response: Self.jiraError(400, ["The request body must be a JSON object."])))
    }
    guard let body = object["body"], !body.isNull else {
      return .failure(Rejection(response: Self.jiraError(400, [], errors: ["comment": "Comment body can not be empty!"])))
    }
    if context.isCloud {
      guard let problem = Self.adfProblem(body) else { return .success(body) }
      return .failure(Rejection(response: Self.jiraError(400, ["Comment body is not valid ADF: \(problem)."])))
    }
    guard let text = body.stringValue else {
      return .failure(
        Rejection(
          response: Self.jiraError(400, [], errors: ["comment": "REST v2 takes the comment body as a wiki-markup string."])))
    }
    guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
      return .failure(Rejection(response: Self.jiraError(400, [], errors: ["comment": "Comment body can not be empty!"])))
    }
    return .success(body)
  }

  /// What is wrong with an ADF document, or nil: a `doc` of version 1 whose nodes all have a
  /// `type`, and whose text nodes have non-empty `text`.
  private static func adfProblem(_ value: JSONValue) -> String? {
    guard let document = value.objectValue else { return "the body must be a document object, got \(value.kindDescription)" }
    guard document["type"]?.stringValue == "doc" else { return "the root node must have type 'doc'" }
    guard document["version"]?.intValue == 1 else { return "the document version must be 1" }
    guard let content = document["content"]?.arrayValue else { return "the document needs a 'content' array" }
    func check(_ node: JSONValue, path: String) -> String? {
      guard let object = node.objectValue, let type = object["type"]?.stringValue else {
        return "\(path) has no 'type'"
      }
      if type == "text" && (object["text"]?.stringValue ?? "").isEmpty { return "\(path) is a text node without text" }
      if let children = object["content"] {
        guard let list = children.arrayValue else { return "\(path).content must be an array" }
        for (offset, child) in list.enumerated() {
          if let problem = check(child, path: "\(path).content[\(offset)]") { return problem }
        }
      }
      return nil
    }
    for (offset, node) in content.enumerated() {
      if let problem = check(node, path: "content[\(offset)]") { return problem }
    }
    return nil
  }

  /// A comment as Jira shows it; a body stored in the other format is converted the simple way.
  private func commentJSON(_ comment: JiraSandboxComment, issue: IssueRecord, context: Context) -> JSONValue {
    let body: JSONValue
    switch (context.isCloud, comment.format) {
    case (true, "wiki"):
      body = .object([
        "type": .string("doc"), "version": .integer(1),
        "content": .array([
          .object([
            "type": .string("paragraph"),
            "content": .array([.object(["type": .string("text"), "text": comment.body])]),
          ])
        ]),
      ])
    case (false, "adf"): body = .string(Self.adfText(comment.body))
    default: body = comment.body
    }
    let author: JSONValue = .object(["displayName": .string("testbridge sandbox"), "active": .bool(true)])
    return .object([
      "id": .string(comment.id),
      "self": .string("\(context.base)/issue/\(issue.id)/comment/\(comment.id)"),
      "body": body,
      "author": author,
      "updateAuthor": author,
      "created": .string(comment.created),
      "updated": .string(comment.updated),
    ])
  }

  private static func adfText(_ node: JSONValue) -> String {
    var text = node["text"]?.stringValue ?? ""
    for child in node["content"]?.arrayValue ?? [] { text += adfText(child) }
    if node["type"]?.stringValue == "paragraph" { text += "\n" }
    return text
  }

  // MARK: - Control routes

  private func control(_ request: ServerRequest, segments: [String]) -> ServerResponse {
    switch (request.method, segments) {
    case ("GET", ["state"]):
      return ServerResponse.json(state())
    case ("POST", ["reset"]):
      reset()
      return ServerResponse.json(JSONValue.object(["status": .string("reset")]))
    case ("POST", ["seed"]):
      return seed(request)
    case ("GET", ["faults"]):
      return ServerResponse.json(faults.filter { $0.times > 0 })
    case ("POST", ["faults"]):
      return installFaults(request)
    case ("DELETE", ["faults"]):
      faults = []
      return ServerResponse.json(JSONValue.object(["rules": .integer(0)]))
    case ("POST", ["write-level"]):
      guard let text = JSONValue.parse(request.body)?.objectValue?["level"]?.stringValue,
        let level = JiraSandboxWriteLevel(rawValue: text)
      else {
        return TestomatioEmulator.message(
          "write-level body must be {\"level\": \"properties\"|\"links\"|\"comments\"}", status: 422)
      }
      writeLevel = level
      return ServerResponse.json(JSONValue.object(["level": .string(level.rawValue)]))
    case ("POST", ["rate-limits"]):
      guard let enabled = JSONValue.parse(request.body)?.objectValue?["enabled"], case .bool(let value) = enabled else {
        return TestomatioEmulator.message("rate-limits body must be {\"enabled\": true|false}", status: 422)
      }
      rateLimiter.enabled = value
      return ServerResponse.json(JSONValue.object(["enabled": .bool(value)]))
    default:
      return TestomatioEmulator.message("no sandbox route matches '\(request.method) \(request.path)'", status: 404)
    }
  }

  /// `POST /_sandbox/jira/seed`:
  /// `{"projects": [{"key": "ABC", "name": "Alpha"}],
  ///   "issues": [{"key": "ABC-1", "summary": "…", "status": "To Do", "type": "Story",
  ///               "parent": "ABC-9", "epic": "ABC-9", "sprints": [7], "properties": {"k": …}}],
  ///   "permissions": ["BROWSE_PROJECTS", …], "max_results": 50}`.
  /// Every section is optional; the whole body is checked before anything is stored.
  private func seed(_ request: ServerRequest) -> ServerResponse {
    guard let object = JSONValue.parse(request.body)?.objectValue else {
      return TestomatioEmulator.message("seed body must be a JSON object", status: 400)
    }
    let sections: Set<String> = ["projects", "issues", "permissions", "max_results"]
    if let unknown = object.keys.sorted().first(where: { !sections.contains($0) }) {
      return TestomatioEmulator.message(
        "'\(unknown)' is not a seed section (expected issues, max_results, permissions, projects)", status: 422)
    }
    struct IssueSeed {
      var key: String
      var summary: String?
      var status: String
      var type: String
      var parent: String?
      var epic: String?
      var sprints: [Int]
      var properties: [String: JSONValue]
    }
    var projectSeeds: [(key: String, name: String?)] = []
    var issueSeeds: [IssueSeed] = []
    var granted: Set<String>?
    var pageSize: Int?
    do throws(ValidationFailure) {
      for (offset, item) in try Self.array(object["projects"], field: "projects").enumerated() {
        let field = "projects[\(offset)]"
        guard let project = item.objectValue else { throw ValidationFailure(field: field, problem: "must be an object") }
        let key = try Self.string(project["key"], field: "\(field).key", required: true) ?? ""
        guard key.first?.isUppercase == true, key.allSatisfy({ $0.isUppercase || $0.isNumber || $0 == "_" }) else {
          throw ValidationFailure(field: "\(field).key", problem: "must be a project key such as ABC")
        }
        projectSeeds.append((key, try Self.string(project["name"], field: "\(field).name")))
      }
      for (offset, item) in try Self.array(object["issues"], field: "issues").enumerated() {
        let field = "issues[\(offset)]"
        guard let issue = item.objectValue else { throw ValidationFailure(field: field, problem: "must be an object") }
        let known: Set<String> = ["key", "summary", "status", "type", "parent", "epic", "sprints", "properties"]
        if let unknown = issue.keys.sorted().first(where: { !known.contains($0) }) {
          throw ValidationFailure(field: "\(field).\(unknown)", problem: "is not an issue seed field")
        }
        let key = try Self.string(issue["key"], field: "\(field).key", required: true) ?? ""
        guard Self.projectKey(of: key) != nil else {
          throw ValidationFailure(field: "\(field).key", problem: "must be an issue key such as ABC-1, got '\(key)'")
        }
        var sprints: [Int] = []
        for (position, sprint) in try Self.array(issue["sprints"], field: "\(field).sprints").enumerated() {
          guard let id = sprint.intValue else {
            throw ValidationFailure(field: "\(field).sprints[\(position)]", problem: "must be an integer")
          }
          sprints.append(id)
        }
        var properties: [String: JSONValue] = [:]
        if let value = issue["properties"], !value.isNull {
          guard let map = value.objectValue else {
            throw ValidationFailure(field: "\(field).properties", problem: "must be an object of property key to value")
          }
          for (name, property) in map {
            guard property.jsonText.count <= Self.maxPropertyCharacters else {
              throw ValidationFailure(
                field: "\(field).properties.\(name)", problem: "is over \(Self.maxPropertyCharacters) characters")
            }
            properties[name] = property
          }
        }
        issueSeeds.append(
          IssueSeed(
            key: key, summary: try Self.string(issue["summary"], field: "\(field).summary"),
            status: try Self.string(issue["status"], field: "\(field).status") ?? "To Do",
            type: try Self.string(issue["type"], field: "\(field).type") ?? "Story",
            parent: try Self.string(issue["parent"], field: "\(field).parent"),
            epic: try Self.string(issue["epic"], field: "\(field).epic"), sprints: sprints, properties: properties))
      }
      if let value = object["permissions"], !value.isNull {
        guard let list = value.arrayValue?.compactMap(\.stringValue), list.count == value.arrayValue?.count else {
          throw ValidationFailure(field: "permissions", problem: "must be an array of permission keys")
        }
        if let unknown = list.first(where: { !Self.allPermissions.contains($0) }) {
          throw ValidationFailure(
            field: "permissions",
            problem: "'\(unknown)' is not one of \(Self.allPermissions.sorted().joined(separator: ", "))")
        }
        granted = Set(list)
      }
      if let value = object["max_results"], !value.isNull {
        guard let number = value.intValue, (1...1000).contains(number) else {
          throw ValidationFailure(field: "max_results", problem: "must be an integer within 1...1000")
        }
        pageSize = number
      }
    } catch {
      return TestomatioEmulator.message(error.message, status: 422)
    }
    for project in projectSeeds { seedProject(key: project.key, name: project.name) }
    for issue in issueSeeds {
      seedIssue(
        key: issue.key, summary: issue.summary, status: issue.status, type: issue.type, parent: issue.parent,
        epic: issue.epic, sprints: issue.sprints, properties: issue.properties)
    }
    if let granted { permissions = granted }
    if let pageSize { maxResults = pageSize }
    return ServerResponse.json(
      JSONValue.object([
        "projects": .integer(Int64(projects.count)), "issues": .integer(Int64(issues.count)),
      ]))
  }

  private func installFaults(_ request: ServerRequest) -> ServerResponse {
    switch SandboxFault.parseRules(request.body) {
    case .failure(let failure):
      return TestomatioEmulator.message(failure.message, status: failure.status)
    case .success(let rules):
      faults = rules
      return ServerResponse.json(JSONValue.object(["rules": .integer(Int64(rules.count))]))
    }
  }

  // MARK: - Helpers

  private func visibleIssueIndex(_ key: String) -> Int? {
    guard permissions.contains("BROWSE_PROJECTS") else { return nil }
    return issues.firstIndex { $0.key == key || $0.id == key }
  }

  private func sortedIssues() -> [IssueRecord] {
    issues.sorted { lhs, rhs in
      if lhs.project != rhs.project { return lhs.project < rhs.project }
      return lhs.number < rhs.number
    }
  }

  private func newID() -> String {
    nextID += 1
    return String(nextID)
  }

  /// Which credentials a request carries: `basic` or `bearer` when they are the sandbox's,
  /// `invalid` when they are not, `none` without an `Authorization` header.
  private func authKind(_ request: ServerRequest) -> String {
    guard let header = request.headers["Authorization"] else { return "none" }
    let parts = header.split(separator: " ", maxSplits: 1).map(String.init)
    guard parts.count == 2 else { return "invalid" }
    switch parts[0].lowercased() {
    case "basic":
      guard let data = Data(base64Encoded: parts[1]), let text = String(data: data, encoding: .utf8) else {
        return "invalid"
      }
      return text == "\(email):\(apiToken)" ? "basic" : "invalid"
    case "bearer":
      return parts[1] == pat ? "bearer" : "invalid"
    default:
      return "invalid"
    }
  }

  private static let maxLoggedRequests = 10_000

  private func log(_ request: ServerRequest, auth: String, status: Int, fault: Bool, refused: Bool) {
    if requestLog.count >= Self.maxLoggedRequests {
      requestLog.removeFirst(requestLog.count - Self.maxLoggedRequests + 1)
    }
    let secrets = [apiToken, pat]
    let query = TestomatioEmulator.redactedQuery(request.query, apiKey: apiToken).map { text in
      secrets.reduce(text) { $0.replacingOccurrences(of: $1, with: "[REDACTED]") }
    }
    requestLog.append(
      JiraSandboxRequestRecord(
        method: request.method, path: request.path, query: query, auth: auth, status: status, fault: fault,
        refused: refused))
  }

  private func baseURL(for request: ServerRequest) -> String {
    if let host = request.headers["Host"], !host.isEmpty,
      host.allSatisfy({ $0.isLetter || $0.isNumber || ".-:[]".contains($0) })
    {
      return "http://\(host)"
    }
    return "http://127.0.0.1"
  }

  static func jiraError(
    _ status: Int, _ messages: [String], errors: [String: String] = [:], headers: HTTPHeaders = HTTPHeaders()
  ) -> ServerResponse {
    ServerResponse.json(
      JSONValue.object([
        "errorMessages": .array(messages.map(JSONValue.string)),
        "errors": .object(errors.mapValues(JSONValue.string)),
      ]), status: status, headers: headers)
  }

  private static func requireJSONContentType(_ request: ServerRequest) -> ServerResponse? {
    guard let type = request.headers["Content-Type"], type.lowercased().contains("json") else {
      return jiraError(415, ["Content-Type must be application/json."])
    }
    return nil
  }

  /// `ABC` for `ABC-12`; nil when `key` is not an issue key.
  static func projectKey(of key: String) -> String? {
    guard let dash = key.lastIndex(of: "-") else { return nil }
    let project = key[..<dash]
    let number = key[key.index(after: dash)...]
    guard project.first?.isUppercase == true, project.allSatisfy({ $0.isUppercase || $0.isNumber || $0 == "_" }),
      !number.isEmpty, number.allSatisfy(\.isNumber), number.first != "0"
    else { return nil }
    return String(project)
  }

  private static func statusCategory(_ status: String) -> String {
    switch status.lowercased() {
    case "done", "closed", "resolved": "done"
    case "to do", "open", "backlog": "new"
    default: "indeterminate"
    }
  }

  /// Fields to show: nil for all (`*all`, `*navigable` or no parameter).
  private static func fieldSelection(_ parameter: String?) -> Set<String>? {
    guard let parameter else { return nil }
    let names = list(parameter)
    if names.contains("*all") || names.contains("*navigable") { return nil }
    return Set(names)
  }

  private static func list(_ parameter: String?) -> [String] {
    (parameter ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
  }

  private static func fingerprint(_ text: String) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in text.utf8 {
      hash ^= UInt64(byte)
      hash = hash &* 0x0000_0100_0000_01b3
    }
    return String(hash, radix: 16)
  }

  private static func encodeToken(offset: Int, fingerprint: String) -> String {
    Data("sandbox:\(offset):\(fingerprint)".utf8).base64EncodedString()
  }

  private static func decodeToken(_ token: String) -> (offset: Int, fingerprint: String)? {
    guard let data = Data(base64Encoded: token), let text = String(data: data, encoding: .utf8) else { return nil }
    let parts = text.split(separator: ":").map(String.init)
    guard parts.count == 3, parts[0] == "sandbox", let offset = Int(parts[1]), offset >= 0 else { return nil }
    return (offset, parts[2])
  }

  private static func timestamp() -> String {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss.SSSZ"
    return formatter.string(from: Date())
  }

  private static func array(_ value: JSONValue?, field: String) throws(ValidationFailure) -> [JSONValue] {
    guard let value, !value.isNull else { return [] }
    guard let list = value.arrayValue else {
      throw ValidationFailure(field: field, problem: "must be an array, got \(value.kindDescription)")
    }
    return list
  }

  private static func string(_ value: JSONValue?, field: String, required: Bool = false) throws(ValidationFailure)
    -> String?
  {
    guard let value, !value.isNull else {
      if required { throw ValidationFailure(field: field, problem: "is required") }
      return nil
    }
    guard let text = value.stringValue else {
      throw ValidationFailure(field: field, problem: "must be a string, got \(value.kindDescription)")
    }
    return text
  }
}

/// The emulator's mutable view of one issue.
private struct IssueRecord: Sendable {
  var id: String
  var key: String
  var summary: String
  var status: String
  var type: String
  var project: String
  var parent: String?
  var epic: String?
  var sprints: [Int]
  var properties: [String: JSONValue]
  var propertyWrites = 0
  var remoteLinks: [JiraSandboxRemoteLink] = []
  var comments: [JiraSandboxComment] = []

  init(
    id: String, key: String, summary: String, status: String, type: String, project: String, parent: String?,
    epic: String?, sprints: [Int], properties: [String: JSONValue]
  ) {
    self.id = id
    self.key = key
    self.summary = summary
    self.status = status
    self.type = type
    self.project = project
    self.parent = parent
    self.epic = epic
    self.sprints = sprints
    self.properties = properties
  }

  /// The issue number (`12` of `ABC-12`), for ordering.
  var number: Int {
    key.split(separator: "-").last.flatMap { Int($0) } ?? 0
  }

  var snapshot: JiraSandboxIssue {
    JiraSandboxIssue(
      id: id, key: key, summary: summary, status: status, type: type, project: project, parent: parent, epic: epic,
      sprints: sprints, properties: properties, propertyWrites: propertyWrites, remoteLinks: remoteLinks,
      comments: comments)
  }
}
