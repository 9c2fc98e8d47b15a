import Foundation

/// Which URLs the bridge is willing to send credentials to.
public enum TransportPolicy {
  /// Accepts `https` always, and plain `http` only to a loopback host (`127.0.0.0/8`, `::1`,
  /// `localhost`) unless `allowInsecureHTTP` is set. Every other scheme is refused.
  ///
  /// The error names the host and the `--allow-insecure-http` flag, never the path or query.
  /// - Parameter method: used only to build the error's request line.
  public static func checkScheme(
    _ url: URL, allowInsecureHTTP: Bool, method: HTTPMethod? = nil
  ) throws(HTTPError) {
    let scheme = url.scheme?.lowercased() ?? ""
    let host = url.host ?? ""
    let requestLine = (method.map { "\($0.rawValue) " } ?? "") + withoutQuery(url)
    switch scheme {
    case "https":
      guard !host.isEmpty else {
        throw HTTPError(.refused(reason: "the URL has no host"), requestLine: requestLine)
      }
    case "http":
      guard !host.isEmpty else {
        throw HTTPError(.refused(reason: "the URL has no host"), requestLine: requestLine)
      }
      if isLoopback(host: host) || allowInsecureHTTP { return }
      throw HTTPError(
        .refused(
          reason:
            "plain http to '\(host)' would expose credentials; use https, or pass --allow-insecure-http to permit it"
        ),
        requestLine: requestLine)
    default:
      let shown = scheme.isEmpty ? "(none)" : scheme
      throw HTTPError(
        .refused(reason: "unsupported URL scheme '\(shown)'; use https"), requestLine: requestLine)
    }
  }

  /// Whether `host` names this machine: `localhost`, an IPv4 address in `127.0.0.0/8`, or `::1`.
  public static func isLoopback(host: String) -> Bool {
    var name = host.lowercased()
    if name.hasPrefix("["), name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
    if name.hasSuffix(".") { name = String(name.dropLast()) }
    if name == "localhost" || name == "::1" || name == "0:0:0:0:0:0:0:1" { return true }
    let octets = name.split(separator: ".", omittingEmptySubsequences: false)
    guard octets.count == 4 else { return false }
    var values: [Int] = []
    for octet in octets {
      guard (1...3).contains(octet.count), octet.allSatisfy(\.isASCII), octet.allSatisfy(\.isNumber),
        let value = Int(octet), value <= 255
      else { return false }
      values.append(value)
    }
    return values.first == 127
  }

  /// The URL without user info, query or fragment, for errors that must not show the query.
  static func withoutQuery(_ url: URL) -> String {
    guard var components = URLComponents(url: url, resolvingAgainstBaseURL: false) else {
      return "(invalid URL)"
    }
    components.percentEncodedUser = nil
    components.percentEncodedPassword = nil
    components.percentEncodedQuery = nil
    components.percentEncodedFragment = nil
    return Redactor.redactPatterns(components.string ?? "(invalid URL)")
  }
}
