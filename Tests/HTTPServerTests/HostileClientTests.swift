import Foundation
import Testing

@testable import HTTPServer

/// Clients that try to exhaust the server of `serve`: giant header sections, and
/// slow-loris clients that hold every connection slot by sending a byte now and then.
@Suite struct HostileClientTests {
  private static func withServer(
    _ configuration: ServerConfiguration, _ body: (Int) async throws -> Void
  ) async throws {
    let server = HTTPServer(configuration: configuration)
    let port = try server.start { request in .text("served \(request.path)") }
    do {
      try await body(port)
    } catch {
      await server.stop(graceful: false)
      throw error
    }
    await server.stop(graceful: false)
  }

  private static func get(_ port: Int, _ path: String) async throws -> RawResponse? {
    let connection = try await RawConnection.connect(port: port)
    await connection.send("GET \(path) HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    return await connection.readResponse(timeout: .seconds(10))
  }

  @Test(arguments: [
    ("one 1 MiB header line", "X-Big: " + String(repeating: "b", count: 1 << 20) + "\r\n"),
    ("20,000 small headers", String(repeating: "X-A: b\r\n", count: 20_000)),
    ("a 1 MiB request target", ""),
  ])
  func giantHeaderSectionsGet431AndTheServerCarriesOn(name: String, headers: String) async throws {
    try await Self.withServer(ServerConfiguration()) { port in
      let connection = try await RawConnection.connect(port: port)
      let target = headers.isEmpty ? "/" + String(repeating: "t", count: 1 << 20) : "/"
      // Sent from another task: the server answers and closes before reading it all.
      let sending = Task { await connection.send("GET \(target) HTTP/1.1\r\nHost: t\r\n\(headers)\r\n") }
      let response = try #require(await connection.readResponse(timeout: .seconds(10)), "\(name)")
      #expect(response.status == 431, "\(name)")
      _ = await sending.value
      #expect(try await Self.get(port, "/after")?.status == 200)
    }
  }

  @Test func slowLorisClientsHoldingEverySlotAreCutOffAndServiceResumes() async throws {
    let configuration = ServerConfiguration(readTimeout: .seconds(5), maxConnections: 4)
    try await Self.withServer(configuration) { port in
      // Four clients that start a request and then send one byte at a time, slowly.
      var lorises: [RawConnection] = []
      for _ in 0..<4 {
        let connection = try await RawConnection.connect(port: port)
        await connection.send("POST /hooks/jira HTTP/1.1\r\nHost: t\r\nX-Slow: ")
        lorises.append(connection)
      }
      let held = lorises
      let trickle = Task {
        for _ in 0..<40 {
          for loris in held { await loris.send("a") }
          try? await Task.sleep(for: .milliseconds(250))
        }
      }
      // While they hold the slots, newcomers are told to come back later, not left hanging.
      let busy = try await Self.get(port, "/while-held")
      #expect(busy?.status == 503, "\(String(describing: busy?.status))")
      // Each loris is cut off at the read timeout, however it trickles.
      for loris in lorises {
        let (bytes, closed) = await loris.readUntilClose(timeout: .seconds(10))
        #expect(closed)
        let status = RawResponse.parse(bytes)?.status
        #expect(status == 408 || bytes.isEmpty, "\(String(describing: status))")
      }
      trickle.cancel()
      // Closed connections linger up to a second to drain what the client still sends
      // (and hold their slot meanwhile); after that, service is back.
      var after: Int?
      for _ in 0..<50 where after != 200 {
        after = try await Self.get(port, "/after")?.status
        if after != 200 { try await Task.sleep(for: .milliseconds(100)) }
      }
      #expect(after == 200)
    }
  }

  @Test func aBodyTrickledSlowerThanTheReadTimeoutIsCutOff() async throws {
    try await Self.withServer(ServerConfiguration(readTimeout: .seconds(1))) { port in
      let connection = try await RawConnection.connect(port: port)
      await connection.send("POST /hooks/jira HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n{")
      let trickle = Task {
        for _ in 0..<60 {
          guard await connection.send("x") else { return }
          try? await Task.sleep(for: .milliseconds(100))
        }
      }
      let (bytes, closed) = await connection.readUntilClose(timeout: .seconds(10))
      trickle.cancel()
      #expect(closed)
      // 408 once the request has started; on a starved machine the server thread can first
      // look after the deadline, before reading anything, and close the connection as idle.
      let status = RawResponse.parse(bytes)?.status
      #expect(status == 408 || bytes.isEmpty, "\(String(describing: status))")
    }
  }
}
