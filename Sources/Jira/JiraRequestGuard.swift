import BridgeHTTP
import Foundation

/// The least-privilege rules: which (method, path) pairs testbridge may send to Jira at each
/// ``JiraWriteLevel``. Everything not listed is refused.
///
/// Paths are matched on their decoded segments after `/rest/api/{2|3|latest}/`, whatever comes
/// before (a Data Center context path, or `/ex/jira/{cloudId}` on the Cloud gateway). A path
/// with an empty, `.` or `..` segment, or a segment that decodes to a `/`, never matches, so
/// nothing can be smuggled past a pattern. Requests carrying a method-override header are
/// refused too.
///
/// | Level | Allowed |
/// |---|---|
/// | properties | `GET myself`, `GET mypermissions`, `GET issue/{key}`, `GET search/jql`, `GET search`, `GET issue/{key}/properties[/{propertyKey}]`, `PUT issue/{key}/properties/{propertyKey}` |
/// | links | the above, `GET issue/{key}/remotelink[/{id}]`, `POST issue/{key}/remotelink` |
/// | comments | the above, `GET issue/{key}/comment[/{id}]`, `POST issue/{key}/comment`, `PUT issue/{key}/comment/{id}` |
public struct JiraRequestGuard: Sendable, Hashable {
  /// One allowed operation.
  public struct Rule: Sendable, Hashable, CustomStringConvertible {
    public var method: HTTPMethod
    /// Segments after `/rest/api/{version}/`, with `{key}` (an issue key or numeric id),
    /// `{propertyKey}` (1 to 255 characters) and `{id}` (digits) placeholders.
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
    Rule(.PUT, "issue/{key}/properties/{propertyKey}", .properties),
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

  public init(level: JiraWriteLevel) {
    self.level = level
  }

  /// The rules this level permits.
  public var allowedRules: [Rule] { Self.rules.filter { $0.level <= level } }

  /// Whether `method` on `url` is permitted at this level.
  public func allows(method: HTTPMethod, url: URL) -> Bool {
    guard let segments = Self.apiSegments(of: url) else { return false }
    return allowedRules.contains { $0.matches(method: method, segments: segments) }
  }

  /// Throws ``JiraError/forbiddenRequest(method:path:level:)`` unless `request` is permitted.
  public func check(_ request: HTTPRequest) throws(JiraError) {
    let overridden = Self.methodOverrideHeaders.contains { request.header($0) != nil }
    guard !overridden, allows(method: request.method, url: request.url) else {
      throw .forbiddenRequest(method: request.method.rawValue, path: Self.displayPath(request.url), level: level)
    }
  }

  /// The decoded path segments after `rest/api/{2|3|latest}`, or nil when the URL is not a
  /// Jira platform REST URL or has a segment that could escape a pattern.
  public static func apiSegments(of url: URL) -> [String]? {
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
    for index in decoded.indices.dropLast(2)
    where decoded[index] == "rest" && decoded[index + 1] == "api"
      && ["2", "3", "latest"].contains(decoded[index + 2])
    {
      return Array(decoded[(index + 3)...])
    }
    return nil
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
}

/// An ``HTTPTransport`` that lets through only what ``JiraRequestGuard`` permits at `level`,
/// refusing everything else before it reaches `base`.
///
/// ``JiraClient`` holds one of these (never a bare transport), so no code path can send a Jira
/// request around the guard. Put it outermost: `GuardedJiraTransport(base: RetryingTransport(…))`.
public struct GuardedJiraTransport: HTTPTransport {
  public let base: any HTTPTransport
  public let level: JiraWriteLevel

  public init(base: any HTTPTransport, level: JiraWriteLevel) {
    self.base = base
    self.level = level
  }

  /// Throws ``JiraError/forbiddenRequest(method:path:level:)`` unless `request` is permitted.
  public func check(_ request: HTTPRequest) throws(JiraError) {
    try JiraRequestGuard(level: level).check(request)
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
