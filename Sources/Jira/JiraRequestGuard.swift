import BridgeHTTP
import Foundation

/// The least-privilege rules: which (method, path) pairs testbridge may send to Jira at each
/// ``JiraWriteLevel``, and where. Everything not listed is refused.
///
/// A request must go to the configured REST base (``JiraConfig/restBaseURL``): the same
/// scheme, host and port, and a path that starts with the base's own segments (a Data Center
/// context path, `/ex/jira/{cloudId}` on the Cloud gateway, then `rest/api/{version}`) and goes
/// on with one of the patterns below, segment by segment. A request to another host, port or
/// scheme, another REST version, or with anything between the base and the operation never
/// matches. A path with an empty, `.` or `..` segment, or a segment that decodes to a `/`,
/// never matches either, so nothing can be smuggled past a pattern. Requests carrying a
/// method-override header or credentials in the URL are refused too.
///
/// | Level | Allowed |
/// |---|---|
/// | properties | `GET myself`, `GET mypermissions`, `GET issue/{key}`, `GET search/jql`, `GET search`, `GET issue/{key}/properties[/{propertyKey}]`, `PUT issue/{key}/properties/testbridge.runs` |
/// | links | the above, `GET issue/{key}/remotelink[/{id}]`, `POST issue/{key}/remotelink` |
/// | comments | the above, `GET issue/{key}/comment[/{id}]`, `POST issue/{key}/comment`, `PUT issue/{key}/comment/{id}` |
///
/// Any property may be read, but the only one written is testbridge's own
/// (``RunHistoryProperty/key``): the properties other apps keep on an issue, such as
/// Testomat.io's `{slug}.testomatio.tests`, cannot be overwritten.
public struct JiraRequestGuard: Sendable, Hashable {
  /// One allowed operation.
  public struct Rule: Sendable, Hashable, CustomStringConvertible {
    public var method: HTTPMethod
    /// Segments after `/rest/api/{version}/`, with `{key}` (an issue key or numeric id),
    /// `{propertyKey}` (1 to 255 characters) and `{id}` (digits) placeholders; any other
    /// segment must match exactly.
    public var pattern: String
    /// The lowest level that permits it.
    public var level: JiraWriteLevel

    public init(_ method: HTTPMethod, _ pattern: String, _ level: JiraWriteLevel) {
      self.method = method
      self.pattern = pattern
      self.level = level
    }

    public var description: String { "\(method.rawValue) \(pattern)" }

    func matches(method: HTTPMethod, segments: [String]) -> Bool {
      guard method == self.method else { return false }
      let parts = pattern.split(separator: "/").map(String.init)
      guard parts.count == segments.count else { return false }
      for (part, segment) in zip(parts, segments) {
        switch part {
        case "{key}": guard JiraRequestGuard.isIssueKeyOrID(segment) else { return false }
        case "{propertyKey}": guard JiraRequestGuard.isPropertyKey(segment) else { return false }
        case "{id}": guard !segment.isEmpty, segment.allSatisfy({ $0.isASCII && $0.isNumber }) else { return false }
        default: guard part == segment else { return false }
        }
      }
      return true
    }
  }

  /// Every allowed operation, with the lowest level that permits it.
  public static let rules: [Rule] = [
    Rule(.GET, "myself", .properties),
    Rule(.GET, "mypermissions", .properties),
    Rule(.GET, "issue/{key}", .properties),
    Rule(.GET, "search/jql", .properties),
    Rule(.GET, "search", .properties),
    Rule(.GET, "issue/{key}/properties", .properties),
    Rule(.GET, "issue/{key}/properties/{propertyKey}", .properties),
    Rule(.PUT, "issue/{key}/properties/\(RunHistoryProperty.key)", .properties),
    Rule(.GET, "issue/{key}/remotelink", .links),
    Rule(.GET, "issue/{key}/remotelink/{id}", .links),
    Rule(.POST, "issue/{key}/remotelink", .links),
    Rule(.GET, "issue/{key}/comment", .comments),
    Rule(.GET, "issue/{key}/comment/{id}", .comments),
    Rule(.POST, "issue/{key}/comment", .comments),
    Rule(.PUT, "issue/{key}/comment/{id}", .comments),
  ]

  /// Headers that ask a server to treat the request as another method.
  public static let methodOverrideHeaders = ["X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"]

  public let level: JiraWriteLevel
  /// Where every request must go: ``JiraConfig/restBaseURL``, such as
  /// `https://acme.atlassian.net/rest/api/3`.
  public let restBaseURL: URL

  public init(level: JiraWriteLevel, restBaseURL: URL) {
    self.level = level
    self.restBaseURL = restBaseURL
  }

  /// The guard for `config`'s REST base.
  public init(level: JiraWriteLevel, config: JiraConfig) {
    self.init(level: level, restBaseURL: config.restBaseURL)
  }

  /// The rules this level permits.
  public var allowedRules: [Rule] { Self.rules.filter { $0.level <= level } }

  /// Whether `method` on `url` is permitted at this level.
  public func allows(method: HTTPMethod, url: URL) -> Bool {
    guard let segments = operationSegments(of: url) else { return false }
    return allowedRules.contains { $0.matches(method: method, segments: segments) }
  }

  /// Throws ``JiraError/foreignRequest(method:url:base:)`` when `request` does not go to the
  /// REST base, and ``JiraError/forbiddenRequest(method:path:level:)`` when it does but is not
  /// permitted at this level.
  public func check(_ request: HTTPRequest) throws(JiraError) {
    guard goesToBase(request.url) else {
      throw .foreignRequest(
        method: request.method.rawValue, url: Self.displayURL(request.url), base: Self.displayURL(restBaseURL))
    }
    let overridden = Self.methodOverrideHeaders.contains { request.header($0) != nil }
    guard !overridden, allows(method: request.method, url: request.url) else {
      throw .forbiddenRequest(method: request.method.rawValue, path: Self.displayPath(request.url), level: level)
    }
  }

  /// Whether `url` has the base's scheme, host and port, and its path starts with the base's
  /// segments and goes on past them (whether what follows is allowed is another matter).
  public func goesToBase(_ url: URL) -> Bool {
    guard Self.sameOrigin(url, restBaseURL), let base = Self.decodedSegments(of: restBaseURL),
      let components = URLComponents(url: url, resolvingAgainstBaseURL: false)
    else { return false }
    let raw = components.percentEncodedPath.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
    guard components.percentEncodedPath.hasPrefix("/"), raw.count > base.count else { return false }
    return zip(raw, base).allSatisfy { $0.removingPercentEncoding == $1 }
  }

  /// The decoded path segments of `url` after the REST base, or nil when `url` does not go to
  /// the base (another scheme, host, port or path prefix, credentials in the URL, a fragment)
  /// or has a segment that could escape a pattern.
  public func operationSegments(of url: URL) -> [String]? {
    guard Self.sameOrigin(url, restBaseURL), let segments = Self.decodedSegments(of: url),
      let base = Self.decodedSegments(of: restBaseURL), segments.count > base.count,
      Array(segments.prefix(base.count)) == base
    else { return nil }
    return Array(segments.dropFirst(base.count))
  }

  /// The decoded path segments after the first `rest/api/{2|3|latest}`, or nil when the URL is
  /// not a Jira platform REST URL or has a segment that could escape a pattern.
  ///
  /// Looser than the guard (any host, any prefix): for shaping canned dry-run answers, never
  /// for deciding what may be sent.
  public static func apiSegments(of url: URL) -> [String]? {
    guard let decoded = decodedSegments(of: url) else { return nil }
    for index in decoded.indices.dropLast(2)
    where decoded[index] == "rest" && decoded[index + 1] == "api"
      && ["2", "3", "latest"].contains(decoded[index + 2])
    {
      return Array(decoded[(index + 3)...])
    }
    return nil
  }

  /// Every decoded path segment of an absolute path, or nil when one is empty, a dot segment,
  /// or decodes to a separator or control character (a trailing `/` is an empty segment too).
  static func decodedSegments(of url: URL) -> [String]? {
    guard let components = URLComponents(url: url, resolvingAgainstBaseURL: false) else { return nil }
    var raw = components.percentEncodedPath.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
    guard raw.first == "" else { return nil }  // must be absolute
    raw.removeFirst()
    var decoded: [String] = []
    for segment in raw {
      guard let text = segment.removingPercentEncoding, !text.isEmpty, text != ".", text != "..",
        !text.contains("/"), !text.contains("\\"),
        !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
      else { return nil }
      decoded.append(text)
    }
    return decoded
  }

  /// Same scheme, host (any casing) and port (the scheme's default when absent), and no
  /// credentials or fragment in `url`.
  static func sameOrigin(_ url: URL, _ base: URL) -> Bool {
    guard let one = URLComponents(url: url, resolvingAgainstBaseURL: false),
      let other = URLComponents(url: base, resolvingAgainstBaseURL: false),
      let scheme = one.scheme?.lowercased(), scheme == other.scheme?.lowercased(),
      let host = one.host?.lowercased(), !host.isEmpty, host == other.host?.lowercased(),
      one.user == nil, one.password == nil, one.fragment == nil
    else { return false }
    func port(_ components: URLComponents, _ scheme: String) -> Int? {
      components.port ?? (scheme == "https" ? 443 : scheme == "http" ? 80 : nil)
    }
    return port(one, scheme) != nil && port(one, scheme) == port(other, scheme)
  }

  /// `ABC-12`, `abc_2-7` or a numeric issue id.
  static func isIssueKeyOrID(_ text: String) -> Bool {
    if !text.isEmpty, text.count <= 20, text.allSatisfy({ $0.isASCII && $0.isNumber }) { return true }
    guard let dash = text.lastIndex(of: "-") else { return false }
    let project = text[..<dash]
    let number = text[text.index(after: dash)...]
    guard let first = project.first, first.isASCII, first.isLetter, project.count <= 255,
      project.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }),
      !number.isEmpty, number.count <= 18, number.allSatisfy({ $0.isASCII && $0.isNumber })
    else { return false }
    return true
  }

  /// 1 to 255 characters (path separators and dot segments are already excluded).
  static func isPropertyKey(_ text: String) -> Bool {
    (1...255).contains(text.count)
  }

  /// The path as sent, without scheme, host or query, redacted: `/rest/api/3/issue/ABC-1`.
  static func displayPath(_ url: URL) -> String {
    let path = URLComponents(url: url, resolvingAgainstBaseURL: false)?.percentEncodedPath ?? url.path
    return Redactor.redact(text: path.isEmpty ? "/" : path, secrets: [])
  }

  /// Scheme, host, port and path, without credentials, query or fragment, redacted.
  static func displayURL(_ url: URL) -> String {
    guard var components = URLComponents(url: url, resolvingAgainstBaseURL: false) else {
      return displayPath(url)
    }
    components.percentEncodedUser = nil
    components.percentEncodedPassword = nil
    components.percentEncodedQuery = nil
    components.percentEncodedFragment = nil
    return Redactor.redact(text: components.string ?? displayPath(url), secrets: [])
  }
}

/// An ``HTTPTransport`` that lets through only what ``JiraRequestGuard`` permits at `level`
/// on `restBaseURL`, refusing everything else before it reaches `base`.
///
/// ``JiraClient`` holds one of these (never a bare transport), so no code path can send a Jira
/// request around the guard. Put it outermost: `GuardedJiraTransport(base: RetryingTransport(…))`,
/// over a transport that does not follow redirects (a redirect is a new request the guard
/// never sees).
public struct GuardedJiraTransport: HTTPTransport {
  public let base: any HTTPTransport
  public let rules: JiraRequestGuard

  public init(base: any HTTPTransport, level: JiraWriteLevel, restBaseURL: URL) {
    self.base = base
    self.rules = JiraRequestGuard(level: level, restBaseURL: restBaseURL)
  }

  /// The write level enforced.
  public var level: JiraWriteLevel { rules.level }

  /// Throws ``JiraError/foreignRequest(method:url:base:)`` or
  /// ``JiraError/forbiddenRequest(method:path:level:)`` unless `request` is permitted.
  public func check(_ request: HTTPRequest) throws(JiraError) {
    try rules.check(request)
  }

  /// Sends `request` through `base` when permitted; otherwise throws
  /// ``HTTPError/Kind/refused(reason:)`` carrying the guard's message, without sending.
  public func send(_ request: HTTPRequest) async throws(HTTPError) -> HTTPResponse {
    do throws(JiraError) {
      try check(request)
    } catch {
      throw HTTPError(.refused(reason: error.description), request: request)
    }
    return try await base.send(request)
  }
}
