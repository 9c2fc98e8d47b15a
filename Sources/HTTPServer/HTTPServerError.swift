/// Everything that can go wrong in the HTTP server: setup failures and rejected requests.
public enum HTTPServerError: Error, Sendable, Hashable, CustomStringConvertible {
  /// The host is not an IPv4 or IPv6 address literal (or `localhost`).
  case invalidHost(String)
  /// The host is not a loopback address and `allowNonLoopback` was not set.
  case nonLoopbackRefused(host: String)
  /// A configuration value is out of range.
  case invalidConfiguration(String)
  /// A socket call failed while setting up the listener.
  case socketFailed(call: String, errno: Int32, message: String)
  /// `bind(2)` failed, for example because the port is taken.
  case bindFailed(address: String, errno: Int32, message: String)
  /// `start` was called on a server that is already running.
  case alreadyStarted
  /// `start` was called on (or raced with) a server that was stopped; servers are not restartable.
  case stopped
  /// The request is not valid HTTP/1.1 (answered with 400).
  case malformedRequest(String)
  /// The request line and headers are larger than allowed (answered with 431).
  case headersTooLarge(limit: Int)
  /// The body is larger than allowed (answered with 413).
  case bodyTooLarge(limit: Int)
  /// A transfer coding other than `chunked` (answered with 501).
  case unsupportedTransferEncoding(String)
  /// A protocol version other than HTTP/1.0 or HTTP/1.1 (answered with 505).
  case unsupportedVersion(String)
  /// An `Expect` value other than `100-continue` (answered with 417).
  case unsupportedExpectation(String)

  /// The status code the server answers with for a rejected request, or nil for setup errors.
  public var responseStatus: Int? {
    switch self {
    case .malformedRequest: 400
    case .headersTooLarge: 431
    case .bodyTooLarge: 413
    case .unsupportedTransferEncoding: 501
    case .unsupportedVersion: 505
    case .unsupportedExpectation: 417
    case .invalidHost, .nonLoopbackRefused, .invalidConfiguration, .socketFailed, .bindFailed,
      .alreadyStarted, .stopped:
      nil
    }
  }

  public var description: String {
    switch self {
    case .invalidHost(let host):
      "invalid listen address '\(host)': expected an IPv4 or IPv6 address or 'localhost'"
    case .nonLoopbackRefused(let host):
      "refusing to listen on non-loopback address '\(host)' (pass allowNonLoopback to permit it)"
    case .invalidConfiguration(let reason):
      "invalid server configuration: \(reason)"
    case .socketFailed(let call, let errno, let message):
      "\(call) failed: \(message) (errno \(errno))"
    case .bindFailed(let address, let errno, let message):
      "cannot listen on '\(address)': \(message) (errno \(errno))"
    case .alreadyStarted:
      "the server was already started"
    case .stopped:
      "the server was stopped and cannot be started again"
    case .malformedRequest(let reason):
      "malformed request: \(reason)"
    case .headersTooLarge(let limit):
      "request header section is larger than \(limit) bytes"
    case .bodyTooLarge(let limit):
      "request body is larger than \(limit) bytes"
    case .unsupportedTransferEncoding(let coding):
      "unsupported transfer coding '\(coding)': only 'chunked' is implemented"
    case .unsupportedVersion(let version):
      "unsupported protocol version '\(version)'"
    case .unsupportedExpectation(let value):
      "unsupported expectation '\(value)'"
    }
  }
}
