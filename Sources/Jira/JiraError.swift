import BridgeHTTP

/// Everything that can go wrong configuring or talking to Jira.
///
/// Descriptions are one lowercase line without a trailing period. They never contain
/// credentials: request lines go through ``Redactor``, and the messages Jira sends back are
/// redacted against the request's own secrets before they are stored here.
public enum JiraError: Error, Sendable, Hashable, CustomStringConvertible {
  /// A required setting is absent; `variable` is the environment variable that provides it and
  /// `flag` the command-line option, when there is one.
  case missingConfiguration(variable: String, flag: String?)
  /// A setting is present but unusable; `setting` names it (a variable or flag).
  case invalidConfiguration(setting: String, reason: String)
  /// The least-privilege guard refused the request before it was sent.
  case forbiddenRequest(method: String, path: String, level: JiraWriteLevel)
  /// The guard refused a request that does not go to the configured REST base (another
  /// scheme, host, port or path prefix); `url` and `base` are shown without query or credentials.
  case foreignRequest(method: String, url: String, base: String)
  /// A property value was refused before sending: empty, not JSON, or over Jira's limit.
  case invalidPropertyValue(issue: String, key: String, reason: String)
  /// An issue key, property key or comment id that cannot be put in a Jira path.
  case invalidArgument(name: String, value: String, reason: String)
  /// No response arrived (connection, timeout, cancellation, a transport policy refusal).
  case transport(action: String, issue: String?, HTTPError)
  /// Jira answered with a non-2xx status; `messages` are its `errorMessages` and `errors`
  /// (as `field: message`), redacted.
  case status(action: String, issue: String?, code: Int, messages: [String], requestLine: String)
  /// Jira answered 2xx with a body testbridge cannot use.
  case unexpectedResponse(action: String, detail: String)

  public var description: String {
    switch self {
    case .missingConfiguration(let variable, let flag):
      let source = flag.map { "set \(variable) or pass \($0)" } ?? "set \(variable)"
      return "jira configuration is incomplete: \(variable) is missing (\(source))"
    case .invalidConfiguration(let setting, let reason):
      return "jira configuration '\(setting)' is invalid: \(reason)"
    case .forbiddenRequest(let method, let path, let level):
      return
        "refused to send \(method) \(path): not allowed at Jira write level '\(level.rawValue)' (allowed: \(level.summary))"
    case .foreignRequest(let method, let url, let base):
      return "refused to send \(method) \(url): it does not go to the configured Jira REST base \(base)"
    case .invalidPropertyValue(let issue, let key, let reason):
      return "property '\(key)' of issue '\(issue)' not written: \(reason)"
    case .invalidArgument(let name, let value, let reason):
      return "invalid \(name) '\(value)': \(reason)"
    case .transport(let action, let issue, let error):
      return "\(action)\(Self.issueSuffix(issue)) failed: \(error.reason) (\(error.requestLine))"
    case .status(let action, let issue, let code, let messages, let requestLine):
      let detail = messages.isEmpty ? "" : ": " + messages.joined(separator: "; ")
      return "\(action)\(Self.issueSuffix(issue)) failed: HTTP \(code)\(detail) (\(requestLine))"
    case .unexpectedResponse(let action, let detail):
      return "\(action): unexpected answer from Jira: \(detail)"
    }
  }

  /// The HTTP status Jira answered with, when it answered.
  public var statusCode: Int? {
    switch self {
    case .status(_, _, let code, _, _): return code
    case .transport(_, _, let error): return error.statusCode
    default: return nil
    }
  }

  /// The issue the failed operation was about, when there was one.
  public var issueKey: String? {
    switch self {
    case .transport(_, let issue, _), .status(_, let issue, _, _, _): return issue
    case .invalidPropertyValue(let issue, _, _): return issue
    default: return nil
    }
  }

  /// Whether the failure was the guard's refusal (a bug in the caller, never a Jira problem).
  public var isForbiddenRequest: Bool {
    switch self {
    case .forbiddenRequest, .foreignRequest: return true
    default: return false
    }
  }

  private static func issueSuffix(_ issue: String?) -> String {
    guard let issue else { return "" }
    return " for issue '\(issue)'"
  }
}
