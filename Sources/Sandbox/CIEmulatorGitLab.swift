import BridgeCore
import Foundation
import HTTPServer

/// A project the GitLab emulator knows.
public struct GitLabProject: Sendable, Hashable {
  public var id: Int
  /// The full path, e.g. `group/tests`.
  public var path: String

  public init(id: Int, path: String) {
    self.id = id
    self.path = path
  }
}

/// A local stand-in for GitLab's pipeline trigger API (contract: Jira §7.6).
///
/// Route: `POST /api/v4/projects/{id or URL-encoded path}/trigger/pipeline` with form fields
/// (or a JSON object) `token`, `ref` and `variables[KEY]`; the token may also come in the
/// query. Answers 201 with `{id, iid, project_id, ref, status, source, web_url}`.
///
/// Refusals: 401 for a missing or wrong trigger token, 404 for an unknown project, 400 for an
/// unreadable body or an unknown ref, 422 for a missing `ref` or a non-string variable.
/// Accepted triggers are recorded without the token.
public actor GitLabEmulator {
  /// The pipeline trigger token every request must carry.
  public let triggerToken: String
  public let projects: [GitLabProject]
  /// Branches and tags that exist.
  public let refs: Set<String>
  private var baseURL: String
  private var nextPipelineID = 1000
  private var core = CIEmulatorCore()

  public init(
    triggerToken: String = "glptt-sandbox-token",
    projects: [GitLabProject] = [GitLabProject(id: 42, path: "sandbox/tests")],
    refs: Set<String> = ["main"],
    baseURL: String = "http://127.0.0.1"
  ) {
    self.triggerToken = triggerToken
    self.projects = projects
    self.refs = refs
    self.baseURL = baseURL
  }

  /// Sets the URL prefix of pipeline `web_url`s.
  public func setBaseURL(_ url: String) {
    var trimmed = Substring(url)
    while trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
    baseURL = String(trimmed)
  }

  /// A snapshot of what was received.
  public func state() -> CIEmulatorState { core.state }

  /// Accepted triggers so far.
  public func dispatches() -> [CIDispatchRecord] { core.dispatches }

  /// Forgets triggers, requests and faults.
  public func reset() { core = CIEmulatorCore() }

  /// Replaces the fault rules (matched by method and path prefix, in order).
  public func setFaults(_ rules: [SandboxFault]) { core.faults = rules }

  /// Answers one API request.
  public func handle(_ request: ServerRequest) async -> ServerResponse {
    let credentials = self.credentials(request)
    let authPresent = credentials.token != nil
    // A rule's cut (`cut_body_after`) applies to whatever is answered.
    let rule = core.takeFault(for: request)
    if let rule, let answer = await CIEmulatorCore.answer(for: rule, reply: Self.message) {
      core.log(request, status: answer.dropsConnection ? 0 : answer.status, fault: true, authPresent: authPresent)
      return rule.shape(answer)
    }
    let response = route(request, fields: credentials.fields, token: credentials.token)
    core.log(request, status: response.status, fault: rule != nil, authPresent: authPresent)
    return rule?.shape(response) ?? response
  }

  /// The parsed body (nil when unreadable) and the token from the body or the query.
  private func credentials(_ request: ServerRequest) -> (fields: Fields?, token: String?) {
    let fields = Self.fields(request)
    let token = fields?.token ?? request.queryValue("token")
    return (fields, token.flatMap { $0.isEmpty ? nil : $0 })
  }

  private struct Fields {
    var token: String?
    var ref: String?
    var variables: [String: String] = [:]
    /// A problem found while reading, answered 422 after authentication.
    var problem: String?
  }

  private static func fields(_ request: ServerRequest) -> Fields? {
    let type = request.headers["Content-Type"]?.lowercased() ?? ""
    var result = Fields()
    if type.contains("json") {
      guard let value = JSONValue.parse(request.body), let object = value.objectValue else { return nil }
      result.token = object["token"]?.stringValue
      result.ref = object["ref"]?.stringValue
      if let ref = object["ref"], !ref.isNull, ref.stringValue == nil { result.problem = "ref is invalid" }
      if let variables = object["variables"], !variables.isNull {
        guard let members = variables.objectValue else {
          result.problem = "variables is invalid"
          return result
        }
        for (name, member) in members {
          guard let text = member.stringValue else {
            result.problem = "variables[\(name)] is invalid"
            continue
          }
          result.variables[name] = text
        }
      }
      return result
    }
    guard let pairs = CIRequestPath.formFields(request.body) else { return nil }
    for (name, value) in pairs {
      if name == "token" {
        result.token = value
      } else if name == "ref" {
        result.ref = value
      } else if name.hasPrefix("variables["), name.hasSuffix("]") {
        let key = String(name.dropFirst("variables[".count).dropLast())
        guard !key.isEmpty else {
          result.problem = "variables is invalid"
          continue
        }
        result.variables[key] = value
      }
    }
    return result
  }

  private func route(_ request: ServerRequest, fields: Fields?, token: String?) -> ServerResponse {
    guard let segments = CIRequestPath.segments(request.target), segments.count == 6,
      segments[0] == "api", segments[1] == "v4", segments[2] == "projects", segments[4] == "trigger",
      segments[5] == "pipeline"
    else {
      return Self.message("404 Not Found", 404)
    }
    guard request.method == "POST" else { return Self.message("405 Method Not Allowed", 405) }
    guard let token else { return Self.message("401 Unauthorized: token is missing", 401) }
    guard token == triggerToken else { return Self.message("401 Unauthorized", 401) }
    guard let project = projects.first(where: { String($0.id) == segments[3] || $0.path == segments[3] }) else {
      return Self.message("404 Project Not Found", 404)
    }
    guard let fields else { return Self.message("400 Bad request - the body could not be read", 400) }
    if let problem = fields.problem { return Self.message(problem, 422) }
    guard let ref = fields.ref, !ref.isEmpty else { return Self.message("ref is missing", 422) }
    guard refs.contains(ref) else { return Self.message("Reference not found", 400) }

    let pipelineID = nextPipelineID
    nextPipelineID += 1
    let webURL = "\(baseURL)/\(project.path)/-/pipelines/\(pipelineID)"
    core.dispatches.append(
      CIDispatchRecord(
        ci: "gitlab", kind: "pipeline_trigger", path: CIRequestPath.withoutQuery(request.target),
        repository: project.path, workflow: nil, eventType: nil, ref: ref,
        inputs: fields.variables.mapValues { CIEmulatorCore.mask($0, secret: triggerToken) }, authPresent: true,
        pipelineID: pipelineID, webURL: webURL))
    return ServerResponse.json(
      JSONValue.object([
        "id": .integer(Int64(pipelineID)), "iid": .integer(Int64(pipelineID - 999)),
        "project_id": .integer(Int64(project.id)), "ref": .string(ref), "status": .string("created"),
        "source": .string("trigger"), "web_url": .string(webURL),
      ]), status: 201)
  }

  /// GitLab's error shape: `{"message": …}`.
  static func message(_ text: String, _ status: Int, headers: HTTPHeaders = HTTPHeaders()) -> ServerResponse {
    ServerResponse.json(JSONValue.object(["message": .string(text)]), status: status, headers: headers)
  }
}
