import BridgeHTTP
import Foundation

/// Where and how to start a GitLab pipeline (contract: Jira §7.6).
///
/// | setting | variable | default |
/// |---|---|---|
/// | GitLab base | `GITLAB_URL` | `https://gitlab.com` |
/// | project | `GITLAB_PROJECT_ID` (numeric, or the path `group/project`) | required |
/// | trigger token | `GITLAB_TRIGGER_TOKEN` | required |
/// | ref | `TESTBRIDGE_GITLAB_REF` | `main` |
public struct GitLabDispatchConfig: Sendable, Hashable, CustomStringConvertible {
  public var baseURL: String
  /// The numeric id or the project path (plain or already URL-encoded).
  public var projectID: String
  public var triggerToken: String
  public var ref: String

  public static let defaultBaseURL = "https://gitlab.com"
  public static let defaultRef = "main"

  public init(
    baseURL: String = GitLabDispatchConfig.defaultBaseURL, projectID: String, triggerToken: String,
    ref: String = GitLabDispatchConfig.defaultRef
  ) {
    self.baseURL = baseURL
    self.projectID = projectID
    self.triggerToken = triggerToken
    self.ref = ref
  }

  /// Resolves the settings from the environment; explicit values win (pure).
  ///
  /// - Throws: ``TriggerError/missingConfiguration(variable:purpose:)`` naming the missing
  ///   variable, or ``TriggerError/invalidConfiguration(variable:reason:)``.
  public static func resolve(
    environment: [String: String], baseURL: String? = nil, projectID: String? = nil, triggerToken: String? = nil,
    ref: String? = nil
  ) throws(TriggerError) -> GitLabDispatchConfig {
    let base = try DispatchSupport.baseURL(
      DispatchSupport.value(baseURL, environment, "GITLAB_URL") ?? defaultBaseURL, variable: "GITLAB_URL")
    guard let project = DispatchSupport.value(projectID, environment, "GITLAB_PROJECT_ID") else {
      throw .missingConfiguration(
        variable: "GITLAB_PROJECT_ID", purpose: "the project to start, as its numeric id or 'group/project' path")
    }
    guard encodedProject(project) != nil else {
      throw .invalidConfiguration(
        variable: "GITLAB_PROJECT_ID", reason: "'\(project)' is not a numeric id or a 'group/project' path")
    }
    guard let token = DispatchSupport.value(triggerToken, environment, "GITLAB_TRIGGER_TOKEN") else {
      throw .missingConfiguration(
        variable: "GITLAB_TRIGGER_TOKEN", purpose: "a pipeline trigger token of project '\(project)'")
    }
    let ref = DispatchSupport.value(ref, environment, "TESTBRIDGE_GITLAB_REF") ?? defaultRef
    return GitLabDispatchConfig(baseURL: base, projectID: project, triggerToken: token, ref: ref)
  }

  /// The project as one path segment: a number as is, a path URL-encoded (`group%2Fproject`).
  static func encodedProject(_ project: String) -> String? {
    let decoded = project.removingPercentEncoding ?? project
    guard !decoded.isEmpty, !decoded.hasPrefix("/"), !decoded.hasSuffix("/"), !decoded.contains("//"),
      decoded.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_./".contains($0)) }),
      !decoded.split(separator: "/").contains(where: { $0 == "." || $0 == ".." })
    else { return nil }
    return DispatchSupport.pathSegment(decoded)
  }

  /// Everything but the token.
  public var description: String {
    "GitLab project '\(projectID)' on '\(ref)' via \(baseURL)"
  }
}

/// Starts a GitLab pipeline with a pipeline trigger token.
///
/// `POST {GITLAB_URL}/api/v4/projects/{id}/trigger/pipeline` with form fields `token`, `ref`,
/// `variables[run]`, `variables[grep]`, `variables[jira]` and `variables[testomatio_url]`
/// (the last only when known); GitLab answers 201 with the pipeline's `id` and `web_url`.
/// The Testomat.io API key is never sent.
public struct GitLabDispatcher: CIDispatcher {
  public let config: GitLabDispatchConfig
  public let transport: any HTTPTransport
  public let timeout: TimeInterval

  public var kind: CIKind { .gitlab }

  public init(config: GitLabDispatchConfig, transport: any HTTPTransport, timeout: TimeInterval = 20) {
    self.config = config
    self.transport = transport
    self.timeout = timeout
  }

  /// The request `dispatch` sends (pure; exposed for tests and dry runs).
  public func makeRequest(_ request: CIDispatchRequest) throws(TriggerError) -> HTTPRequest {
    guard let project = GitLabDispatchConfig.encodedProject(config.projectID),
      let url = URL(string: "\(config.baseURL)/api/v4/projects/\(project)/trigger/pipeline")
    else {
      throw .ciDispatch(ci: .gitlab, status: nil, reason: "cannot build the request to \(config.baseURL)")
    }
    var fields: [(String, String)] = [("token", config.triggerToken), ("ref", config.ref)]
    for variable in request.variables { fields.append(("variables[\(variable.name)]", variable.value)) }
    return HTTPRequest(
      method: .POST, url: url,
      headers: ["Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"],
      body: DispatchSupport.formBody(fields), timeout: timeout)
  }

  public func dispatch(_ request: CIDispatchRequest) async throws(TriggerError) -> CIDispatchReceipt {
    let http = try makeRequest(request)
    let secrets = [config.triggerToken]
    let response: HTTPResponse
    do {
      response = try await transport.send(http)
    } catch {
      throw .ciDispatch(ci: .gitlab, status: nil, reason: DispatchSupport.transportReason(error, secrets: secrets))
    }
    guard response.isSuccess else {
      throw .ciDispatch(
        ci: .gitlab, status: response.status,
        reason: DispatchSupport.failureReason(response, request: http, secrets: secrets, service: "GitLab"))
    }
    var pipelineID: String?
    var webURL: String?
    if let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] {
      if let id = object["id"] as? Int {
        pipelineID = String(id)
      } else if let id = object["id"] as? String {
        pipelineID = id
      }
      webURL = (object["web_url"] as? String).map { Redactor.redact(text: $0, secrets: secrets) }
    }
    let pipeline = pipelineID.map { "pipeline \($0)" } ?? "a pipeline"
    return CIDispatchReceipt(
      ci: .gitlab, pipelineID: pipelineID, webURL: webURL,
      summary: "\(pipeline) on '\(config.ref)' in project '\(config.projectID)'")
  }
}
