/// The seam every HTTP caller goes through: one request in, one response out.
///
/// A non-2xx status is **not** an error at this level; it comes back as an ``HTTPResponse``, so
/// retry policy and callers can read its status, headers and body. Only failures to get a
/// response at all (connection, timeout, policy refusal, cancellation) are thrown.
public protocol HTTPTransport: Sendable {
  func send(_ request: HTTPRequest) async throws(HTTPError) -> HTTPResponse
}
