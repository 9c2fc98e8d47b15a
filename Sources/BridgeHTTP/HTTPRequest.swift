import Foundation

/// The HTTP methods the bridge sends.
public enum HTTPMethod: String, Sendable, Hashable, CaseIterable {
  case GET, POST, PUT, DELETE, HEAD, PATCH, OPTIONS

  /// Whether repeating the method has the same effect as sending it once (RFC 9110 §9.2.2).
  public var isIdempotent: Bool {
    switch self {
    case .GET, .HEAD, .PUT, .DELETE, .OPTIONS: return true
    case .POST, .PATCH: return false
    }
  }
}

/// One outgoing HTTP request: a plain value, built by clients and sent by an ``HTTPTransport``.
///
/// Header names are stored in canonical casing (`content-type` becomes `Content-Type`), so two
/// requests that differ only in header-name casing compare equal. Use ``header(_:)`` to look a
/// header up by any casing.
public struct HTTPRequest: Sendable, Hashable {
  public var method: HTTPMethod
  public var url: URL
  private var storedHeaders: [String: String]
  public var body: [UInt8]?
  /// Set by callers whose body makes a repeat harmless even though the method is not idempotent,
  /// for example Testomat.io result batches, where each test carries a `rid` the server
  /// de-duplicates on.
  public var retrySafe: Bool
  /// Set by callers whose server refuses a rate-limited request (429) before applying any of
  /// it, as Jira's limits do: such a 429, when it carries `Retry-After`, may be repeated after
  /// that wait even when the request is not otherwise safe to repeat (``retrySafe``).
  public var repeatableAfterRateLimit: Bool
  /// Overall time allowed for one attempt, in seconds; `nil` means the transport's default.
  public var timeout: TimeInterval?

  public init(
    method: HTTPMethod,
    url: URL,
    headers: [String: String] = [:],
    body: [UInt8]? = nil,
    retrySafe: Bool = false,
    repeatableAfterRateLimit: Bool = false,
    timeout: TimeInterval? = nil
  ) {
    self.method = method
    self.url = url
    self.storedHeaders = HTTPHeaderName.canonicalized(headers)
    self.body = body
    self.retrySafe = retrySafe
    self.repeatableAfterRateLimit = repeatableAfterRateLimit
    self.timeout = timeout
  }

  /// The headers, keyed by canonical name. Assigning re-canonicalises the names.
  public var headers: [String: String] {
    get { storedHeaders }
    set { storedHeaders = HTTPHeaderName.canonicalized(newValue) }
  }

  /// The value of the header `name`, whatever its casing.
  public func header(_ name: String) -> String? {
    storedHeaders[HTTPHeaderName.canonical(name)]
  }

  /// Sets (or, with `nil`, removes) the header `name`.
  public mutating func setHeader(_ name: String, _ value: String?) {
    storedHeaders[HTTPHeaderName.canonical(name)] = value
  }

  /// Whether the method is idempotent by definition.
  public var isIdempotent: Bool { method.isIdempotent }

  /// Whether the request may be sent again after a failure: an idempotent method, or a caller
  /// that declared the body safe to repeat with ``retrySafe``.
  public var isRetrySafe: Bool { isIdempotent || retrySafe }

  /// `POST https://host/path?api_key=REDACTED`: the method and the redacted URL, for errors and logs.
  public var redactedLine: String {
    "\(method.rawValue) \(Redactor.redact(url: url))"
  }
}

/// Header-name casing rules shared by requests and responses.
package enum HTTPHeaderName {
  /// `content-type` → `Content-Type`, `x-api-key` → `X-Api-Key`.
  package static func canonical(_ name: String) -> String {
    name.split(separator: "-", omittingEmptySubsequences: false)
      .map { part in part.prefix(1).uppercased() + part.dropFirst().lowercased() }
      .joined(separator: "-")
  }

  /// Canonicalises every key. When two keys differ only in casing, the one that sorts last wins,
  /// so the result does not depend on dictionary order.
  package static func canonicalized(_ headers: [String: String]) -> [String: String] {
    var result: [String: String] = [:]
    for key in headers.keys.sorted() {
      if let value = headers[key] { result[canonical(key)] = value }
    }
    return result
  }
}
