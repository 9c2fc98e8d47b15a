import BridgeHTTP
import Foundation

/// The CI systems testbridge can start runs on.
public enum CIKind: String, Sendable, Hashable, CaseIterable, Codable {
  case github
  case gitlab

  /// `GitHub Actions`, `GitLab CI`.
  public var displayName: String {
    switch self {
    case .github: "GitHub Actions"
    case .gitlab: "GitLab CI"
    }
  }

  /// The CI to use when a rule names none: `TESTBRIDGE_CI`, or the only one configured.
  ///
  /// - Parameter explicit: a value given on the command line; wins over the environment.
  /// - Throws: ``TriggerError`` when the value is unknown, or when neither or both of
  ///   `GITHUB_REPOSITORY` and `GITLAB_PROJECT_ID` are set and `TESTBRIDGE_CI` does not decide.
  public static func resolve(environment: [String: String], explicit: String? = nil) throws(TriggerError) -> CIKind {
    if let text = explicit ?? environment["TESTBRIDGE_CI"], !text.isEmpty {
      guard let kind = CIKind(rawValue: text.lowercased()) else {
        throw .invalidConfiguration(
          variable: "TESTBRIDGE_CI",
          reason: "'\(text)' is not one of \(allCases.map(\.rawValue).joined(separator: ", "))")
      }
      return kind
    }
    let github = !(environment["GITHUB_REPOSITORY"] ?? "").isEmpty
    let gitlab = !(environment["GITLAB_PROJECT_ID"] ?? "").isEmpty
    switch (github, gitlab) {
    case (true, false): return .github
    case (false, true): return .gitlab
    case (true, true):
      throw .missingConfiguration(
        variable: "TESTBRIDGE_CI", purpose: "both GitHub and GitLab are configured; say which one to start (github or gitlab)")
    case (false, false):
      throw .missingConfiguration(
        variable: "TESTBRIDGE_CI", purpose: "no CI is configured (set GITHUB_REPOSITORY or GITLAB_PROJECT_ID)")
    }
  }
}

/// What a CI run needs to know: Testomat.io's input variables (contract: Testomat.io §5).
///
/// The Testomat.io API key is deliberately absent: the CI job has its own secret, and a key
/// sent as an input would show in the CI system's run page.
public struct CIDispatchRequest: Sendable, Hashable {
  /// The Testomat.io run the job reports into (`run` → `TESTOMATIO_RUN`).
  public var runID: String
  /// The tests to run: ids without `@`, joined with `|` (`grep`).
  public var grep: String
  /// The Jira issue that started the run (`jira`).
  public var jiraKey: String
  /// The Testomat.io server, for on-premises installs (`testomatio_url` → `TESTOMATIO_URL`).
  public var testomatioURL: String?

  public init(runID: String, grep: String, jiraKey: String, testomatioURL: String? = nil) {
    self.runID = runID
    self.grep = grep
    self.jiraKey = jiraKey
    self.testomatioURL = testomatioURL
  }

  /// The input variables by name, `testomatio_url` left out when unknown.
  public var variables: [(name: String, value: String)] {
    var result: [(String, String)] = [("run", runID), ("grep", grep), ("jira", jiraKey)]
    if let testomatioURL, !testomatioURL.isEmpty { result.append(("testomatio_url", testomatioURL)) }
    return result
  }
}

/// What the CI system said after accepting a dispatch.
public struct CIDispatchReceipt: Sendable, Hashable {
  public var ci: CIKind
  /// The pipeline id (GitLab); GitHub's dispatch APIs do not return one.
  public var pipelineID: String?
  /// The pipeline's page (GitLab).
  public var webURL: String?
  /// A short human description, e.g. `workflow 'tests.yml' on 'main' in acme/app`.
  public var summary: String

  public init(ci: CIKind, pipelineID: String? = nil, webURL: String? = nil, summary: String) {
    self.ci = ci
    self.pipelineID = pipelineID
    self.webURL = webURL
    self.summary = summary
  }
}

/// Starts a CI run for a Testomat.io run.
public protocol CIDispatcher: Sendable {
  /// The CI system this dispatcher starts.
  var kind: CIKind { get }
  /// Starts the run.
  ///
  /// - Throws: ``TriggerError/ciDispatch(ci:status:reason:)`` with a reason free of secrets.
  func dispatch(_ request: CIDispatchRequest) async throws(TriggerError) -> CIDispatchReceipt
}

/// Shared plumbing of the dispatchers.
enum DispatchSupport {
  /// The `message` (or `error`) of a JSON error answer, redacted and cut to one short line;
  /// otherwise the head of the body.
  static func failureReason(_ response: HTTPResponse, request: HTTPRequest, secrets: [String], service: String)
    -> String
  {
    let allSecrets = secrets + Redactor.secrets(in: request)
    var detail = ""
    if let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] {
      if let message = object["message"] as? String {
        detail = message
      } else if let error = object["error"] as? String {
        detail = error
      } else if let message = object["message"] {
        detail = String(describing: message)
      }
    }
    let text: String
    if detail.isEmpty {
      text = Redactor.bodyPrefix(response.body, secrets: allSecrets, limit: 200)
    } else {
      text = Redactor.bodyPrefix(Array(detail.utf8), secrets: allSecrets, limit: 200)
    }
    return text.isEmpty ? "\(service) answered HTTP \(response.status)" : "\(service) answered HTTP \(response.status): \(text)"
  }

  /// An ``HTTPError`` as a reason, with the given secrets removed as well.
  static func transportReason(_ error: HTTPError, secrets: [String]) -> String {
    Redactor.redact(text: error.description, secrets: secrets)
  }

  /// Percent-encodes one path segment (everything but unreserved characters).
  static func pathSegment(_ text: String) -> String {
    text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
  }

  /// `application/x-www-form-urlencoded` for the given fields, in order.
  static func formBody(_ fields: [(String, String)]) -> [UInt8] {
    let text = fields.map { name, value in
      "\(pathSegment(name))=\(pathSegment(value))"
    }.joined(separator: "&")
    return Array(text.utf8)
  }

  static let unreserved = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")

  /// The base URL without trailing slashes, validated as http(s) with a host.
  static func baseURL(_ text: String, variable: String) throws(TriggerError) -> String {
    var trimmed = Substring(text.trimmingCharacters(in: .whitespaces))
    while trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
    guard let url = URL(string: String(trimmed)), let scheme = url.scheme?.lowercased(),
      scheme == "https" || scheme == "http", let host = url.host, !host.isEmpty
    else {
      throw .invalidConfiguration(variable: variable, reason: "'\(Redactor.redact(text: text, secrets: []))' is not an http(s) URL")
    }
    guard url.user == nil, url.password == nil, url.query == nil else {
      throw .invalidConfiguration(variable: variable, reason: "the URL must not carry credentials or a query")
    }
    return String(trimmed)
  }

  /// A non-empty value: explicit, else from the environment.
  static func value(_ explicit: String?, _ environment: [String: String], _ variable: String) -> String? {
    if let explicit, !explicit.isEmpty { return explicit }
    if let value = environment[variable], !value.isEmpty { return value }
    return nil
  }
}
