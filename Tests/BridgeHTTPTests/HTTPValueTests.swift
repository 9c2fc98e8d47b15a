import BridgeHTTP
import Foundation
import Testing

@Suite struct HTTPValueTests {
  @Test func headerNamesAreStoredCanonicallyAndLookedUpCaseInsensitively() {
    var req = request(headers: ["content-type": "application/json", "x-API-key": "k"])
    #expect(req.headers == ["Content-Type": "application/json", "X-Api-Key": "k"])
    #expect(req.header("CONTENT-TYPE") == "application/json")
    req.setHeader("accept", "application/json")
    req.headers["user-agent"] = "testbridge"
    #expect(req.header("Accept") == "application/json")
    #expect(req.headers["User-Agent"] == "testbridge")
    req.setHeader("ACCEPT", nil)
    #expect(req.header("accept") == nil)
    #expect(request(headers: ["accept": "a"]) == request(headers: ["Accept": "a"]))
  }

  @Test func responseHeaderLookupIgnoresCase() {
    let res = response(429, headers: ["retry-after": "5", "CONTENT-TYPE": "text/plain"])
    #expect(res.header("Retry-After") == "5")
    #expect(res.header("content-type") == "text/plain")
    #expect(!res.isSuccess)
    #expect(response(204).isSuccess)
  }

  @Test func retrySafety() {
    for method in [HTTPMethod.GET, .HEAD, .PUT, .DELETE, .OPTIONS] {
      #expect(request(method).isRetrySafe)
    }
    #expect(!request(.POST).isRetrySafe)
    #expect(!request(.PATCH).isRetrySafe)
    #expect(request(.POST, retrySafe: true).isRetrySafe)
    #expect(!request(.POST, retrySafe: true).isIdempotent)
  }

  @Test func errorDescriptions() {
    let req = request(.POST, "https://app.testomat.io/api/reporter/abc/testrun")
    let line = "POST https://app.testomat.io/api/reporter/abc/testrun"
    let cases: [(HTTPError.Kind, String)] = [
      (.status(code: 503, bodyPrefix: #"{"message":"busy"}"#), #"\#(line) failed: HTTP 503: {"message":"busy"}"#),
      (.status(code: 404, bodyPrefix: ""), "\(line) failed: HTTP 404"),
      (.timeout(after: 20), "\(line) failed: timed out after 20 s"),
      (.timeout(after: 0.25), "\(line) failed: timed out after 0.25 s"),
      (.transport(description: "the connection was lost", isConnectionError: true),
       "\(line) failed: connection error: the connection was lost"),
      (.transport(description: "TLS handshake failed", isConnectionError: false), "\(line) failed: TLS handshake failed"),
      (.decoding(description: "missing 'uid'"), "\(line) failed: cannot decode response: missing 'uid'"),
      (.refused(reason: "unsupported URL scheme 'ftp'"), "\(line) refused: unsupported URL scheme 'ftp'"),
      (.cancelled, "\(line) cancelled"),
    ]
    for (kind, expected) in cases {
      let error = HTTPError(kind, request: req)
      #expect(error.description == expected)
      #expect(!error.description.hasSuffix("."))
    }
  }

  @Test func requireSuccessThrowsARedactedStatusError() throws {
    let req = request(.PUT, "https://h/api/reporter/r1", body: #"{"api_key":"tstmt_key_in_body"}"#)
    #expect(try response(200, "ok").requireSuccess(for: req).status == 200)
    let error = try #require(throws: HTTPError.self) {
      try response(422, #"{"error":"bad","echo":{"api_key":"tstmt_key_in_body"}}"#).requireSuccess(for: req)
    }
    #expect(error.statusCode == 422)
    #expect(error.description == #"PUT https://h/api/reporter/r1 failed: HTTP 422: {"error":"bad","echo":{"api_key":"[REDACTED]"}}"#)
  }
}
