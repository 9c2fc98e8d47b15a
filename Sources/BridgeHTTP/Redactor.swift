import BridgeCore
import Foundation

/// Removes credentials from URLs, headers and free text before they reach errors, logs or the
/// terminal.
///
/// Redaction is deliberately broad: a false positive costs a little debugging detail, a false
/// negative leaks a project key into a public CI log.
public enum Redactor {
  /// Query parameters whose values are credentials (compared case-insensitively).
  public static let sensitiveQueryNames: Set<String> = [
    "api_key", "apikey", "token", "access_token", "private_token", "refresh_token", "key",
    "password", "secret", "client_secret", "signature",
  ]

  /// Headers whose values are credentials (compared case-insensitively).
  public static let sensitiveHeaderNames: Set<String> = [
    "authorization", "proxy-authorization", "x-api-key", "private-token", "cookie", "set-cookie",
    "x-hub-signature", "x-hub-signature-256", "x-gitlab-token", "x-auth-token",
  ]

  /// What replaces a secret in free text.
  public static let marker = "[REDACTED]"

  /// The URL without user info and with credential query values replaced:
  /// `https://u:p@host/x?api_key=k&a=1` → `https://host/x?api_key=REDACTED&a=1`.
  public static func redact(url: URL) -> String {
    guard var components = URLComponents(url: url, resolvingAgainstBaseURL: false) else {
      return redactPatterns(url.absoluteString)
    }
    components.percentEncodedUser = nil
    components.percentEncodedPassword = nil
    if let items = components.percentEncodedQueryItems {
      components.percentEncodedQueryItems = items.map { item in
        guard item.value != nil, isSensitiveQueryName(item.name) else { return item }
        return URLQueryItem(name: item.name, value: "REDACTED")
      }
    }
    // The patterns also catch tokens in the path or fragment (`#access_token=…`).
    return redactPatterns(components.string ?? url.absoluteString)
  }

  /// The URL with its credentials removed rather than masked, for URLs that are stored and used
  /// again (a spool's base URL): no user info, no credential query parameters (and no query left
  /// when those were all it had), no fragment. `https://u:p@host/x?api_key=k&a=1` →
  /// `https://host/x?a=1`. A URL that cannot be taken apart comes back as nil.
  public static func withoutCredentials(_ url: URL) -> URL? {
    guard var components = URLComponents(url: url, resolvingAgainstBaseURL: false) else { return nil }
    components.percentEncodedUser = nil
    components.percentEncodedPassword = nil
    components.percentEncodedFragment = nil
    if let items = components.percentEncodedQueryItems {
      let kept = items.filter { !isSensitiveQueryName($0.name) }
      components.percentEncodedQueryItems = kept.isEmpty ? nil : kept
    }
    return components.url
  }

  /// A URL as the user typed it, possibly not a valid one, made fit to echo in an error:
  /// whatever precedes an `@` after the scheme (user info) is dropped, then credential
  /// query parameters and key-shaped text are masked as in ``redact(text:secrets:)``.
  /// `htps://bob:s3cret@host/x?api_key=k` → `htps://host/x?api_key=REDACTED`.
  public static func redact(urlText text: String) -> String {
    var shown = Substring(text)
    if let at = shown.lastIndex(of: "@") {
      let before = shown[..<at]
      let scheme = before.range(of: "://").map { String(before[..<$0.upperBound]) } ?? ""
      shown = Substring(scheme + shown[shown.index(after: at)...])
    }
    return redact(text: String(shown), secrets: [])
  }

  /// `text` with every listed secret (those of at least 4 characters) replaced by `[REDACTED]`,
  /// plus anything that looks like a credential whatever its value: `"api_key":"…"` JSON fields,
  /// `Authorization: …` header lines, `api_key=…` query parameters, bearer credentials and
  /// Testomat.io `tstmt_…` keys.
  public static func redact(text: String, secrets: [String]) -> String {
    var result = text
    var needles: Set<String> = []
    for secret in secrets where secret.count >= 4 {
      needles.insert(secret)
      if let encoded = secret.addingPercentEncoding(withAllowedCharacters: .alphanumerics) {
        needles.insert(encoded)
      }
    }
    // Longest first, so a secret that contains another is replaced whole.
    for needle in needles.sorted(by: { ($0.count, $0) > ($1.count, $1) }) {
      result = result.replacingOccurrences(of: needle, with: marker)
    }
    return redactPatterns(result)
  }

  /// The headers with credential values replaced by `REDACTED`; names are kept as given.
  public static func redactedHeaders(_ headers: [String: String]) -> [String: String] {
    var result = headers
    for name in headers.keys where sensitiveHeaderNames.contains(name.lowercased()) {
      result[name] = "REDACTED"
    }
    return result
  }

  /// The credentials a request carries: sensitive header values (and the credential after a
  /// `Bearer`/`Basic` scheme), sensitive query values, and sensitive top-level string fields of
  /// a JSON body. Used to scrub server replies that echo them back.
  public static func secrets(in request: HTTPRequest) -> [String] {
    var found: [String] = []
    for (name, value) in request.headers where sensitiveHeaderNames.contains(name.lowercased()) {
      found.append(value)
      if let space = value.firstIndex(of: " ") {
        found.append(String(value[value.index(after: space)...]).trimmingCharacters(in: .whitespaces))
      }
    }
    if let components = URLComponents(url: request.url, resolvingAgainstBaseURL: false) {
      for item in components.queryItems ?? [] where isSensitiveQueryName(item.name) {
        if let value = item.value { found.append(value) }
      }
      if let password = components.password { found.append(password) }
    }
    if let body = request.body, body.count <= 8 << 20,
      case .object(let fields)? = JSONValue.parse(body)
    {
      for (name, value) in fields where isSensitiveFieldName(name) {
        if case .string(let text) = value { found.append(text) }
      }
    }
    return found
  }

  /// The head of a response body as one line of text, redacted, at most `limit` UTF-8 bytes
  /// (plus `…` when cut).
  public static func bodyPrefix(_ body: [UInt8], secrets: [String], limit: Int = 512) -> String {
    // Redact a window larger than the limit, so a secret straddling the cut is still whole
    // when it is matched.
    let window = body.prefix(limit + 2048)
    var text = redact(text: String(decoding: window, as: UTF8.self), secrets: secrets)
    text = String(
      String.UnicodeScalarView(
        text.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : $0 }))
    var kept = ""
    var bytes = 0
    var cut = body.count > window.count
    for character in text {
      let width = character.utf8.count
      if bytes + width > limit {
        cut = true
        break
      }
      kept.append(character)
      bytes += width
    }
    return cut ? kept + "…" : kept
  }

  /// Whether a JSON field or form field of this name holds a credential.
  static func isSensitiveFieldName(_ name: String) -> Bool {
    isSensitiveQueryName(name) || sensitiveHeaderNames.contains(name.lowercased())
  }

  static func isSensitiveQueryName(_ name: String) -> Bool {
    sensitiveQueryNames.contains((name.removingPercentEncoding ?? name).lowercased())
  }

  /// Value-independent redaction: credentials recognised by their shape or their label.
  static func redactPatterns(_ text: String) -> String {
    var result = text
    // JSON fields: "api_key": "tstmt_…"  →  "api_key":"[REDACTED]"
    let jsonField =
      /"(api_key|apikey|token|access_token|private_token|refresh_token|password|secret|client_secret|authorization|x-api-key|private-token)"\s*:\s*"(?:[^"\\]|\\.)*"/
      .ignoresCase()
    result = result.replacing(jsonField) { match in "\"\(match.output.1)\":\"\(marker)\"" }
    // Header lines: Authorization: Bearer …  →  Authorization: [REDACTED]
    let headerLine =
      /(proxy-authorization|authorization|x-api-key|private-token|set-cookie|cookie|x-hub-signature-256|x-hub-signature|x-gitlab-token|x-auth-token)[ \t]*:[ \t]*[^\r\n]*/
      .ignoresCase()
    result = result.replacing(headerLine) { match in "\(match.output.1): \(marker)" }
    // Query parameters in URLs quoted inside text: ?api_key=…  →  ?api_key=REDACTED
    let queryParameter =
      /(^|[^A-Za-z0-9_])(api_key|apikey|token|access_token|private_token|refresh_token|key|password|secret|client_secret|signature)=([^&\s"'#<>]*)/
      .ignoresCase()
    result = result.replacing(queryParameter) { match in
      match.output.3.isEmpty
        ? String(match.output.0) : "\(match.output.1)\(match.output.2)=REDACTED"
    }
    // Credentials after an authentication scheme, wherever they appear.
    let bearer = /(Bearer|Basic)[ \t]+[A-Za-z0-9._~+\/=-]{8,}/.ignoresCase()
    result = result.replacing(bearer) { match in "\(match.output.1) \(marker)" }
    // Testomat.io project keys (tstmt_…) and general tokens (testomat_…).
    let testomatioKey = /(tstmt_|testomat_)[A-Za-z0-9_-]{4,}/
    result = result.replacing(testomatioKey) { _ in marker }
    return result
  }
}
