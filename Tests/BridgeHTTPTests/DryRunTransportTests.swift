import BridgeCore
import BridgeHTTP
import Foundation
import Testing

@Suite struct DryRunTransportTests {
  @Test func recordsRequestsAndAnswersWithTheCannedBody() async throws {
    let transport = DryRunTransport { request in
      Array((request.method == .POST ? #"{"uid":"dry-run"}"# : "{}").utf8)
    }
    let created = try await transport.send(request(.POST, "https://app.testomat.io/api/reporter", body: "{}"))
    let finished = try await transport.send(request(.PUT, "https://app.testomat.io/api/reporter/dry-run"))
    #expect(created.status == 200)
    #expect(created.bodyText == #"{"uid":"dry-run"}"#)
    #expect(created.header("content-type") == "application/json")
    #expect(finished.bodyText == "{}")
    #expect(transport.requests.map(\.method) == [.POST, .PUT])
  }

  @Test func recordsConcurrentRequests() async {
    let transport = DryRunTransport()
    await withTaskGroup(of: Void.self) { group in
      for index in 0..<100 {
        group.addTask { _ = try? await transport.send(request(.GET, "https://h/\(index)")) }
      }
    }
    #expect(transport.requests.count == 100)
  }

  @Test func describesBodySizeAndTopLevelKeysWithSecretsRedacted() {
    let tests = (0..<3).map { #"{"title":"test \#($0)","status":"passed","message":"\#(String(repeating: "m", count: 400))"}"# }
    let body = #"{"api_key":"tstmt_SECRET_KEY","title":"nightly","parallel":true,"batch_index":1,"duration":12.5,"tests":[\#(tests.joined(separator: ","))],"meta":{"a":1},"jira_id":null,"note":"uses tstmt_OTHERSECRET"}"#
    let line = DryRunTransport().describe(
      request(.POST, "https://app.testomat.io/api/reporter/abc/testrun?api_key=tstmt_SECRET_KEY", body: body))
    #expect(
      line
        == #"POST https://app.testomat.io/api/reporter/abc/testrun?api_key=REDACTED (body: 1.5 KB JSON; api_key=REDACTED, batch_index=1, duration=12.5, jira_id=null, meta{1}, note="uses [REDACTED]", parallel=true, tests[3], title="nightly")"#
    )
    #expect(!line.contains("SECRET"))
  }

  @Test func describesOtherBodies() {
    let transport = DryRunTransport()
    #expect(transport.describe(request(.GET, "https://h/x")) == "GET https://h/x")
    #expect(transport.describe(request(.POST, "https://h/x", body: "plain text")) == "POST https://h/x (body: 10 B)")
    #expect(transport.describe(request(.POST, "https://h/x", body: "[1,2,3]")) == "POST https://h/x (body: 7 B JSON array of 3)")
    #expect(transport.describe(request(.POST, "https://h/x", body: "{}")) == "POST https://h/x (body: 2 B JSON, empty object)")
    let long = #"{"message":"\#(String(repeating: "x", count: 2_000_000))"}"#
    #expect(transport.describe(request(.POST, "https://h/x", body: long)) == #"POST https://h/x (body: 1.9 MB JSON; message="…"(2000000 B))"#)
  }

  @Test func theWholeRequestIsWrittenWithEverySecretMaskedAtAnyDepth() throws {
    let key = "tstmt_WHOLE_SECRET_91ab"
    let body = #"""
      {"api_key":"\#(key)","title":"nightly","tests":[{"title":"logs in","stack":"token was \#(key)","meta":{"password":"hunter22","ok":1}}],"jira_id":null}
      """#
    let text = DryRunTransport.redactedDocument(
      of: request(
        .POST, "https://u:pw@app.testomat.io/api/reporter/abc/testrun?api_key=\(key)&x=1",
        headers: ["Authorization": "Bearer abc.def.ghi", "Content-Type": "application/json"], body: body))
    for secret in [key, "hunter22", "abc.def.ghi", "u:pw"] { #expect(!text.contains(secret), "\(secret) in \(text)") }
    let document = try #require(JSONValue.parse(Array(text.utf8))?.objectValue)
    #expect(document["method"] == .string("POST"))
    #expect(document["url"] == .string("https://app.testomat.io/api/reporter/abc/testrun?api_key=REDACTED&x=1"))
    #expect(document["headers"]?.objectValue?["Authorization"] == .string(Redactor.marker))
    #expect(document["headers"]?.objectValue?["Content-Type"] == .string("application/json"))
    // Everything that is not a secret is there, as JSON, at every depth.
    let sent = try #require(document["body"]?.objectValue)
    #expect(sent["title"] == .string("nightly"))
    #expect(sent["jira_id"] == .null)
    let test = try #require(sent["tests"]?.arrayValue?.first?.objectValue)
    #expect(test["title"] == .string("logs in"))
    #expect(test["stack"] == .string("token was [REDACTED]"))
    #expect(test["meta"]?.objectValue?["ok"] == .integer(1))
    #expect(test["meta"]?.objectValue?["password"] != nil)
    #expect(text.contains("\n  "), "indented for people to read")
  }

  @Test func otherBodiesAreWrittenAsTextOrBySize() throws {
    let plain = DryRunTransport.redactedDocument(of: request(.POST, "https://h/x", body: "a=1&token=t0ps3cret"))
    let plainBody = try #require(JSONValue.parse(Array(plain.utf8))?.objectValue?["body"]?.stringValue)
    #expect(plainBody.hasPrefix("a=1&token="))
    #expect(!plain.contains("t0ps3cret"))
    var binary = request(.POST, "https://h/x")
    binary.body = [0xff, 0xfe, 0x00, 0x41]
    let bytes = DryRunTransport.redactedDocument(of: binary)
    #expect(JSONValue.parse(Array(bytes.utf8))?.objectValue?["body"] == .string("(4 B, not UTF-8 text)"))
    let bare = DryRunTransport.redactedDocument(of: request(.GET, "https://h/x"))
    #expect(JSONValue.parse(Array(bare.utf8))?.objectValue?["body"] == nil)
  }
}
