import BridgeHTTP
import Foundation
import Testing

@Suite struct TransportPolicyTests {
  static let allowed: [(String, Bool)] = [
    ("https://app.testomat.io/api/reporter", false),
    ("HTTPS://Example.COM/x", false),
    ("http://127.0.0.1:8080/api", false),
    ("http://127.45.6.7/api", false),
    ("http://localhost:3000/", false),
    ("http://LOCALHOST./", false),
    ("http://[::1]:9000/x", false),
    ("http://jira.internal.example/rest", true),
    ("http://10.0.0.5/ci", true),
  ]

  @Test(arguments: allowed)
  func accepted(_ text: String, _ allowInsecureHTTP: Bool) throws {
    try TransportPolicy.checkScheme(url(text), allowInsecureHTTP: allowInsecureHTTP)
  }

  static let refused: [(String, Bool)] = [
    ("http://app.testomat.io/api/reporter?api_key=tstmt_query_secret", false),
    ("http://127.0.0.1.nip.io/x", false),
    ("http://128.0.0.1/x", false),
    ("http://localhost.example.com/x", false),
    ("http://0x7f000001/x", false),
    ("ftp://127.0.0.1/file", true),
    ("file:///etc/passwd", true),
    ("ws://127.0.0.1/socket", true),
    ("https:///nohost", true),
  ]

  @Test(arguments: refused)
  func refusedURLs(_ text: String, _ allowInsecureHTTP: Bool) {
    #expect(throws: HTTPError.self) {
      try TransportPolicy.checkScheme(url(text), allowInsecureHTTP: allowInsecureHTTP)
    }
  }

  @Test func insecureRefusalNamesTheFlagAndHostButNotTheQuery() throws {
    let target = url("http://user:pw@app.testomat.io:8080/api/reporter?api_key=tstmt_query_secret#frag")
    let error = try #require(throws: HTTPError.self) {
      try TransportPolicy.checkScheme(target, allowInsecureHTTP: false, method: .POST)
    }
    guard case .refused = error.kind else {
      Issue.record("expected a refusal, got \(error.kind)")
      return
    }
    #expect(error.description.contains("--allow-insecure-http"))
    #expect(error.description.contains("'app.testomat.io'"))
    #expect(!error.description.contains("api_key"))
    #expect(!error.description.contains("tstmt_"))
    #expect(!error.description.contains("pw"))
    #expect(error.requestLine == "POST http://app.testomat.io:8080/api/reporter")
    #expect(
      error.description
        == "POST http://app.testomat.io:8080/api/reporter refused: plain http to 'app.testomat.io' would expose credentials; use https, or pass --allow-insecure-http to permit it"
    )
  }

  @Test func unsupportedSchemeIsNamed() throws {
    let error = try #require(throws: HTTPError.self) {
      try TransportPolicy.checkScheme(url("ftp://127.0.0.1/x"), allowInsecureHTTP: true)
    }
    #expect(error.description == "ftp://127.0.0.1/x refused: unsupported URL scheme 'ftp'; use https")
  }

  @Test(arguments: [
    ("127.0.0.1", true), ("127.255.255.254", true), ("localhost", true), ("::1", true), ("[::1]", true),
    ("127.0.0", false), ("127.0.0.256", false), ("1127.0.0.1", false), ("127.0.0.1.", true),
    ("::ffff:127.0.0.1", false), ("example.com", false), ("", false),
  ])
  func loopbackHosts(_ host: String, _ expected: Bool) {
    #expect(TransportPolicy.isLoopback(host: host) == expected)
  }
}
