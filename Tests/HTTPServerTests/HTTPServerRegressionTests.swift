import Foundation
import Testing

@testable import HTTPServer

/// Defects found while fuzzing and reviewing for RELIABILITY.md, kept fixed.
@Suite struct HTTPServerRegressionTests {
  /// `testbridge serve --read-timeout 9223372036854775807` crashed on its first
  /// connection: the time left until the deadline, in milliseconds, overflowed Int64.
  @Test func farReadTimeoutServesRequests() async throws {
    let server = HTTPServer(configuration: ServerConfiguration(readTimeout: .seconds(Int64.max)))
    let port = try server.start { _ in .text("ok") }
    let connection = try await RawConnection.connect(port: port)
    await connection.send("GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    let response = await connection.readResponse()
    await server.stop(graceful: false)
    #expect(response?.status == 200)
    #expect(response?.body == "ok")
  }
}
