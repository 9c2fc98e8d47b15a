/// Why an HTTP exchange failed. Every error names the request as a redacted request line.
///
/// The description is one lowercase line without a trailing period, for example
/// `POST https://app.testomat.io/api/reporter/abc/testrun failed: HTTP 503: {"message":"busy"}`.
/// It never contains credentials: the URL goes through ``Redactor/redact(url:)`` and response
/// text through ``Redactor/redact(text:secrets:)`` with the request's own secrets.
public struct HTTPError: Error, Sendable, Hashable, CustomStringConvertible {
  /// The failure taxonomy that retry decisions are made on.
  public enum Kind: Sendable, Hashable {
    /// No response: the connection failed, dropped, or the reply was not usable HTTP.
    /// `isConnectionError` is true when the server could not be reached or the connection was
    /// lost, the cases where a retry can help. `neverSent` is true only when the request provably
    /// never reached a server (the host name did not resolve, the connection was refused), so
    /// nothing can have applied it.
    case transport(description: String, isConnectionError: Bool, neverSent: Bool = false)
    /// No complete response within the allowed time, in seconds.
    case timeout(after: Double)
    /// A response arrived with a non-2xx status; `bodyPrefix` is its first 512 bytes, redacted.
    case status(code: Int, bodyPrefix: String)
    /// A response arrived but its body could not be understood.
    case decoding(description: String)
    /// Not sent because a local policy forbids it (for example plain http to a remote host).
    case refused(reason: String)
    /// The caller's task was cancelled.
    case cancelled
  }

  public let kind: Kind
  /// The method and redacted URL, such as `POST https://host/api/reporter/abc/testrun`.
  public let requestLine: String

  public init(_ kind: Kind, requestLine: String) {
    self.kind = kind
    self.requestLine = requestLine
  }

  public init(_ kind: Kind, request: HTTPRequest) {
    self.init(kind, requestLine: request.redactedLine)
  }

  /// A `.status` error for `response`, with the body prefix redacted against the request's secrets.
  public static func status(_ response: HTTPResponse, request: HTTPRequest) -> HTTPError {
    let secrets = Redactor.secrets(in: request)
    return HTTPError(
      .status(code: response.status, bodyPrefix: Redactor.bodyPrefix(response.body, secrets: secrets)),
      request: request)
  }

  /// The HTTP status when the server answered, otherwise nil.
  public var statusCode: Int? {
    if case .status(let code, _) = kind { return code }
    return nil
  }

  /// Whether the server could not be reached or the connection dropped.
  public var isConnectionError: Bool {
    if case .transport(_, let isConnectionError, _) = kind { return isConnectionError }
    return false
  }

  /// Whether the request provably never reached a server, so repeating it cannot apply it twice.
  public var wasNeverSent: Bool {
    if case .transport(_, _, let neverSent) = kind { return neverSent }
    return false
  }

  public var isTimeout: Bool {
    if case .timeout = kind { return true }
    return false
  }

  public var isCancelled: Bool { kind == .cancelled }

  /// The failure alone, without the request line: `HTTP 503: {"message":"busy"}`.
  public var reason: String {
    switch kind {
    case .transport(let description, let isConnectionError, _):
      return isConnectionError ? "connection error: \(description)" : description
    case .timeout(let seconds):
      return "timed out after \(HTTPError.formatSeconds(seconds))"
    case .status(let code, let bodyPrefix):
      return bodyPrefix.isEmpty ? "HTTP \(code)" : "HTTP \(code): \(bodyPrefix)"
    case .decoding(let description):
      return "cannot decode response: \(description)"
    case .refused(let reason):
      return reason
    case .cancelled:
      return "cancelled"
    }
  }

  public var description: String {
    switch kind {
    case .refused: return "\(requestLine) refused: \(reason)"
    case .cancelled: return "\(requestLine) cancelled"
    default: return "\(requestLine) failed: \(reason)"
    }
  }

  /// `20 s`, `0.25 s`: whole seconds without a fraction, others to the millisecond.
  package static func formatSeconds(_ seconds: Double) -> String {
    guard seconds.isFinite, abs(seconds) < 1e9 else { return "\(seconds) s" }
    let rounded = (seconds * 1000).rounded() / 1000
    if rounded == rounded.rounded() { return "\(Int(rounded)) s" }
    return "\(rounded) s"
  }
}
