/// Everything that can go wrong between a Jira webhook and a started CI run.
///
/// Descriptions are one lowercase line and never contain a secret: tokens, the webhook
/// secret and API keys are redacted before they can reach a message.
public enum TriggerError: Error, Sendable, Hashable, CustomStringConvertible {
  /// The request carried no valid signature or token (answered 401).
  case unauthenticated(String)
  /// The webhook body is not a usable Jira or Automation payload (answered 400).
  case invalidPayload(String)
  /// The rules file could not be read or is invalid.
  case invalidRules(String)
  /// A required setting is missing; `variable` names the environment variable that sets it.
  case missingConfiguration(variable: String, purpose: String)
  /// A setting has a value testbridge cannot use.
  case invalidConfiguration(variable: String, reason: String)
  /// Testomat.io could not list the tests linked to an issue, or create or finish a run.
  case testomatio(String)
  /// The CI system refused or failed to start the run; `status` is its HTTP status when it answered.
  case ciDispatch(ci: CIKind, status: Int?, reason: String)

  public var description: String {
    switch self {
    case .unauthenticated(let reason): "webhook not authenticated: \(reason)"
    case .invalidPayload(let reason): "invalid webhook payload: \(reason)"
    case .invalidRules(let reason): "invalid trigger rules: \(reason)"
    case .missingConfiguration(let variable, let purpose): "\(variable) is not set: \(purpose)"
    case .invalidConfiguration(let variable, let reason): "\(variable) is invalid: \(reason)"
    case .testomatio(let reason): reason
    case .ciDispatch(let ci, _, let reason): "starting \(ci.displayName) failed: \(reason)"
    }
  }

  /// The message without the category prefix, as put in webhook replies.
  public var reason: String {
    switch self {
    case .unauthenticated(let reason), .invalidPayload(let reason), .invalidRules(let reason),
      .testomatio(let reason):
      reason
    case .ciDispatch(_, _, let reason): reason
    case .missingConfiguration, .invalidConfiguration: description
    }
  }
}
