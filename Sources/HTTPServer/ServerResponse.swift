import Foundation

/// What a handler answers: a status, headers and a body, or the instruction to drop the connection.
///
/// The server sets `Content-Length` and `Connection` itself; values a handler puts
/// there are replaced.
public struct ServerResponse: Sendable, Hashable {
  /// The status code, 200...599 (the server answers 500 for anything else).
  public var status: Int
  /// Header fields to send in addition to `Content-Length` and `Connection`.
  public var headers: HTTPHeaders
  /// The body bytes (not sent for `HEAD` requests or 204 and 304 responses).
  public var body: [UInt8]
  /// Whether to close the connection without sending anything (see ``dropConnection``).
  public private(set) var dropsConnection: Bool = false
  /// Set when only part of the answer is sent before the connection ends (see ``cutOff(afterBodyBytes:reset:)``).
  public private(set) var cut: Cut?

  /// How an answer is cut short: how much of the body is sent, and how the connection then ends.
  public struct Cut: Sendable, Hashable {
    /// Body bytes sent after the head; at most all but one byte of the body. With an empty
    /// body, the head itself is cut to half its length.
    public var bodyBytes: Int
    /// End with a TCP reset (RST) instead of an orderly close (FIN).
    public var reset: Bool
  }

  public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
    self.status = status
    self.headers = headers
    self.body = body
  }

  /// Closes the connection without sending a response, the way a crashed upstream or
  /// a reset proxy looks to a client (the client sees an empty reply).
  public static let dropConnection: ServerResponse = {
    var response = ServerResponse(status: 0)
    response.dropsConnection = true
    return response
  }()

  /// This response with its full head (and its real `Content-Length`) but only the first
  /// `bodyBytes` bytes of its body, after which the connection is closed, or reset when
  /// `reset` is true: the way an upstream that dies mid-answer, or a proxy that resets the
  /// connection, looks to a client. At least one byte of the body is always withheld.
  public func cutOff(afterBodyBytes bodyBytes: Int, reset: Bool = false) -> ServerResponse {
    var response = self
    response.cut = Cut(bodyBytes: max(0, bodyBytes), reset: reset)
    return response
  }

  /// A UTF-8 `text/plain` response.
  public static func text(_ text: String, status: Int = 200, headers: HTTPHeaders = HTTPHeaders())
    -> ServerResponse
  {
    var all = headers
    if !all.contains("Content-Type") { all["Content-Type"] = "text/plain; charset=utf-8" }
    return ServerResponse(status: status, headers: all, body: Array(text.utf8))
  }

  /// An `application/json` response from already encoded JSON bytes.
  public static func json(data: Data, status: Int = 200, headers: HTTPHeaders = HTTPHeaders())
    -> ServerResponse
  {
    var all = headers
    if !all.contains("Content-Type") { all["Content-Type"] = "application/json" }
    return ServerResponse(status: status, headers: all, body: Array(data))
  }

  /// An `application/json` response encoding `value` with sorted keys.
  ///
  /// If `value` cannot be encoded the response is a 500 with a JSON `message`
  /// naming the encoding failure, so a handler never has to handle that case.
  public static func json(
    _ value: some Encodable,
    status: Int = 200,
    headers: HTTPHeaders = HTTPHeaders(),
    encoder: JSONEncoder? = nil
  ) -> ServerResponse {
    let encoder = encoder ?? defaultEncoder()
    do {
      return json(data: try encoder.encode(value), status: status, headers: headers)
    } catch {
      let message = "response could not be encoded as JSON: \(error)"
      let fallback = (try? JSONEncoder().encode(["message": message])) ?? Data()
      return json(data: fallback, status: 500)
    }
  }

  /// The body decoded as UTF-8 text, for logs and tests.
  public var bodyText: String { String(decoding: body, as: UTF8.self) }

  private static func defaultEncoder() -> JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return encoder
  }
}

/// Reason phrases for the status line.
enum HTTPStatusPhrase {
  static func phrase(for status: Int) -> String {
    switch status {
    case 100: "Continue"
    case 200: "OK"
    case 201: "Created"
    case 202: "Accepted"
    case 204: "No Content"
    case 301: "Moved Permanently"
    case 302: "Found"
    case 304: "Not Modified"
    case 400: "Bad Request"
    case 401: "Unauthorized"
    case 403: "Forbidden"
    case 404: "Not Found"
    case 405: "Method Not Allowed"
    case 408: "Request Timeout"
    case 409: "Conflict"
    case 411: "Length Required"
    case 413: "Content Too Large"
    case 415: "Unsupported Media Type"
    case 417: "Expectation Failed"
    case 422: "Unprocessable Content"
    case 429: "Too Many Requests"
    case 431: "Request Header Fields Too Large"
    case 500: "Internal Server Error"
    case 501: "Not Implemented"
    case 502: "Bad Gateway"
    case 503: "Service Unavailable"
    case 504: "Gateway Timeout"
    case 505: "HTTP Version Not Supported"
    default:
      switch status / 100 {
      case 2: "Success"
      case 3: "Redirection"
      case 4: "Client Error"
      default: "Server Error"
      }
    }
  }
}

/// Serialisation of a response head and body to wire bytes (pure).
enum ResponseWriter {
  /// The bytes to send for `response` to a request with `method`.
  ///
  /// - Parameter keepAlive: whether the connection stays open; sets `Connection`.
  static func bytes(for response: ServerResponse, method: String?, keepAlive: Bool) -> [UInt8] {
    let (head, body) = parts(for: response, method: method, keepAlive: keepAlive)
    return head + body
  }

  /// The bytes of a response that is cut short (``ServerResponse/cut``): the head and part of
  /// the body, always at least one byte short of what the head announces.
  static func truncatedBytes(for response: ServerResponse, method: String?, cut: ServerResponse.Cut) -> [UInt8] {
    let (head, body) = parts(for: response, method: method, keepAlive: true)
    guard !body.isEmpty else { return Array(head.prefix(head.count / 2)) }
    return head + body.prefix(min(cut.bodyBytes, body.count - 1))
  }

  /// The head and the body to send, separately.
  private static func parts(for response: ServerResponse, method: String?, keepAlive: Bool) -> (
    head: [UInt8], body: [UInt8]
  ) {
    let status = (200...599).contains(response.status) ? response.status : 500
    let bodyAllowed = status != 204 && status != 304
    let body = (bodyAllowed && response.status == status) ? response.body : []
    var headers = response.headers
    headers.remove(name: "Content-Length")
    headers.remove(name: "Transfer-Encoding")
    headers.remove(name: "Connection")
    if bodyAllowed { headers.add(name: "Content-Length", value: String(body.count)) }
    headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")

    var head = "HTTP/1.1 \(status) \(HTTPStatusPhrase.phrase(for: status))\r\n"
    for field in headers where isSafeHeader(field) {
      head += "\(field.name): \(field.value)\r\n"
    }
    head += "\r\n"
    return (Array(head.utf8), method == "HEAD" ? [] : body)
  }

  /// Header fields that would break the framing (CR, LF or NUL in them) are never written.
  private static func isSafeHeader(_ field: HTTPHeaders.Field) -> Bool {
    !field.name.isEmpty
      && !field.name.utf8.contains(where: { $0 <= 0x20 || $0 == UInt8(ascii: ":") || $0 >= 0x7F })
      && !field.value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 })
  }

  static let continueBytes = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)
}
