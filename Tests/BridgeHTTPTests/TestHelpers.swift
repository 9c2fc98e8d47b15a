import BridgeHTTP
import Foundation

/// A URL from a literal; an unparseable literal yields a file URL that fails the test's checks.
func url(_ text: String) -> URL {
  URL(string: text) ?? URL(fileURLWithPath: "/unparseable-test-url")
}

func request(
  _ method: HTTPMethod = .GET,
  _ text: String = "https://app.testomat.io/api/reporter/abc/testrun",
  headers: [String: String] = [:],
  body: String? = nil,
  retrySafe: Bool = false,
  timeout: Double? = nil
) -> HTTPRequest {
  HTTPRequest(
    method: method, url: url(text), headers: headers, body: body.map { Array($0.utf8) },
    retrySafe: retrySafe, timeout: timeout)
}

func response(_ status: Int, _ body: String = "", headers: [String: String] = [:]) -> HTTPResponse {
  HTTPResponse(status: status, headers: headers, body: Array(body.utf8))
}
