/// A response as received, whatever its status: transports never throw for a non-2xx status.
public struct HTTPResponse: Sendable, Hashable {
  public var status: Int
  /// Headers keyed by canonical name (see ``HTTPRequest``); look up with ``header(_:)``.
  public private(set) var headers: [String: String]
  public var body: [UInt8]

  public init(status: Int, headers: [String: String] = [:], body: [UInt8] = []) {
    self.status = status
    self.headers = HTTPHeaderName.canonicalized(headers)
    self.body = body
  }

  /// The value of the header `name`, whatever its casing.
  public func header(_ name: String) -> String? {
    headers[HTTPHeaderName.canonical(name)]
  }

  /// Whether the status is 2xx.
  public var isSuccess: Bool { (200...299).contains(status) }

  /// The body decoded as UTF-8, with invalid sequences replaced.
  public var bodyText: String { String(decoding: body, as: UTF8.self) }

  /// Returns the response when it is 2xx, and otherwise throws ``HTTPError/Kind/status(code:bodyPrefix:)``
  /// carrying the redacted head of the body.
  public func requireSuccess(for request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
    guard isSuccess else { throw HTTPError.status(self, request: request) }
    return self
  }
}
