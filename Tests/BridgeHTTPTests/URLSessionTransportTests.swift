import BridgeCore
import BridgeHTTP
import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A tiny HTTP responder on 127.0.0.1 (port 0) for exercising ``URLSessionTransport`` against a
/// real socket. One connection at a time on a background thread; every connection gets the same
/// scripted behaviour. Only for this file: the HTTPServer module will replace it.
final class LoopbackResponder: Sendable {
  enum Behavior: Sendable {
    /// Writes these bytes, then closes.
    case respond(String)
    /// Like `respond`, with the n-th connection getting the n-th reply (the last one repeats).
    case sequence([String])
    /// Reads the request, then says nothing for this long (or until stopped).
    case hang(seconds: Double)
    /// Sends headers promising 1000 bytes, a few bytes of body, then closes.
    case closeMidResponse
    /// Sends headers and then one body byte every 100 ms, never going idle long enough for an
    /// idle timeout.
    case trickle
  }

  private struct State {
    var stopped = false
    var requests: [String] = []
    var served = 0
  }

  let port: UInt16
  private let listener: Int32
  private let behavior: Behavior
  private let state = Locked(State())

  init(_ behavior: Behavior) throws {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.EIO) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
      pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
        bind(fd, raw, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, raw, &length) == 0
      }
    }
    guard bound else {
      close(fd)
      throw POSIXError(.EADDRNOTAVAIL)
    }
    precondition(address.sin_addr.s_addr == inet_addr("127.0.0.1"), "the test responder binds loopback only")
    self.port = UInt16(bigEndian: address.sin_port)
    self.listener = fd
    self.behavior = behavior
    let thread = Thread { [self] in acceptLoop() }
    thread.start()
  }

  var baseURL: String { "http://127.0.0.1:\(port)" }

  /// The raw requests received so far (head and body).
  var requests: [String] { state.withLock { $0.requests } }

  private var stopped: Bool { state.withLock { $0.stopped } }

  func stop() {
    state.withLock { $0.stopped = true }
    shutdown(listener, Int32(SHUT_RDWR))  // wakes the blocked accept()
    close(listener)
  }

  private func acceptLoop() {
    while !stopped {
      let client = accept(listener, nil, nil)
      if client < 0 {
        if errno == EINTR && !stopped { continue }
        return
      }
      let raw = readRequest(client)
      state.withLock { $0.requests.append(raw) }
      serve(client)
      close(client)
    }
  }

  private func readRequest(_ fd: Int32) -> String {
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
      let text = String(decoding: received, as: UTF8.self)
      if let headEnd = text.range(of: "\r\n\r\n") {
        let head = text[..<headEnd.lowerBound].lowercased()
        let length = head.split(separator: "\r\n")
          .first { $0.hasPrefix("content-length:") }
          .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
        if text.utf8.count - text.utf8.distance(from: text.startIndex, to: headEnd.upperBound) >= length {
          return text
        }
      }
      let count = recv(fd, &buffer, buffer.count, 0)
      if count <= 0 { return String(decoding: received, as: UTF8.self) }
      received += buffer[0..<count]
    }
  }

  private func write(_ fd: Int32, _ text: String) {
    let bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
      // MSG_NOSIGNAL: a client that already hung up must not kill the test process with SIGPIPE.
      let sent = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
      if sent <= 0 { return }
      offset += sent
    }
  }

  private func pause(_ seconds: Double) {
    let deadline = Date().addingTimeInterval(seconds)
    while !stopped, Date() < deadline { usleep(20_000) }
  }

  private func serve(_ fd: Int32) {
    switch behavior {
    case .respond(let text):
      write(fd, text)
    case .sequence(let replies):
      let index = state.withLock { state in
        defer { state.served += 1 }
        return state.served
      }
      if let reply = replies.indices.contains(index) ? replies[index] : replies.last { write(fd, reply) }
    case .hang(let seconds):
      pause(seconds)
    case .closeMidResponse:
      write(fd, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nConnection: close\r\n\r\npartial")
    case .trickle:
      write(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n")
      for _ in 0..<100 where !stopped {
        write(fd, "x")
        pause(0.1)
      }
    }
  }
}

@Suite struct URLSessionTransportTests {
  static func canned(_ status: String, headers: [String] = [], body: String) -> LoopbackResponder.Behavior {
    let head = (["HTTP/1.1 \(status)", "Content-Length: \(body.utf8.count)", "Connection: close"] + headers)
      .joined(separator: "\r\n")
    return .respond(head + "\r\n\r\n" + body)
  }

  @Test func sendsTheRequestAndReturnsStatusHeadersAndBody() async throws {
    let server = try LoopbackResponder(
      Self.canned("201 Created", headers: ["X-Request-Id: abc", "Content-Type: application/json"], body: #"{"uid":"r1"}"#))
    defer { server.stop() }
    let transport = URLSessionTransport()
    let result = try await transport.send(
      request(
        .POST, "\(server.baseURL)/api/reporter?x=1",
        headers: ["content-type": "application/json", "X-Custom": "yes"], body: #"{"title":"nightly"}"#))
    #expect(result.status == 201)
    #expect(result.bodyText == #"{"uid":"r1"}"#)
    #expect(result.header("x-request-id") == "abc")
    let raw = try #require(server.requests.first)
    #expect(raw.hasPrefix("POST /api/reporter?x=1 HTTP/1.1\r\n"))
    #expect(raw.lowercased().contains("x-custom: yes"))
    #expect(raw.contains("User-Agent: testbridge\r\n"))
    #expect(raw.lowercased().contains("content-type: application/json"))
    #expect(raw.hasSuffix(#"{"title":"nightly"}"#))
  }

  /// Jira answers bad credentials with 401 and `WWW-Authenticate`; Linux URLSession would
  /// wait for credentials until its timeout. The transport returns the 401 at once.
  @Test func unauthorizedWithAChallengeComesBackAsA401() async throws {
    let server = try LoopbackResponder(
      Self.canned("401 Unauthorized", headers: ["WWW-Authenticate: Basic realm=\"jira\""], body: "nope"))
    defer { server.stop() }
    let start = Date()
    let result = try await URLSessionTransport().send(request(.GET, "\(server.baseURL)/rest/api/3/myself", timeout: 60))
    #expect(result.status == 401)
    #expect(Date().timeIntervalSince(start) < 45, "answered, not timed out")
  }

  @Test func nonSuccessStatusIsAResponseNotAnError() async throws {
    let server = try LoopbackResponder(
      Self.canned("503 Service Unavailable", headers: ["Retry-After: 7"], body: #"{"message":"busy"}"#))
    defer { server.stop() }
    let req = request(.PUT, "\(server.baseURL)/api/reporter/abc")
    let result = try await URLSessionTransport().send(req)
    #expect(result.status == 503)
    #expect(result.header("retry-after") == "7")
    let error = try #require(throws: HTTPError.self) { try result.requireSuccess(for: req) }
    #expect(error.description == #"PUT \#(server.baseURL)/api/reporter/abc failed: HTTP 503: {"message":"busy"}"#)
  }

  @Test func silentServerTimesOut() async throws {
    let server = try LoopbackResponder(.hang(seconds: 60))
    defer { server.stop() }
    let start = Date()
    let error = await #expect(throws: HTTPError.self) {
      try await URLSessionTransport().send(request(.GET, "\(server.baseURL)/slow", timeout: 0.5))
    }
    #expect(error?.kind == .timeout(after: 0.5))
    #expect(error?.description == "GET \(server.baseURL)/slow failed: timed out after 0.5 s")
    let elapsed = Date().timeIntervalSince(start)
    // Neither early (URLSession on Linux turns a sub-second timeout into 0 ms) nor late.
    // The upper bound only proves the client gave up before the server (60 s) answered;
    // it is loose because the whole suite shares two cores.
    #expect(elapsed >= 0.45 && elapsed < 45, "took \(elapsed) s")
    #expect(server.requests.count == 1, "the request reached the server before timing out")
  }

  /// A server that keeps sending a byte at a time never trips an idle timeout; the overall
  /// deadline still ends the call.
  @Test func tricklingServerHitsTheOverallDeadline() async throws {
    let server = try LoopbackResponder(.trickle)
    defer { server.stop() }
    let start = Date()
    let error = await #expect(throws: HTTPError.self) {
      try await URLSessionTransport(defaultTimeout: 0.8).send(request(.GET, "\(server.baseURL)/drip"))
    }
    #expect(error?.kind == .timeout(after: 0.8))
    let elapsed = Date().timeIntervalSince(start)
    #expect(elapsed >= 0.75 && elapsed < 45, "took \(elapsed) s")
  }

  @Test func connectionClosedMidResponseIsATransportError() async throws {
    let server = try LoopbackResponder(.closeMidResponse)
    defer { server.stop() }
    let error = await #expect(throws: HTTPError.self) {
      try await URLSessionTransport().send(request(.GET, "\(server.baseURL)/cut", timeout: 5))
    }
    guard case .transport? = error?.kind else {
      Issue.record("expected a transport error, got \(String(describing: error))")
      return
    }
  }

  @Test func closedPortIsAConnectionError() async throws {
    let server = try LoopbackResponder(.hang(seconds: 0))
    let port = server.port
    server.stop()  // nothing listens on the port any more
    let error = await #expect(throws: HTTPError.self) {
      try await URLSessionTransport().send(request(.GET, "http://127.0.0.1:\(port)/", timeout: 5))
    }
    #expect(error?.isConnectionError == true)
    #expect(error?.wasNeverSent == true, "a refused connection never carried the request")
    #expect(error?.description == "GET http://127.0.0.1:\(port)/ failed: connection error: cannot connect to the server")
  }

  @Test func aNameThatDoesNotResolveWasNeverSent() async throws {
    // `.invalid` never resolves (RFC 6761), and fails without any network.
    let error = await #expect(throws: HTTPError.self) {
      try await URLSessionTransport(allowInsecureHTTP: true).send(request(.POST, "http://testbridge.invalid/api/reporter", timeout: 10))
    }
    #expect(error?.isConnectionError == true)
    #expect(error?.wasNeverSent == true)
  }

  @Test func aConnectionCutMidResponseMayHaveBeenApplied() async throws {
    let server = try LoopbackResponder(.closeMidResponse)
    defer { server.stop() }
    let error = await #expect(throws: HTTPError.self) {
      try await URLSessionTransport().send(request(.POST, "\(server.baseURL)/cut", body: "{}", timeout: 5))
    }
    #expect(error?.wasNeverSent == false, "the server read the request before the connection went")
  }

  @Test func unsupportedSchemeIsRefusedBeforeSending() async throws {
    let error = await #expect(throws: HTTPError.self) {
      try await URLSessionTransport(allowInsecureHTTP: true).send(request(.GET, "ftp://127.0.0.1:1/file"))
    }
    guard case .refused? = error?.kind else {
      Issue.record("expected a refusal, got \(String(describing: error))")
      return
    }
  }

  @Test func cancellingTheCallerCancelsTheRequest() async throws {
    let server = try LoopbackResponder(.hang(seconds: 60))
    defer { server.stop() }
    let transport = URLSessionTransport()
    let target = request(.GET, "\(server.baseURL)/slow", timeout: 10)
    let start = Date()
    let task = Task { try await transport.send(target) }
    while server.requests.isEmpty, Date().timeIntervalSince(start) < 30 { try await Task.sleep(for: .milliseconds(20)) }
    task.cancel()
    let result = await task.result
    guard case .failure(let error) = result else {
      Issue.record("expected cancellation, got \(result)")
      return
    }
    #expect((error as? HTTPError)?.isCancelled == true)
    // Well before the server's 60 s answer: the cancellation ended the call.
    #expect(Date().timeIntervalSince(start) < 45)
  }

  @Test func redirectToAnotherOriginIsNotFollowed() async throws {
    let other = try LoopbackResponder(Self.canned("200 OK", body: "should not be reached"))
    defer { other.stop() }
    let server = try LoopbackResponder(
      Self.canned("302 Found", headers: ["Location: \(other.baseURL)/stolen"], body: ""))
    defer { server.stop() }
    let result = try await URLSessionTransport().send(
      request(.GET, "\(server.baseURL)/start", headers: ["Authorization": "Bearer secret-token"], timeout: 5))
    #expect(result.status == 302)
    #expect(other.requests.isEmpty)
  }

  @Test func redirectWithinTheSameOriginIsFollowed() async throws {
    let server = try LoopbackResponder(
      .sequence([
        "HTTP/1.1 302 Found\r\nLocation: /final\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\nmoved here",
      ]))
    defer { server.stop() }
    let result = try await URLSessionTransport().send(request(.GET, "\(server.baseURL)/start", timeout: 5))
    #expect(result.status == 200)
    #expect(result.bodyText == "moved here")
    #expect(server.requests.map { $0.components(separatedBy: "\r\n").first ?? "" } == ["GET /start HTTP/1.1", "GET /final HTTP/1.1"])
  }

  /// Without redirects (Jira's transport): a 307 that would repeat a PUT on another path of the
  /// same site comes back as it is, and the second path is never requested.
  @Test func noRedirectIsFollowedWhenTurnedOff() async throws {
    let server = try LoopbackResponder(
      .sequence([
        "HTTP/1.1 307 Temporary Redirect\r\nLocation: /rest/api/3/issue/ABC-1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
      ]))
    defer { server.stop() }
    let result = try await URLSessionTransport(followRedirects: false).send(
      request(.PUT, "\(server.baseURL)/rest/api/3/issue/ABC-1/properties/testbridge.runs", timeout: 5))
    #expect(result.status == 307)
    #expect(server.requests.count == 1)
    #expect(server.requests.first?.hasPrefix("PUT /rest/api/3/issue/ABC-1/properties/testbridge.runs ") == true)
  }

  @Test func invalidatedTransportRefusesInsteadOfTrapping() async throws {
    let server = try LoopbackResponder(Self.canned("200 OK", body: "ok"))
    defer { server.stop() }
    let transport = URLSessionTransport()
    #expect(try await transport.send(request(.GET, server.baseURL + "/", timeout: 5)).status == 200)
    transport.invalidate()
    transport.invalidate()
    let error = await #expect(throws: HTTPError.self) {
      try await transport.send(request(.GET, server.baseURL + "/", timeout: 5))
    }
    #expect(error?.kind == .refused(reason: "the transport has been invalidated"))
  }
}
