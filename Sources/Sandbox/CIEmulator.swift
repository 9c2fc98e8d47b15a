import BridgeCore
import Foundation
import HTTPServer

/// One CI run start an emulator accepted, as served by `GET /_sandbox/ci/state`.
///
/// The CI token is never kept: only whether one was sent, and any input that contains it is
/// masked as `[REDACTED]`.
public struct CIDispatchRecord: Sendable, Hashable, Codable {
  /// `github` or `gitlab`.
  public var ci: String
  /// `workflow_dispatch`, `repository_dispatch` or `pipeline_trigger`.
  public var kind: String
  /// The request path as sent (still percent-encoded).
  public var path: String
  /// `owner/repo` (GitHub) or the project path (GitLab).
  public var repository: String
  /// The workflow file name (`workflow_dispatch`).
  public var workflow: String?
  /// The `event_type` (`repository_dispatch`).
  public var eventType: String?
  public var ref: String?
  /// Workflow `inputs`, `client_payload` members or pipeline `variables`, as strings.
  public var inputs: [String: String]
  /// Whether a credential was sent (its value is never recorded).
  public var authPresent: Bool
  /// The pipeline id answered (GitLab).
  public var pipelineID: Int?
  /// The pipeline page answered (GitLab).
  public var webURL: String?

  enum CodingKeys: String, CodingKey {
    case ci, kind, path, repository, workflow
    case eventType = "event_type"
    case ref, inputs
    case authPresent = "auth_present"
    case pipelineID = "pipeline_id"
    case webURL = "web_url"
  }
}

/// One request a CI emulator answered: never a body or a credential.
public struct CIRequestRecord: Sendable, Hashable, Codable {
  public var method: String
  public var path: String
  /// The status answered; 0 when the connection was dropped.
  public var status: Int
  /// Whether a fault rule produced (or delayed) the answer.
  public var fault: Bool
  /// Whether a credential was sent.
  public var authPresent: Bool

  enum CodingKeys: String, CodingKey {
    case method, path, status, fault
    case authPresent = "auth_present"
  }
}

/// What one CI emulator has seen.
public struct CIEmulatorState: Sendable, Hashable, Codable {
  /// Accepted dispatches, in order.
  public var dispatches: [CIDispatchRecord]
  /// Every API request, in order (the most recent 10,000; control routes excluded).
  public var requests: [CIRequestRecord]
  /// Fault rules with uses left.
  public var faults: [SandboxFault]

  public init(dispatches: [CIDispatchRecord] = [], requests: [CIRequestRecord] = [], faults: [SandboxFault] = []) {
    self.dispatches = dispatches
    self.requests = requests
    self.faults = faults
  }
}

/// Both CI emulators' state, as served by `GET /_sandbox/ci/state`.
public struct CISandboxState: Sendable, Hashable, Codable {
  public var github: CIEmulatorState
  public var gitlab: CIEmulatorState

  /// Every accepted dispatch, GitHub's first.
  public var dispatches: [CIDispatchRecord] { github.dispatches + gitlab.dispatches }
}

/// The bookkeeping both CI emulators share: request log, fault rules, replies.
struct CIEmulatorCore: Sendable {
  var dispatches: [CIDispatchRecord] = []
  var requests: [CIRequestRecord] = []
  var faults: [SandboxFault] = []

  static let maxLoggedRequests = 10_000

  var state: CIEmulatorState {
    CIEmulatorState(dispatches: dispatches, requests: requests, faults: faults.filter { $0.times > 0 })
  }

  mutating func log(_ request: ServerRequest, status: Int, fault: Bool, authPresent: Bool) {
    if requests.count >= Self.maxLoggedRequests {
      requests.removeFirst(requests.count - Self.maxLoggedRequests + 1)
    }
    requests.append(
      CIRequestRecord(
        method: request.method, path: CIRequestPath.withoutQuery(request.target), status: status, fault: fault,
        authPresent: authPresent))
  }

  /// The first matching fault rule with uses left, used up once; nil when none matches.
  mutating func takeFault(for request: ServerRequest) -> SandboxFault? {
    SandboxFault.take(from: &faults, for: request)
  }

  /// The answer a fault rule gives (after its delay), or nil when it only delays.
  static func answer(for rule: SandboxFault, reply: (String, Int, HTTPHeaders) -> ServerResponse) async
    -> ServerResponse?
  {
    await rule.waitItsDelay()
    if rule.dropConnection { return .dropConnection }
    guard let status = rule.status else { return nil }
    return reply(rule.message ?? "sandbox fault: injected \(status)", status, rule.statusHeaders)
  }

  /// `text` with `secret` masked (secrets shorter than 4 characters are left alone).
  static func mask(_ text: String, secret: String) -> String {
    guard secret.count >= 4, text.contains(secret) else { return text }
    return text.replacingOccurrences(of: secret, with: "[REDACTED]")
  }
}

/// Path handling on raw request targets, where `%2F` inside a segment must survive.
enum CIRequestPath {
  /// The target without query or fragment.
  static func withoutQuery(_ target: String) -> String {
    var path = Substring(target)
    if let mark = path.firstIndex(where: { $0 == "?" || $0 == "#" }) { path = path[..<mark] }
    return String(path)
  }

  /// The percent-decoded segments of the raw path, or nil when an escape is invalid.
  static func segments(_ target: String) -> [String]? {
    var result: [String] = []
    for raw in withoutQuery(target).split(separator: "/", omittingEmptySubsequences: true) {
      guard let decoded = String(raw).removingPercentEncoding else { return nil }
      result.append(decoded)
    }
    return result
  }

  /// Decodes `application/x-www-form-urlencoded` text (`+` is a space), or nil when invalid.
  static func formFields(_ bytes: [UInt8]) -> [(name: String, value: String)]? {
    guard let text = String(validating: bytes, as: UTF8.self) else { return nil }
    var fields: [(name: String, value: String)] = []
    for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
      let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
      let name = String(parts[0]).replacingOccurrences(of: "+", with: " ")
      let value = parts.count > 1 ? String(parts[1]).replacingOccurrences(of: "+", with: " ") : ""
      guard let decodedName = name.removingPercentEncoding, let decodedValue = value.removingPercentEncoding else {
        return nil
      }
      fields.append((decodedName, decodedValue))
    }
    return fields
  }
}
