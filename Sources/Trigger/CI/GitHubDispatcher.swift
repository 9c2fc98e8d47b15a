import BridgeHTTP
import Foundation

/// Where and how to start GitHub Actions (contract: Jira §7.4, §7.5).
///
/// | setting | variable | default |
/// |---|---|---|
/// | API base | `GITHUB_API_URL` | `https://api.github.com` |
/// | repository | `GITHUB_REPOSITORY` (`owner/repo`) | required |
/// | token | `GITHUB_TOKEN` | required (Actions: write, or Contents: write for `repository_dispatch`) |
/// | workflow | `TESTBRIDGE_GITHUB_WORKFLOW` (file name or id) | none: use `repository_dispatch` |
/// | ref | `TESTBRIDGE_GITHUB_REF` | `main` |
public struct GitHubDispatchConfig: Sendable, Hashable, CustomStringConvertible {
  public var apiURL: String
  public var owner: String
  public var repository: String
  public var token: String
  /// The workflow file name (`tests.yml`) or numeric id; nil sends `repository_dispatch`.
  public var workflow: String?
  public var ref: String

  /// The `event_type` of `repository_dispatch` requests.
  public static let eventType = "testbridge"
  public static let defaultAPIURL = "https://api.github.com"
  public static let defaultRef = "main"

  public init(
    apiURL: String = GitHubDispatchConfig.defaultAPIURL, owner: String, repository: String, token: String,
    workflow: String? = nil, ref: String = GitHubDispatchConfig.defaultRef
  ) {
    self.apiURL = apiURL
    self.owner = owner
    self.repository = repository
    self.token = token
    self.workflow = workflow
    self.ref = ref
  }

  /// Resolves the settings from the environment; explicit values win (pure).
  ///
  /// - Throws: ``TriggerError/missingConfiguration(variable:purpose:)`` naming the missing
  ///   variable, or ``TriggerError/invalidConfiguration(variable:reason:)``.
  public static func resolve(
    environment: [String: String], apiURL: String? = nil, repository: String? = nil, token: String? = nil,
    workflow: String? = nil, ref: String? = nil
  ) throws(TriggerError) -> GitHubDispatchConfig {
    let base = try DispatchSupport.baseURL(
      DispatchSupport.value(apiURL, environment, "GITHUB_API_URL") ?? defaultAPIURL, variable: "GITHUB_API_URL")
    guard let slug = DispatchSupport.value(repository, environment, "GITHUB_REPOSITORY") else {
      throw .missingConfiguration(variable: "GITHUB_REPOSITORY", purpose: "the repository to start, as 'owner/repo'")
    }
    let parts = slug.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2, parts.allSatisfy({ isName($0) }) else {
      throw .invalidConfiguration(variable: "GITHUB_REPOSITORY", reason: "'\(slug)' is not of the form 'owner/repo'")
    }
    guard let token = DispatchSupport.value(token, environment, "GITHUB_TOKEN") else {
      throw .missingConfiguration(
        variable: "GITHUB_TOKEN", purpose: "a token allowed to start workflows in \(slug) (Actions: write)")
    }
    let workflow = DispatchSupport.value(workflow, environment, "TESTBRIDGE_GITHUB_WORKFLOW")
    if let workflow, workflow.contains("/") || workflow.contains("?") || workflow.contains("#") {
      throw .invalidConfiguration(
        variable: "TESTBRIDGE_GITHUB_WORKFLOW", reason: "'\(workflow)' is not a workflow file name or id")
    }
    let ref = DispatchSupport.value(ref, environment, "TESTBRIDGE_GITHUB_REF") ?? defaultRef
    return GitHubDispatchConfig(
      apiURL: base, owner: String(parts[0]), repository: String(parts[1]), token: token, workflow: workflow, ref: ref)
  }

  private static func isName(_ text: Substring) -> Bool {
    !text.isEmpty && text != "." && text != ".."
      && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") }
  }

  /// Everything but the token.
  public var description: String {
    let target = workflow.map { "workflow '\($0)'" } ?? "repository_dispatch '\(Self.eventType)'"
    return "GitHub \(owner)/\(repository) \(target) on '\(ref)' via \(apiURL)"
  }
}

/// Starts GitHub Actions with `workflow_dispatch` (or `repository_dispatch`).
///
/// `POST {api}/repos/{owner}/{repo}/actions/workflows/{workflow}/dispatches` with
/// `{"ref": …, "inputs": {"run", "grep", "jira", "testomatio_url"}}`, or without a workflow
/// `POST {api}/repos/{owner}/{repo}/dispatches` with `{"event_type": "testbridge",
/// "client_payload": {…same…}}`; both answer 204. The workflow must declare the inputs
/// (`testomatio_url` is sent only when known). The Testomat.io API key is never sent.
public struct GitHubDispatcher: CIDispatcher {
  public let config: GitHubDispatchConfig
  public let transport: any HTTPTransport
  public let timeout: TimeInterval

  public var kind: CIKind { .github }

  public init(config: GitHubDispatchConfig, transport: any HTTPTransport, timeout: TimeInterval = 20) {
    self.config = config
    self.transport = transport
    self.timeout = timeout
  }

  /// The request `dispatch` sends (pure; exposed for tests and dry runs).
  public func makeRequest(_ request: CIDispatchRequest) throws(TriggerError) -> HTTPRequest {
    var inputs: [String: String] = [:]
    for variable in request.variables { inputs[variable.name] = variable.value }
    let repo = "\(DispatchSupport.pathSegment(config.owner))/\(DispatchSupport.pathSegment(config.repository))"
    let path: String
    let body: [String: Any]
    if let workflow = config.workflow {
      path = "/repos/\(repo)/actions/workflows/\(DispatchSupport.pathSegment(workflow))/dispatches"
      body = ["ref": config.ref, "inputs": inputs]
    } else {
      path = "/repos/\(repo)/dispatches"
      body = ["event_type": GitHubDispatchConfig.eventType, "client_payload": inputs]
    }
    guard let url = URL(string: config.apiURL + path),
      let data = try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes])
    else {
      throw .ciDispatch(ci: .github, status: nil, reason: "cannot build the request to \(config.apiURL)")
    }
    return HTTPRequest(
      method: .POST, url: url,
      headers: [
        "Authorization": "Bearer \(config.token)",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
        "Content-Type": "application/json",
      ],
      body: Array(data), timeout: timeout)
  }

  public func dispatch(_ request: CIDispatchRequest) async throws(TriggerError) -> CIDispatchReceipt {
    let http = try makeRequest(request)
    let response: HTTPResponse
    do {
      response = try await transport.send(http)
    } catch {
      throw .ciDispatch(
        ci: .github, status: nil, reason: DispatchSupport.transportReason(error, secrets: [config.token]))
    }
    guard response.isSuccess else {
      throw .ciDispatch(
        ci: .github, status: response.status,
        reason: DispatchSupport.failureReason(response, request: http, secrets: [config.token], service: "GitHub"))
    }
    let target = config.workflow.map { "workflow '\($0)'" } ?? "repository_dispatch '\(GitHubDispatchConfig.eventType)'"
    return CIDispatchReceipt(
      ci: .github, summary: "\(target) on '\(config.ref)' in \(config.owner)/\(config.repository)")
  }
}
