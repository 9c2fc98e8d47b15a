import BridgeHTTP

/// What went wrong talking to Testomat.io or keeping results for later.
public enum TestomatioError: Error, Sendable, CustomStringConvertible {
  /// A request failed after its retries; `action` says what testbridge was doing.
  case request(action: String, HTTPError)
  /// Testomat.io answered 2xx with a body testbridge could not use.
  case unexpectedResponse(action: String, detail: String)
  /// The spool folder could not be written or read.
  case spool(path: String, reason: String)
  /// No run to work with (for `finish`).
  case noRun(String)

  public var description: String {
    switch self {
    case .request(let action, let error): return "\(action) failed: \(error.reason) (\(error.requestLine))"
    case .unexpectedResponse(let action, let detail): return "\(action): unexpected answer from Testomat.io: \(detail)"
    case .spool(let path, let reason): return "spool '\(path)': \(reason)"
    case .noRun(let detail): return detail
    }
  }

  /// True when the service could not be reached or kept failing (worth spooling and retrying later).
  public var isDeliveryFailure: Bool {
    switch self {
    case .request(_, let error):
      guard let code = error.statusCode else { return !error.isCancelled }
      return code == 408 || code == 429 || code >= 500
    default: return false
    }
  }
}
