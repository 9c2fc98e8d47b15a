import Testing

@testable import HTTPServer

@Suite struct HTTPRequestParserTests {
  private func parse(_ text: String, limits: HTTPRequestParser.Limits = .init()) throws -> [ServerRequest] {
    var parser = HTTPRequestParser(limits: limits)
    parser.append(Array(text.utf8))
    var requests: [ServerRequest] = []
    while let request = try parser.nextRequest() { requests.append(request) }
    return requests
  }

  /// Feeds `text` in pieces of `size` bytes, collecting every complete request.
  private func parseInPieces(_ text: String, size: Int) throws -> [ServerRequest] {
    var parser = HTTPRequestParser()
    var requests: [ServerRequest] = []
    let bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
      let end = min(bytes.count, offset + size)
      parser.append(bytes[offset..<end])
      while let request = try parser.nextRequest() { requests.append(request) }
      offset = end
    }
    return requests
  }

  private func status(of text: String, limits: HTTPRequestParser.Limits = .init()) -> Int? {
    do {
      _ = try parse(text, limits: limits)
      return nil
    } catch let error as HTTPServerError {
      return error.responseStatus
    } catch {
      return -1
    }
  }

  @Test func parsesARequestLineHeadersAndQuery() throws {
    let requests = try parse(
      "GET /api/test_grep?type=tag&id=smoke%20test&x=a+b&flag HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Trace:  abc \r\n\r\n"
    )
    let request = try #require(requests.first)
    #expect(requests.count == 1)
    #expect(request.method == "GET")
    #expect(request.target == "/api/test_grep?type=tag&id=smoke%20test&x=a+b&flag")
    #expect(request.path == "/api/test_grep")
    #expect(request.query.map(\.name) == ["type", "id", "x", "flag"])
    #expect(request.queryValue("id") == "smoke test")
    #expect(request.queryValue("x") == "a b")
    #expect(request.queryValue("flag") == "")
    #expect(request.queryValue("missing") == nil)
    #expect(request.version == "HTTP/1.1")
    #expect(request.headers["x-trace"] == "abc")
    #expect(request.headers["HOST"] == "127.0.0.1")
    #expect(request.body.isEmpty)
    #expect(request.wantsKeepAlive)
  }

  @Test func decodesPercentEncodedPathsAndUTF8() throws {
    let request = try #require(
      try parse("GET /runs/caf%C3%A9?name=bj%C3%B6rn HTTP/1.1\r\nHost: h\r\n\r\n").first)
    #expect(request.path == "/runs/café")
    #expect(request.queryValue("name") == "björn")
  }

  @Test func acceptsAbsoluteFormTargets() throws {
    let request = try #require(
      try parse("GET http://127.0.0.1:8080/api/reporter?api_key=k HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").first)
    #expect(request.path == "/api/reporter")
    #expect(request.queryValue("api_key") == "k")
  }

  @Test(arguments: [1, 2, 3, 7, 16, 1000])
  func splitChunksGiveTheSameRequests(size: Int) throws {
    let text =
      "POST /a?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world"
      + "PUT /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"
      + "GET /c HTTP/1.1\r\nHost: h\r\n\r\n"
    let requests = try parseInPieces(text, size: size)
    #expect(requests.map(\.method) == ["POST", "PUT", "GET"])
    #expect(requests.map(\.path) == ["/a", "/b", "/c"])
    #expect(requests.map { String(decoding: $0.body, as: UTF8.self) } == ["hello world", "hello world", ""])
  }

  @Test func ignoresEmptyLinesBeforeTheRequestLineAndAcceptsBareLF() throws {
    let requests = try parse("\r\n\r\nGET / HTTP/1.1\nHost: h\nContent-Length: 2\n\nok")
    #expect(requests.count == 1)
    #expect(requests.first?.body == Array("ok".utf8))
  }

  @Test func chunkedBodiesWithHexSizesAndExtensions() throws {
    let body = String(repeating: "x", count: 0x1A)
    let request = try #require(
      try parse(
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n1a ; name=value\r\n\(body)\r\n0\r\n\r\n"
      ).first)
    #expect(request.body.count == 26)
  }

  @Test func repeatedIdenticalContentLengthsAreAccepted() throws {
    let request = try #require(
      try parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nok").first)
    #expect(request.body == Array("ok".utf8))
  }

  @Test func http10ClosesUnlessKeepAliveIsAsked() throws {
    let closing = try #require(try parse("GET / HTTP/1.0\r\n\r\n").first)
    #expect(!closing.wantsKeepAlive)
    let keeping = try #require(try parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").first)
    #expect(keeping.wantsKeepAlive)
    let closed11 = try #require(try parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").first)
    #expect(!closed11.wantsKeepAlive)
  }

  @Test func headerLimitGives431WhetherOrNotTheHeadIsComplete() {
    let limits = HTTPRequestParser.Limits(maxHeaderBytes: 128, maxBodyBytes: 1024)
    let big = String(repeating: "a", count: 200)
    #expect(status(of: "GET / HTTP/1.1\r\nHost: h\r\nX-Big: \(big)\r\n\r\n", limits: limits) == 431)
    #expect(status(of: "GET / HTTP/1.1\r\nHost: h\r\nX-Big: \(big)", limits: limits) == 431)
    // Exactly at the limit is fine.
    let head = "GET / HTTP/1.1\r\nHost: h\r\n"
    let filler = String(repeating: "b", count: 128 - head.utf8.count - "X: \r\n\r\n".utf8.count)
    #expect(status(of: head + "X: \(filler)\r\n\r\n", limits: limits) == nil)
  }

  @Test func bodyLimitGives413ForContentLengthAndChunked() {
    let limits = HTTPRequestParser.Limits(maxHeaderBytes: 1024, maxBodyBytes: 10)
    #expect(status(of: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n", limits: limits) == 413)
    #expect(status(of: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789", limits: limits) == nil)
    #expect(
      status(
        of: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n5\r\nghijk\r\n0\r\n\r\n",
        limits: limits) == 413)
    #expect(
      status(
        of: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n4\r\nghij\r\n0\r\n\r\n",
        limits: limits) == nil)
  }

  @Test func oversizedChunkTrailersGive431() {
    let limits = HTTPRequestParser.Limits(maxHeaderBytes: 64, maxBodyBytes: 1024)
    let trailer = "X-T: " + String(repeating: "t", count: 100) + "\r\n"
    #expect(
      status(of: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\(trailer)\r\n", limits: limits)
        == 431)
  }

  struct MalformedCase: Sendable, CustomTestStringConvertible {
    var name: String
    var text: String
    var status: Int
    var testDescription: String { name }
  }

  static let malformed: [MalformedCase] = [
    .init(name: "two-part request line", text: "GET /\r\nHost: h\r\n\r\n", status: 400),
    .init(name: "double space", text: "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", status: 400),
    .init(name: "bad method", text: "G(T / HTTP/1.1\r\nHost: h\r\n\r\n", status: 400),
    .init(name: "relative target", text: "GET api HTTP/1.1\r\nHost: h\r\n\r\n", status: 400),
    .init(name: "not HTTP", text: "GET / FTP/1.1\r\nHost: h\r\n\r\n", status: 400),
    .init(name: "HTTP/2.0", text: "GET / HTTP/2.0\r\nHost: h\r\n\r\n", status: 505),
    .init(name: "missing Host", text: "GET / HTTP/1.1\r\n\r\n", status: 400),
    .init(name: "two Hosts", text: "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", status: 400),
    .init(name: "space before colon", text: "GET / HTTP/1.1\r\nHost : h\r\n\r\n", status: 400),
    .init(name: "no colon", text: "GET / HTTP/1.1\r\nHost: h\r\nJunk\r\n\r\n", status: 400),
    .init(name: "obs-fold", text: "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", status: 400),
    .init(name: "bare CR", text: "GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n", status: 400),
    .init(name: "control char in value", text: "GET / HTTP/1.1\r\nHost: h\u{01}\r\n\r\n", status: 400),
    .init(name: "bad percent in path", text: "GET /%zz HTTP/1.1\r\nHost: h\r\n\r\n", status: 400),
    .init(name: "bad percent in query", text: "GET /?a=%4 HTTP/1.1\r\nHost: h\r\n\r\n", status: 400),
    .init(name: "negative length", text: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", status: 400),
    .init(name: "hex length", text: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x10\r\n\r\n", status: 400),
    .init(
      name: "conflicting lengths", text: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
      status: 400),
    .init(
      name: "length and chunked",
      text: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", status: 400),
    .init(
      name: "chunked not last", text: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
      status: 400),
    .init(
      name: "unsupported coding", text: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
      status: 501),
    .init(
      name: "bad chunk size", text: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", status: 400),
    .init(
      name: "chunk longer than size",
      text: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n", status: 400),
    .init(
      name: "unknown expectation",
      text: "POST / HTTP/1.1\r\nHost: h\r\nExpect: 200-ok\r\nContent-Length: 1\r\n\r\nx", status: 417),
  ]

  @Test(arguments: malformed)
  func malformedRequestsAreRejected(_ testCase: MalformedCase) {
    #expect(status(of: testCase.text) == testCase.status)
  }

  @Test func aFailedParserStaysFailed() throws {
    var parser = HTTPRequestParser()
    parser.append(Array("BAD\r\n\r\n".utf8))
    #expect(throws: HTTPServerError.self) { try parser.nextRequest() }
    parser.append(Array("GET / HTTP/1.1\r\nHost: h\r\n\r\n".utf8))
    #expect(throws: HTTPServerError.self) { try parser.nextRequest() }
  }

  @Test func reportsPartialRequestsAndContinueExpectations() throws {
    var parser = HTTPRequestParser()
    #expect(!parser.hasPartialRequest)
    parser.append(Array("\r\n".utf8))
    #expect(!parser.hasPartialRequest)
    parser.append(Array("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n".utf8))
    #expect(parser.hasPartialRequest)
    #expect(try parser.nextRequest() == nil)
    let early = parser.takeContinueRequest()
    #expect(!early)
    parser.append(Array("Content-Length: 3\r\n\r\n".utf8))
    #expect(try parser.nextRequest() == nil)
    let first = parser.takeContinueRequest()
    let second = parser.takeContinueRequest()
    #expect(first)
    #expect(!second)
    parser.append(Array("abc".utf8))
    let request = try #require(try parser.nextRequest())
    #expect(request.body == Array("abc".utf8))
    #expect(!parser.hasPartialRequest)
  }
}

@Suite struct ResponseWriterTests {
  private func text(_ response: ServerResponse, method: String = "GET", keepAlive: Bool = false) -> String {
    String(decoding: ResponseWriter.bytes(for: response, method: method, keepAlive: keepAlive), as: UTF8.self)
  }

  @Test func writesStatusLineLengthAndConnection() {
    var response = ServerResponse.text("hi", status: 201)
    response.headers["Content-Length"] = "999"
    response.headers["X-Custom"] = "v"
    #expect(
      text(response)
        == "HTTP/1.1 201 Created\r\nContent-Type: text/plain; charset=utf-8\r\nX-Custom: v\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi"
    )
    #expect(text(.text(""), keepAlive: true).contains("Connection: keep-alive\r\n"))
  }

  @Test func headAnd204CarryNoBody() {
    #expect(text(.text("body"), method: "HEAD").hasSuffix("Content-Length: 4\r\nConnection: close\r\n\r\n"))
    let noContent = text(ServerResponse(status: 204, body: Array("x".utf8)))
    #expect(noContent == "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
  }

  @Test func dropsHeadersThatWouldSplitTheResponse() {
    var response = ServerResponse(status: 200)
    response.headers.add(name: "X-Evil", value: "a\r\nSet-Cookie: b")
    response.headers.add(name: "Bad Name", value: "c")
    let written = text(response)
    #expect(!written.contains("Set-Cookie"))
    #expect(!written.contains("Bad Name"))
  }

  @Test func invalidStatusBecomes500() {
    #expect(text(ServerResponse(status: 42)).hasPrefix("HTTP/1.1 500 Internal Server Error\r\n"))
  }

  @Test func jsonHelperEncodesWithSortedKeys() {
    struct Payload: Encodable {
      var zeta = 1
      var alpha = "a/b"
    }
    let response = ServerResponse.json(Payload(), status: 202)
    #expect(response.status == 202)
    #expect(response.headers["content-type"] == "application/json")
    #expect(response.bodyText == #"{"alpha":"a/b","zeta":1}"#)
    #expect(ServerResponse.dropConnection.dropsConnection)
    #expect(!response.dropsConnection)
  }
}

@Suite struct HTTPHeadersTests {
  @Test func lookupIsCaseInsensitiveAndOrderIsKept() {
    var headers: HTTPHeaders = ["Accept": "a", "X-Two": "1"]
    headers.add(name: "x-two", value: "2")
    #expect(headers["x-TWO"] == "1")
    #expect(headers.values(for: "X-Two") == ["1", "2"])
    headers["X-TWO"] = "3"
    #expect(headers.values(for: "x-two") == ["3"])
    #expect(headers.fields.map(\.name) == ["Accept", "X-TWO"])
    headers["accept"] = nil
    #expect(!headers.contains("Accept"))
    headers.add(name: "Connection", value: "keep-alive, Upgrade")
    #expect(headers.containsToken("upgrade", in: "connection"))
    #expect(!headers.containsToken("close", in: "connection"))
  }
}
