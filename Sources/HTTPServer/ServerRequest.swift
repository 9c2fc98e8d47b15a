/// One parsed HTTP/1.x request, body fully read.
public struct ServerRequest: Sendable, CustomStringConvertible {
  /// The request method as sent, e.g. `GET` (methods are case-sensitive).
  public var method: String
  /// The request target exactly as sent, e.g. `/api/test_grep?type=tag&id=smoke`.
  public var target: String
  /// The percent-decoded path of the target, without the query, e.g. `/api/test_grep`.
  public var path: String
  /// The decoded query items in order (`+` is a space); a name without `=` has an empty value.
  public var query: [(name: String, value: String)]
  /// The protocol version as sent, `HTTP/1.1` or `HTTP/1.0`.
  public var version: String
  /// The header fields; lookups are case-insensitive.
  public var headers: HTTPHeaders
  /// The body after any chunked transfer coding was removed.
  public var body: [UInt8]

  public init(
    method: String,
    target: String,
    path: String? = nil,
    query: [(name: String, value: String)]? = nil,
    version: String = "HTTP/1.1",
    headers: HTTPHeaders = HTTPHeaders(),
    body: [UInt8] = []
  ) {
    self.method = method
    self.target = target
    let split = RequestTarget.split(target)
    self.path = path ?? split.path
    self.query = query ?? split.query
    self.version = version
    self.headers = headers
    self.body = body
  }

  /// The first decoded value of the query item `name`, or nil.
  public func queryValue(_ name: String) -> String? {
    query.first { $0.name == name }?.value
  }

  /// Every decoded value of the query item `name`, in order.
  public func queryValues(_ name: String) -> [String] {
    query.filter { $0.name == name }.map(\.value)
  }

  /// Whether the client asked to keep the connection open after this request.
  ///
  /// HTTP/1.1 keeps it open unless `Connection: close` is sent; HTTP/1.0 closes
  /// it unless `Connection: keep-alive` is sent.
  public var wantsKeepAlive: Bool {
    if headers.containsToken("close", in: "Connection") { return false }
    if version == "HTTP/1.0" { return headers.containsToken("keep-alive", in: "Connection") }
    return true
  }

  /// The method and path only: the query is left out because it may carry credentials.
  public var description: String { "\(method) \(path)" }
}

extension ServerRequest: Equatable {
  public static func == (lhs: ServerRequest, rhs: ServerRequest) -> Bool {
    lhs.method == rhs.method && lhs.target == rhs.target && lhs.path == rhs.path
      && lhs.query.count == rhs.query.count
      && zip(lhs.query, rhs.query).allSatisfy { $0.name == $1.name && $0.value == $1.value }
      && lhs.version == rhs.version && lhs.headers == rhs.headers && lhs.body == rhs.body
  }
}

/// Splitting and decoding of request targets (pure).
enum RequestTarget {
  /// Splits a target into its decoded path and decoded query items; undecodable parts are kept raw.
  static func split(_ target: String) -> (path: String, query: [(name: String, value: String)]) {
    let (rawPath, rawQuery) = parts(of: target)
    let path = percentDecode(rawPath, plusIsSpace: false) ?? rawPath
    let query = rawQuery.map { decodeQuery($0) ?? [] } ?? []
    return (path, query)
  }

  /// The raw path and raw query (without `?`) of an origin-form or absolute-form target; fragments are dropped.
  static func parts(of target: String) -> (path: String, query: String?) {
    var rest = Substring(target)
    if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
    // absolute-form: "http://host:port/path?query" (sent to proxies; servers must accept it).
    if rest.hasPrefix("http://") || rest.hasPrefix("https://"),
      let schemeEnd = rest.range(of: "://")
    {
      let afterAuthority = rest[schemeEnd.upperBound...]
      if let slash = afterAuthority.firstIndex(where: { $0 == "/" || $0 == "?" }) {
        rest = afterAuthority[slash...]
        if rest.hasPrefix("?") { rest = "/" + rest }
      } else {
        rest = "/"
      }
    }
    guard let mark = rest.firstIndex(of: "?") else { return (String(rest), nil) }
    return (String(rest[..<mark]), String(rest[rest.index(after: mark)...]))
  }

  /// Decodes `a=1&b=x+y` into items, or nil when a percent escape is invalid.
  static func decodeQuery(_ raw: String) -> [(name: String, value: String)]? {
    var items: [(name: String, value: String)] = []
    for pair in raw.split(separator: "&", omittingEmptySubsequences: true) {
      let name: Substring
      let value: Substring
      if let equals = pair.firstIndex(of: "=") {
        name = pair[..<equals]
        value = pair[pair.index(after: equals)...]
      } else {
        name = pair
        value = ""
      }
      guard let decodedName = percentDecode(name, plusIsSpace: true),
        let decodedValue = percentDecode(value, plusIsSpace: true)
      else { return nil }
      items.append((decodedName, decodedValue))
    }
    return items
  }

  /// Percent-decodes UTF-8 text, or returns nil for a truncated or non-hex escape or invalid UTF-8.
  static func percentDecode(_ text: some StringProtocol, plusIsSpace: Bool) -> String? {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(text.utf8.count)
    var iterator = text.utf8.makeIterator()
    while let byte = iterator.next() {
      switch byte {
      case UInt8(ascii: "%"):
        guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue)
        else { return nil }
        bytes.append(high << 4 | low)
      case UInt8(ascii: "+") where plusIsSpace:
        bytes.append(UInt8(ascii: " "))
      default:
        bytes.append(byte)
      }
    }
    return String(validating: bytes, as: UTF8.self)
  }

  static func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
    default: return nil
    }
  }
}
