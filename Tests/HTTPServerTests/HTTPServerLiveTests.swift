import Foundation
import Synchronization
import Testing

@testable import HTTPServer

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// Starts a server on 127.0.0.1, port 0, runs `body`, and always stops the server.
@discardableResult
private func withServer<T>(
  _ configuration: ServerConfiguration = ServerConfiguration(),
  handler: @escaping HTTPServer.Handler,
  _ body: (HTTPServer, Int) async throws -> T
) async throws -> T {
  let server = HTTPServer(configuration: configuration)
  let port = try server.start(handler: handler)
  do {
    let result = try await body(server, port)
    await server.stop(graceful: false)
    return result
  } catch {
    await server.stop(graceful: false)
    throw error
  }
}

private func makeSession() -> URLSession {
  let configuration = URLSessionConfiguration.ephemeral
  configuration.timeoutIntervalForRequest = 10
  return URLSession(configuration: configuration)
}

/// Echoes what the server parsed, as JSON.
private struct Echo: Codable {
  var method: String
  var path: String
  var query: [String]
  var contentType: String?
  var body: String
}

private let echoHandler: HTTPServer.Handler = { request in
  .json(
    Echo(
      method: request.method, path: request.path,
      query: request.query.map { "\($0.name)=\($0.value)" },
      contentType: request.headers["content-type"],
      body: String(decoding: request.body, as: UTF8.self)))
}

/// Lets a test wait until a handler has started.
private final class Signal: Sendable {
  private let stream: AsyncStream<Void>
  private let continuation: AsyncStream<Void>.Continuation

  init() {
    (stream, continuation) = AsyncStream.makeStream(of: Void.self)
  }

  func fire() { continuation.yield() }

  func wait() async {
    for await _ in stream { return }
  }
}

@Suite struct HTTPServerLiveTests {
  @Test func jsonRoundTripWithURLSession() async throws {
    try await withServer(handler: echoHandler) { _, port in
      let session = makeSession()
      defer { session.finishTasksAndInvalidate() }
      var request = URLRequest(url: try #require(URL(string: "http://127.0.0.1:\(port)/api/echo?id=PROJ-1&x=a%20b")))
      request.httpMethod = "POST"
      request.setValue("application/json", forHTTPHeaderField: "Content-Type")
      request.httpBody = Data(#"{"name":"björn"}"#.utf8)
      let (data, response) = try await session.data(for: request)
      let http = try #require(response as? HTTPURLResponse)
      #expect(http.statusCode == 200)
      #expect(http.value(forHTTPHeaderField: "Content-Type") == "application/json")
      let echo = try JSONDecoder().decode(Echo.self, from: data)
      #expect(echo.method == "POST")
      #expect(echo.path == "/api/echo")
      #expect(echo.query == ["id=PROJ-1", "x=a b"])
      #expect(echo.contentType == "application/json")
      #expect(echo.body == #"{"name":"björn"}"#)
    }
  }

  @Test func largeBodyWithURLSessionUsesExpectContinue() async throws {
    try await withServer(handler: { .text(String($0.body.count)) }) { _, port in
      let session = makeSession()
      defer { session.finishTasksAndInvalidate() }
      var request = URLRequest(url: try #require(URL(string: "http://127.0.0.1:\(port)/upload")))
      request.httpMethod = "POST"
      request.httpBody = Data(repeating: 0x61, count: 3 * 1024 * 1024)
      let (data, response) = try await session.data(for: request)
      #expect((response as? HTTPURLResponse)?.statusCode == 200)
      #expect(String(decoding: data, as: UTF8.self) == String(3 * 1024 * 1024))
      // That curl's "Expect: 100-continue" is answered (not waited out) is checked on the
      // wire by expectContinueIsAnswered; wall time says nothing on a loaded machine.
    }
  }

  @Test func keepAliveServesPipelinedRequestsOnOneConnection() async throws {
    try await withServer(handler: echoHandler) { _, port in
      let connection = try await RawConnection.connect(port: port)
      await connection.send(
        "GET /one HTTP/1.1\r\nHost: t\r\n\r\nPOST /two HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc")
      let (bytes, _) = await connection.read { bytes in
        guard let first = RawResponse.parse(bytes) else { return false }
        return RawResponse.parse(Array(bytes[first.length...])) != nil
      }
      let first = try #require(RawResponse.parse(bytes))
      let second = try #require(RawResponse.parse(Array(bytes[first.length...])))
      #expect(first.headers["connection"] == "keep-alive")
      #expect(first.body.contains(#""path":"\/one""#) || first.body.contains(#""path":"/one""#))
      #expect(second.body.contains(#""body":"abc""#))
      // Connection: close ends it.
      await connection.send("GET /three HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
      let (rest, closed) = await connection.readUntilClose()
      #expect(closed)
      #expect(RawResponse.parse(rest)?.headers["connection"] == "close")
    }
  }

  @Test func chunkedRequestBodyOverTheWire() async throws {
    // A generous read timeout: on a starved machine the second send can lag.
    try await withServer(ServerConfiguration(readTimeout: .seconds(60)), handler: { .text(String(decoding: $0.body, as: UTF8.self)) }) { _, port in
      let connection = try await RawConnection.connect(port: port)
      await connection.send("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n")
      await connection.send("5\r\npedia\r\n0\r\n\r\n")
      let response = try #require(await connection.readResponse())
      #expect(response.status == 200)
      #expect(response.body == "Wikipedia")
    }
  }

  @Test func bodyOverTheLimitGets413() async throws {
    let configuration = ServerConfiguration(maxBodyBytes: 1024)
    let handled = Atomic<Int>(0)
    try await withServer(configuration, handler: { _ in
      handled.add(1, ordering: .relaxed)
      return .text("ok")
    }) { _, port in
      // Raw: refused from the Content-Length alone, while the client is still sending.
      let connection = try await RawConnection.connect(port: port)
      await connection.send("POST /big HTTP/1.1\r\nHost: t\r\nContent-Length: 4096\r\n\r\n")
      await connection.send(String(repeating: "x", count: 4096))
      let raw = try #require(await connection.readResponse())
      #expect(raw.status == 413)
      #expect(raw.headers["connection"] == "close")

      // URLSession sees the 413 too.
      let session = makeSession()
      defer { session.finishTasksAndInvalidate() }
      var request = URLRequest(url: try #require(URL(string: "http://127.0.0.1:\(port)/big")))
      request.httpMethod = "POST"
      request.httpBody = Data(repeating: 0x78, count: 4096)
      let (_, response) = try await session.data(for: request)
      #expect((response as? HTTPURLResponse)?.statusCode == 413)
    }
    #expect(handled.load(ordering: .relaxed) == 0)
  }

  @Test func headersOverTheLimitGet431() async throws {
    try await withServer(ServerConfiguration(maxHeaderBytes: 1024), handler: echoHandler) { _, port in
      let connection = try await RawConnection.connect(port: port)
      await connection.send("GET / HTTP/1.1\r\nHost: t\r\nX-Big: \(String(repeating: "b", count: 2048))\r\n\r\n")
      let response = try #require(await connection.readResponse())
      #expect(response.status == 431)
      let (_, closed) = await connection.readUntilClose()
      #expect(closed)
    }
  }

  @Test func malformedRequestGets400AndClose() async throws {
    try await withServer(handler: echoHandler) { _, port in
      let connection = try await RawConnection.connect(port: port)
      await connection.send("NOT HTTP AT ALL\r\n\r\n")
      let response = try #require(await connection.readResponse())
      #expect(response.status == 400)
      #expect(response.body.contains("malformed request"))
    }
  }

  @Test func slowClientIsTimedOut() async throws {
    let configuration = ServerConfiguration(readTimeout: .milliseconds(400))
    try await withServer(configuration, handler: echoHandler) { _, port in
      let connection = try await RawConnection.connect(port: port)
      let started = ContinuousClock.now
      // A slow-loris client: a byte now and then, never finishing the head.
      await connection.send("GET / HTTP/1.1\r\nHo")
      try await Task.sleep(for: .milliseconds(150))
      await connection.send("s")
      try await Task.sleep(for: .milliseconds(150))
      await connection.send("t")
      let (bytes, closed) = await connection.readUntilClose(timeout: .seconds(30))
      #expect(closed)
      // 408 once the head has started; on a starved machine the first bytes can arrive
      // after the timeout, and then the connection is closed as idle, without a response.
      let status = RawResponse.parse(bytes)?.status
      #expect(status == 408 || bytes.isEmpty, "status \(String(describing: status))")
      #expect(ContinuousClock.now - started < .seconds(30))

      // An idle connection that never sends anything is closed quietly.
      let idle = try await RawConnection.connect(port: port)
      let (idleBytes, idleClosed) = await idle.readUntilClose(timeout: .seconds(30))
      #expect(idleClosed)
      #expect(idleBytes.isEmpty)
    }
  }

  @Test func connectionsOverTheCapGet503() async throws {
    // Held connections must stay open for the whole test, however slow the machine.
    let configuration = ServerConfiguration(readTimeout: .seconds(60), maxConnections: 2)
    try await withServer(configuration, handler: echoHandler) { _, port in
      var held: [RawConnection] = []
      for _ in 0..<2 {
        let connection = try await RawConnection.connect(port: port)
        await connection.send("GET /held HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(await connection.readResponse()?.status == 200)
        held.append(connection)
      }
      let extra = try await RawConnection.connect(port: port)
      let (bytes, closed) = await extra.readUntilClose()
      let refused = try #require(RawResponse.parse(bytes))
      #expect(refused.status == 503)
      #expect(refused.headers["retry-after"] == "1")
      #expect(closed)

      // Once a slot frees up, new clients are served again.
      held.removeFirst()
      var served = false
      for _ in 0..<50 where !served {
        let retry = try await RawConnection.connect(port: port)
        await retry.send("GET /again HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        served = await retry.readResponse()?.status == 200
        if !served { try await Task.sleep(for: .milliseconds(50)) }
      }
      #expect(served)
    }
  }

  @Test func concurrentRequestsAreHandledInParallel() async throws {
    let inFlight = InFlightCounter()
    let handler: HTTPServer.Handler = { request in
      await inFlight.enter()
      try? await Task.sleep(for: .milliseconds(300))
      await inFlight.leave()
      return .text(request.path)
    }
    try await withServer(handler: handler) { _, port in
      let session = makeSession()
      defer { session.finishTasksAndInvalidate() }
      let started = ContinuousClock.now
      let paths = try await withThrowingTaskGroup(of: String.self) { group in
        for index in 0..<8 {
          let url = try #require(URL(string: "http://127.0.0.1:\(port)/r\(index)"))
          group.addTask {
            let (data, _) = try await session.data(from: url)
            return String(decoding: data, as: UTF8.self)
          }
        }
        return try await group.reduce(into: Set<String>()) { $0.insert($1) }
      }
      #expect(paths == Set((0..<8).map { "/r\($0)" }))
      // Requests overlapped instead of queueing one behind another.
      #expect(await inFlight.maximum >= 2)
      _ = started
    }
  }

  @Test func gracefulStopFinishesAnInFlightRequest() async throws {
    let entered = Signal()
    let server = HTTPServer(configuration: ServerConfiguration())
    let port = try server.start { _ in
      entered.fire()
      try? await Task.sleep(for: .milliseconds(500))
      return .text("done")
    }
    let session = makeSession()
    defer { session.finishTasksAndInvalidate() }
    let url = try #require(URL(string: "http://127.0.0.1:\(port)/slow"))
    let inFlight = Task { try await session.data(from: url) }
    // An idle keep-alive connection does not hold the stop up.
    let idle = try await RawConnection.connect(port: port)
    await entered.wait()
    let stopStarted = ContinuousClock.now
    await server.stop(graceful: true)
    #expect(ContinuousClock.now - stopStarted < .seconds(5))
    let (data, response) = try await inFlight.value
    #expect((response as? HTTPURLResponse)?.statusCode == 200)
    #expect(String(decoding: data, as: UTF8.self) == "done")
    let idleEnd = await idle.readUntilClose(timeout: .seconds(2))
    #expect(idleEnd.closed)
    // Nothing listens any more.
    await #expect(throws: RawClientError.self) { _ = try await RawConnection.connect(port: port) }
    #expect(server.port == nil)
  }

  @Test func forcedStopDoesNotWaitForHandlers() async throws {
    let entered = Signal()
    let server = HTTPServer(configuration: ServerConfiguration())
    let port = try server.start { _ in
      entered.fire()
      try? await Task.sleep(for: .seconds(30))
      return .text("late")
    }
    let connection = try await RawConnection.connect(port: port)
    await connection.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    await entered.wait()
    let started = ContinuousClock.now
    await server.stop(graceful: false)
    #expect(ContinuousClock.now - started < .seconds(3))
    let (bytes, closed) = await connection.readUntilClose(timeout: .seconds(2))
    #expect(closed)
    #expect(bytes.isEmpty)
  }

  @Test func dropConnectionClosesWithoutAResponse() async throws {
    try await withServer(handler: { _ in .dropConnection }) { _, port in
      let connection = try await RawConnection.connect(port: port)
      await connection.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
      let (bytes, closed) = await connection.readUntilClose()
      #expect(closed)
      #expect(bytes.isEmpty)
    }
  }

  @Test(arguments: [false, true])
  func cutOffAnswersSendTheHeadAndPartOfTheBodyThenEnd(reset: Bool) async throws {
    let body = String(repeating: "0123456789", count: 10)
    try await withServer(handler: { _ in ServerResponse.text(body).cutOff(afterBodyBytes: 7, reset: reset) }) { _, port in
      let connection = try await RawConnection.connect(port: port)
      await connection.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
      // Read to the end by hand, keeping how it ended: an orderly close reads as 0, a
      // reset as -1 with ECONNRESET.
      let fd = connection.fd
      let (bytes, last, code) = await offPool { () -> ([UInt8], Int, Int32) in
        var collected: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4_096)
        while true {
          var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
          guard poll(&pfd, 1, 10_000) > 0 else { return (collected, -2, 0) }
          let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
          if count <= 0 { return (collected, count, count < 0 ? errno : 0) }
          collected += buffer[0..<count]
        }
      }
      let text = String(decoding: bytes, as: UTF8.self)
      let head = try #require(text.components(separatedBy: "\r\n\r\n").first)
      #expect(head.hasPrefix("HTTP/1.1 200 OK\r\n"))
      #expect(head.contains("Content-Length: 100"), "the head announces the whole body")
      #expect(text.hasSuffix("\r\n\r\n0123456"), "then 7 bytes of it: \(text)")
      if reset {
        #expect(last == -1 && code == ECONNRESET, "recv \(last), errno \(code)")
      } else {
        #expect(last == 0, "recv \(last), errno \(code)")
      }
    }
  }

  @Test func cutOffNeverSendsTheWholeBodyAndCutsAnEmptyAnswerInTheHead() async throws {
    try await withServer(handler: { request in
      request.path == "/empty" ? ServerResponse(status: 204).cutOff(afterBodyBytes: 0) : .text("abc").cutOff(afterBodyBytes: 99)
    }) { _, port in
      let whole = try await RawConnection.connect(port: port)
      await whole.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
      let text = String(decoding: await whole.readUntilClose(timeout: .seconds(10)).bytes, as: UTF8.self)
      #expect(text.contains("Content-Length: 3") && text.hasSuffix("\r\n\r\nab"), "\(text)")
      let empty = try await RawConnection.connect(port: port)
      await empty.send("GET /empty HTTP/1.1\r\nHost: t\r\n\r\n")
      let head = String(decoding: await empty.readUntilClose(timeout: .seconds(10)).bytes, as: UTF8.self)
      #expect(head.hasPrefix("HTTP/1.1 204") && !head.contains("\r\n\r\n"), "\(head)")
    }
  }

  @Test func expectContinueIsAnswered() async throws {
    try await withServer(ServerConfiguration(readTimeout: .seconds(60)), handler: { .text(String(decoding: $0.body, as: UTF8.self)) }) { _, port in
      let connection = try await RawConnection.connect(port: port)
      await connection.send("PUT /x HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
      let interim = try #require(await connection.readResponse())
      #expect(interim.status == 100)
      await connection.send("hello")
      let final = try #require(await connection.readResponse())
      #expect(final.status == 200)
      #expect(final.body == "hello")
    }
  }

  @Test func nonLoopbackAddressesAreRefusedUnlessAllowed() throws {
    for host in ["0.0.0.0", "10.1.2.3", "::"] {
      let server = HTTPServer(configuration: ServerConfiguration(host: host))
      #expect(throws: HTTPServerError.nonLoopbackRefused(host: host)) {
        try server.start { _ in .text("") }
      }
    }
    let named = HTTPServer(configuration: ServerConfiguration(host: "example.com"))
    #expect(throws: HTTPServerError.invalidHost("example.com")) { try named.start { _ in .text("") } }
    let badPort = HTTPServer(configuration: ServerConfiguration(port: 70000))
    #expect(throws: HTTPServerError.self) { try badPort.start { _ in .text("") } }
  }

  @Test func loopbackAddressFormsAreAccepted() async throws {
    var hosts = ["localhost"]
    #if os(Linux)
      hosts.append("127.0.0.2")  // all of 127.0.0.0/8 reaches lo on Linux
    #endif
    for host in hosts {
      try await withServer(ServerConfiguration(host: host), handler: echoHandler) { _, port in
        #expect(port > 0)
      }
    }
  }

  @Test func bindFailureNamesTheAddressAndReason() async throws {
    try await withServer(handler: echoHandler) { _, port in
      let second = HTTPServer(configuration: ServerConfiguration(port: port))
      do throws(HTTPServerError) {
        try second.start { _ in .text("") }
        Issue.record("binding a taken port succeeded")
      } catch {
        guard case .bindFailed(let address, let code, _) = error else {
          Issue.record("unexpected error \(error)")
          return
        }
        #expect(address == "127.0.0.1:\(port)")
        #expect(code == EADDRINUSE)
        #expect(error.description.contains("127.0.0.1:\(port)"))
        #expect(error.description.lowercased().contains("in use"))
      }
    }
  }

  @Test func startingTwiceOrAfterStopIsAnError() async throws {
    let server = try await withServer(handler: echoHandler) { server, _ in
      #expect(throws: HTTPServerError.alreadyStarted) { try server.start { _ in .text("") } }
      return server
    }
    #expect(throws: HTTPServerError.stopped) { try server.start { _ in .text("") } }
    // Stopping twice, or a server never started, is harmless.
    await server.stop(graceful: true)
    await HTTPServer().stop(graceful: true)
  }
}

/// Counts handlers running at the same time.
actor InFlightCounter {
  private var current = 0
  private(set) var maximum = 0
  func enter() {
    current += 1
    maximum = max(maximum, current)
  }
  func leave() { current -= 1 }
}
