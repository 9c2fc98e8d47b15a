import BridgeHTTP
import BridgeTestSupport
import Foundation
import Testing

/// Defects found by the fault-injection tests (RELIABILITY.md), kept fixed.
@Suite struct BridgeHTTPRegressionTests {
  /// A server that closes the connection without answering gives libcurl's "empty reply",
  /// which Foundation reports as `badServerResponse`. It was taken for a malformed answer
  /// and never retried, so one dropped connection sent a whole batch to the spool.
  @Test func anEmptyReplyIsAConnectionError() async throws {
    let server = try LoopbackResponder(.respond(""))
    defer { server.stop() }
    do {
      _ = try await URLSessionTransport(defaultTimeout: 5).send(
        request(.POST, "\(server.baseURL)/api/reporter/r1/testrun", body: "{}", retrySafe: true))
      Issue.record("an empty reply was taken for a response")
    } catch {
      #expect(error.isConnectionError, "\(error)")
    }
  }

  @Test func aRetrySafeUploadSurvivesEmptyReplies() async throws {
    let ok = URLSessionTransportTests.canned("200 OK", body: "{}")
    guard case .respond(let answer) = ok else { return }
    let server = try LoopbackResponder(.sequence(["", "", answer]))
    defer { server.stop() }
    let sleeper = RecordingSleeper()
    let transport = RetryingTransport(base: URLSessionTransport(defaultTimeout: 5), sleeper: sleeper)
    let response = try await transport.send(
      request(.POST, "\(server.baseURL)/api/reporter/r1/testrun", body: "{}", retrySafe: true))
    #expect(response.status == 200)
    #expect(sleeper.delays.count == 2)
    // Creating a run is not retry-safe: an empty reply stays an error, never a blind repeat.
    let again = try LoopbackResponder(.respond(""))
    defer { again.stop() }
    await #expect(throws: HTTPError.self) {
      try await transport.send(request(.POST, "\(again.baseURL)/api/reporter", body: "{}"))
    }
    #expect(again.requests.count == 1)
  }
}
