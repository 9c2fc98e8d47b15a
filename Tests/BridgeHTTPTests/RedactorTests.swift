import BridgeHTTP
import Foundation
import Testing

@Suite struct RedactorTests {
  static let urlCases: [(String, String)] = [
    ("https://app.testomat.io/api/reporter?api_key=tstmt_secret", "https://app.testomat.io/api/reporter?api_key=REDACTED"),
    ("https://h/x?a=1&token=abc&b=2", "https://h/x?a=1&token=REDACTED&b=2"),
    ("https://h/x?API_KEY=abc", "https://h/x?API_KEY=REDACTED"),
    ("https://h/x?access_token=a&private_token=b&key=c&password=d&secret=e&signature=f",
     "https://h/x?access_token=REDACTED&private_token=REDACTED&key=REDACTED&password=REDACTED&secret=REDACTED&signature=REDACTED"),
    ("https://h/x?api%5Fkey=abc", "https://h/x?api%5Fkey=REDACTED"),
    ("https://alice:hunter2@jira.example.com/rest/api/2/issue", "https://jira.example.com/rest/api/2/issue"),
    ("https://h/x?monkey=banana&keyword=x", "https://h/x?monkey=banana&keyword=x"),
    ("https://h/cb#access_token=abcdef", "https://h/cb#access_token=REDACTED"),
    ("https://h/api/reporter/tstmt_AbCdEf12/run", "https://h/api/reporter/[REDACTED]/run"),
    ("http://127.0.0.1:8080/plain", "http://127.0.0.1:8080/plain"),
  ]

  @Test(arguments: urlCases)
  func urlRedaction(_ input: String, _ expected: String) {
    #expect(Redactor.redact(url: url(input)) == expected)
  }

  @Test func textRedactsGivenSecretsOfFourOrMoreCharacters() {
    let text = "user abc logged in with s3cr3t-value, then s3cr3t-value%2F again; tiny=abc"
    let redacted = Redactor.redact(text: text, secrets: ["s3cr3t-value", "abc", ""])
    #expect(redacted == "user abc logged in with [REDACTED], then [REDACTED]%2F again; tiny=abc")
    #expect(Redactor.redact(text: "key a/b+c", secrets: ["a/b+c"]) == "key [REDACTED]")
    #expect(Redactor.redact(text: "q=a%2Fb%2Bc", secrets: ["a/b+c"]) == "q=[REDACTED]")
  }

  @Test func textRedactsLongestSecretFirst() {
    #expect(Redactor.redact(text: "tok=abcd1234", secrets: ["abcd", "abcd1234"]) == "tok=[REDACTED]")
  }

  static let patternCases: [(String, String)] = [
    (#"{"api_key":"anything-here","title":"t"}"#, #"{"api_key":"[REDACTED]","title":"t"}"#),
    (#"{"API_KEY" : "x\"y", "n":1}"#, #"{"API_KEY":"[REDACTED]", "n":1}"#),
    (#"{"password":"p","token":"t","secret":"s"}"#, #"{"password":"[REDACTED]","token":"[REDACTED]","secret":"[REDACTED]"}"#),
    ("Authorization: Bearer eyJhbGciOi.payload.sig\r\nHost: x", "Authorization: [REDACTED]\r\nHost: x"),
    ("proxy-authorization:Basic dXNlcjpwYXNz", "proxy-authorization: [REDACTED]"),
    ("X-Api-Key: k-123\nPrivate-Token: glpat-xyz", "X-Api-Key: [REDACTED]\nPrivate-Token: [REDACTED]"),
    ("invalid key tstmt_AbC123_xyz-9 for project", "invalid key [REDACTED] for project"),
    ("general testomat_QWERTY12345 token", "general [REDACTED] token"),
    ("called GET /api?api_key=zzz&x=1 and failed", "called GET /api?api_key=REDACTED&x=1 and failed"),
    ("sent with bearer abcdefghijklmnop", "sent with bearer [REDACTED]"),
    ("nothing secret here: status=passed", "nothing secret here: status=passed"),
  ]

  @Test(arguments: patternCases)
  func textRedactsCredentialShapes(_ input: String, _ expected: String) {
    #expect(Redactor.redact(text: input, secrets: []) == expected)
  }

  @Test func headerRedaction() {
    let headers = [
      "Authorization": "Bearer abc", "proxy-authorization": "Basic x", "X-Api-Key": "k",
      "PRIVATE-TOKEN": "t", "Cookie": "a=b", "X-Hub-Signature-256": "sha256=..", "X-Hub-Signature": "sha1=..",
      "Content-Type": "application/json", "Accept": "*/*",
    ]
    let redacted = Redactor.redactedHeaders(headers)
    #expect(redacted["Authorization"] == "REDACTED")
    #expect(redacted["proxy-authorization"] == "REDACTED")
    #expect(redacted["X-Api-Key"] == "REDACTED")
    #expect(redacted["PRIVATE-TOKEN"] == "REDACTED")
    #expect(redacted["Cookie"] == "REDACTED")
    #expect(redacted["X-Hub-Signature-256"] == "REDACTED")
    #expect(redacted["X-Hub-Signature"] == "REDACTED")
    #expect(redacted["Content-Type"] == "application/json")
    #expect(redacted["Accept"] == "*/*")
    #expect(redacted.count == headers.count)
  }

  @Test func secretsAreCollectedFromHeadersQueryAndJSONBody() {
    let req = request(
      .POST, "https://h/api?api_key=QUERYKEY1&x=1",
      headers: ["Authorization": "Bearer HEADERTOKEN", "Accept": "application/json"],
      body: #"{"api_key":"BODYKEY123","title":"not secret"}"#)
    let secrets = Set(Redactor.secrets(in: req))
    #expect(secrets.isSuperset(of: ["QUERYKEY1", "Bearer HEADERTOKEN", "HEADERTOKEN", "BODYKEY123"]))
    #expect(!secrets.contains("not secret"))
    #expect(!secrets.contains("application/json"))
  }

  @Test func bodyPrefixIsCappedAtTheLimitAndOneLine() {
    let long = String(repeating: "é", count: 400)  // 800 bytes
    let prefix = Redactor.bodyPrefix(Array(long.utf8), secrets: [])
    #expect(prefix.hasSuffix("…"))
    #expect(prefix.dropLast().utf8.count == 512)
    #expect(Redactor.bodyPrefix(Array("a\nb\r\tc".utf8), secrets: []) == "a b  c")
    #expect(Redactor.bodyPrefix(Array("short".utf8), secrets: []) == "short")
  }

  /// A secret straddling the 512-byte cut is still removed rather than half shown.
  @Test func bodyPrefixRedactsBeforeCutting() {
    let secret = "SECRETVALUE0123456789"
    let body = String(repeating: "x", count: 500) + secret + String(repeating: "y", count: 100)
    let prefix = Redactor.bodyPrefix(Array(body.utf8), secrets: [secret])
    #expect(!prefix.contains("SECRETVAL"))
    #expect(prefix.contains("[REDACTED]"))
  }

  @Test func errorDescriptionNeverContainsTheAPIKey() {
    let key = "tstmt_9f8e7d6c5b4a"
    let plainKey = "plain-key-without-prefix-42"
    let req = request(
      .POST, "https://app.testomat.io/api/reporter/abc/testrun?api_key=\(plainKey)",
      headers: ["Authorization": "Token \(plainKey)", "X-Api-Key": key],
      body: #"{"api_key":"\#(key)","tests":[]}"#)
    let echoes = [
      #"{"message":"invalid api_key \#(key)","api_key":"\#(key)"}"#,
      "bad key \(plainKey) (query was api_key=\(plainKey))",
      "<html>Authorization: Token \(plainKey)</html>",
      "\(plainKey)\(key)",
    ]
    for echo in echoes {
      let error = HTTPError.status(response(401, echo), request: req)
      #expect(!error.description.contains(key), "\(error.description)")
      #expect(!error.description.contains(plainKey), "\(error.description)")
      #expect(!error.description.contains("tstmt_"), "\(error.description)")
      #expect(error.description.hasPrefix(
        "POST https://app.testomat.io/api/reporter/abc/testrun?api_key=REDACTED failed: HTTP 401: "))
    }
    for kind: HTTPError.Kind in [
      .timeout(after: 20), .cancelled, .transport(description: "x", isConnectionError: true),
      .decoding(description: "y"), .refused(reason: "z"),
    ] {
      let description = HTTPError(kind, request: req).description
      #expect(!description.contains(key) && !description.contains(plainKey))
    }
  }

  // MARK: - URLs kept for later, and URLs typed wrong

  static let credentialURLs: [(input: String, expected: String)] = [
    ("https://bob:s3cret@app.testomat.io", "https://app.testomat.io"),
    ("https://bob@testomat.example:8443/base/", "https://testomat.example:8443/base/"),
    ("https://app.testomat.io/?api_key=tstmt_abcdef123", "https://app.testomat.io/"),
    ("https://host/x?api_key=k1&team=qa&token=t2#frag", "https://host/x?team=qa"),
    ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
  ]

  @Test(arguments: credentialURLs)
  func storedURLsLoseTheirCredentials(input: String, expected: String) throws {
    let clean = try #require(Redactor.withoutCredentials(url(input)))
    #expect(clean.absoluteString == expected)
  }

  static let typedURLs: [(input: String, secrets: [String], kept: String)] = [
    ("htps://bob:s3cret-pw@host.example/x?api_key=tstmt_zz99zz", ["s3cret-pw", "bob", "tstmt_zz99zz"], "htps://host.example/x"),
    ("bob:s3cret-pw@host.example", ["s3cret-pw", "bob"], "host.example"),
    ("https://host.example/?token=abcdef1234 junk", ["abcdef1234"], "https://host.example/?token=REDACTED"),
    ("app.testomat.io", [], "app.testomat.io"),
  ]

  @Test(arguments: typedURLs)
  func typedURLsAreShownWithoutCredentials(input: String, secrets: [String], kept: String) {
    let shown = Redactor.redact(urlText: input)
    for secret in secrets { #expect(!shown.contains(secret), "\(shown)") }
    #expect(shown.contains(kept), "\(shown)")
  }
}
