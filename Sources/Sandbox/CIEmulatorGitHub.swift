import BridgeCore
import Foundation
import HTTPServer

/// A workflow the GitHub emulator knows: its file name, numeric id and declared inputs.
public struct GitHubWorkflow: Sendable, Hashable {
  /// The file name under `.github/workflows/`, e.g. `testbridge.yml`.
  public var file: String
  public var id: Int
  /// The `workflow_dispatch` inputs the workflow declares; others are refused with 422.
  public var inputs: Set<String>
  /// Inputs that must be sent.
  public var required: Set<String>

  public init(
    file: String, id: Int, inputs: Set<String> = ["run", "grep", "jira", "testomatio_url", "testomatio"],
    required: Set<String> = ["run"]
  ) {
    self.file = file
    self.id = id
    self.inputs = inputs
    self.required = required
  }
}

/// A local stand-in for GitHub's dispatch APIs (contract: Jira §7.4, §7.5).
///
/// Routes:
/// - `POST /repos/{owner}/{repo}/actions/workflows/{file or id}/dispatches` with
///   `{"ref", "inputs"}`: 204.
/// - `POST /repos/{owner}/{repo}/dispatches` with `{"event_type", "client_payload"}`: 204.
///
/// Like GitHub it answers 401 without `Authorization: Bearer <token>` (or `token <token>`) or
/// with a wrong token, 404 for an unknown repository or workflow, 400 for a body that is not
/// a JSON object, and 422 for a missing or wrong field (`ref`, unknown `ref`, undeclared or
/// missing inputs, non-string inputs, more than 10 inputs, `event_type` missing or over 100
/// characters, `client_payload` with more than 10 members). Accepted dispatches are recorded
/// without the token.
public actor GitHubEmulator {
  /// The token every request must carry.
  public let token: String
  /// The repository, `owner/repo`.
  public let repository: String
  public let workflows: [GitHubWorkflow]
  /// Branches and tags that exist.
  public let refs: Set<String>
  private var core = CIEmulatorCore()

  /// The most inputs a `workflow_dispatch` takes (and members of a `client_payload`).
  public static let maxInputs = 10

  public init(
    token: String = "ghs_sandbox_token",
    repository: String = "sandbox/tests",
    workflows: [GitHubWorkflow] = [GitHubWorkflow(file: "testbridge.yml", id: 1001)],
    refs: Set<String> = ["main"]
  ) {
    self.token = token
    self.repository = repository
    self.workflows = workflows
    self.refs = refs
  }

  /// A snapshot of what was received.
  public func state() -> CIEmulatorState { core.state }

  /// Accepted dispatches so far.
  public func dispatches() -> [CIDispatchRecord] { core.dispatches }

  /// Forgets dispatches, requests and faults.
  public func reset() { core = CIEmulatorCore() }

  /// Replaces the fault rules (matched by method and path prefix, in order).
  public func setFaults(_ rules: [SandboxFault]) { core.faults = rules }

  /// Answers one API request.
  public func handle(_ request: ServerRequest) async -> ServerResponse {
    let authPresent = request.headers["Authorization"] != nil
    // A rule's cut (`cut_body_after`) applies to whatever is answered.
    let rule = core.takeFault(for: request)
    if let rule, let answer = await CIEmulatorCore.answer(for: rule, reply: Self.message) {
      core.log(request, status: answer.dropsConnection ? 0 : answer.status, fault: true, authPresent: authPresent)
      return rule.shape(answer)
    }
    let response = route(request, authPresent: authPresent)
    core.log(request, status: response.status, fault: rule != nil, authPresent: authPresent)
    return rule?.shape(response) ?? response
  }

  private func route(_ request: ServerRequest, authPresent: Bool) -> ServerResponse {
    guard let segments = CIRequestPath.segments(request.target), segments.first == "repos", segments.count >= 4 else {
      return Self.message("Not Found", 404)
    }
    let isWorkflow = segments.count == 7 && segments[3] == "actions" && segments[4] == "workflows"
      && segments[6] == "dispatches"
    let isRepository = segments.count == 4 && segments[3] == "dispatches"
    guard isWorkflow || isRepository else { return Self.message("Not Found", 404) }
    guard request.method == "POST" else { return Self.message("Not Found", 404) }

    if let rejection = checkAuthorization(request) { return rejection }
    let slug = "\(segments[1])/\(segments[2])"
    guard slug.lowercased() == repository.lowercased() else { return Self.message("Not Found", 404) }

    guard let body = JSONValue.parse(request.body), let object = body.objectValue else {
      return Self.message("Problems parsing JSON", 400)
    }
    if isWorkflow {
      guard let workflow = workflows.first(where: { $0.file == segments[5] || String($0.id) == segments[5] }) else {
        return Self.message("Not Found", 404)
      }
      return workflowDispatch(request, workflow: workflow, body: object, authPresent: authPresent)
    }
    return repositoryDispatch(request, body: object, authPresent: authPresent)
  }

  private func checkAuthorization(_ request: ServerRequest) -> ServerResponse? {
    guard let header = request.headers["Authorization"] else {
      return Self.message("Requires authentication", 401)
    }
    let parts = header.split(separator: " ", maxSplits: 1)
    guard parts.count == 2, ["bearer", "token"].contains(parts[0].lowercased()),
      parts[1].trimmingCharacters(in: .whitespaces) == token
    else {
      return Self.message("Bad credentials", 401)
    }
    return nil
  }

  private func workflowDispatch(
    _ request: ServerRequest, workflow: GitHubWorkflow, body: [String: JSONValue], authPresent: Bool
  ) -> ServerResponse {
    guard let refValue = body["ref"], !refValue.isNull else {
      return Self.message("Invalid request.\n\n\"ref\" wasn't supplied.", 422)
    }
    guard let ref = refValue.stringValue else {
      return Self.message("Invalid request.\n\nFor 'properties/ref', \(refValue.kindDescription) is not a string.", 422)
    }
    guard refs.contains(ref) else { return Self.message("No ref found for: \(ref)", 422) }
    var inputs: [String: String] = [:]
    if let value = body["inputs"], !value.isNull {
      guard let members = value.objectValue else {
        return Self.message("Invalid request.\n\nFor 'properties/inputs', \(value.kindDescription) is not an object.", 422)
      }
      guard members.count <= Self.maxInputs else {
        return Self.message("Invalid request.\n\nMore than \(Self.maxInputs) inputs were provided.", 422)
      }
      let unexpected = members.keys.filter { !workflow.inputs.contains($0) }.sorted()
      guard unexpected.isEmpty else {
        let list = unexpected.map { "\"\($0)\"" }.joined(separator: ", ")
        return Self.message("Unexpected inputs provided: [\(list)]", 422)
      }
      for (name, member) in members {
        switch member {
        case .string(let text): inputs[name] = text
        case .bool(let flag): inputs[name] = String(flag)
        case .integer, .number: inputs[name] = member.jsonText
        default:
          return Self.message("Invalid request.\n\nFor 'properties/inputs/\(name)', \(member.kindDescription) is not a string.", 422)
        }
      }
    }
    if let missing = workflow.required.sorted().first(where: { inputs[$0] == nil }) {
      return Self.message("Required input '\(missing)' not provided", 422)
    }
    record(
      request, kind: "workflow_dispatch", workflow: workflow.file, eventType: nil, ref: ref, inputs: inputs,
      authPresent: authPresent)
    return ServerResponse(status: 204)
  }

  private func repositoryDispatch(_ request: ServerRequest, body: [String: JSONValue], authPresent: Bool)
    -> ServerResponse
  {
    guard let eventValue = body["event_type"], !eventValue.isNull else {
      return Self.message("Invalid request.\n\n\"event_type\" wasn't supplied.", 422)
    }
    guard let eventType = eventValue.stringValue, (1...100).contains(eventType.count) else {
      return Self.message("Invalid request.\n\n'event_type' must be a string of 1 to 100 characters.", 422)
    }
    var inputs: [String: String] = [:]
    if let value = body["client_payload"], !value.isNull {
      guard let members = value.objectValue else {
        return Self.message("Invalid request.\n\nFor 'properties/client_payload', \(value.kindDescription) is not an object.", 422)
      }
      guard members.count <= Self.maxInputs else {
        return Self.message("Invalid request.\n\nNo more than \(Self.maxInputs) properties are allowed; \(members.count) were supplied.", 422)
      }
      for (name, member) in members {
        inputs[name] = member.stringValue ?? member.jsonText
      }
    }
    record(
      request, kind: "repository_dispatch", workflow: nil, eventType: eventType, ref: nil, inputs: inputs,
      authPresent: authPresent)
    return ServerResponse(status: 204)
  }

  private func record(
    _ request: ServerRequest, kind: String, workflow: String?, eventType: String?, ref: String?,
    inputs: [String: String], authPresent: Bool
  ) {
    core.dispatches.append(
      CIDispatchRecord(
        ci: "github", kind: kind, path: CIRequestPath.withoutQuery(request.target), repository: repository,
        workflow: workflow, eventType: eventType, ref: ref,
        inputs: inputs.mapValues { CIEmulatorCore.mask($0, secret: token) }, authPresent: authPresent,
        pipelineID: nil, webURL: nil))
  }

  /// GitHub's error shape: `{"message": …, "documentation_url": …}`.
  static func message(_ text: String, _ status: Int, headers: HTTPHeaders = HTTPHeaders()) -> ServerResponse {
    ServerResponse.json(
      JSONValue.object([
        "message": .string(text), "documentation_url": .string("https://docs.github.com/rest"),
      ]), status: status, headers: headers)
  }
}
