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

  /// A server that sends the head and part of the body, then closes (an upstream that dies
  /// mid-answer): libcurl's "transfer closed with N bytes remaining to read", which Foundation
  /// reports as `URLError.unknown`. It was not taken for a connection error, so the upload was
  /// never retried and a batch Testomat.io had already stored went to the spool.
  @Test func anAnswerCutOffMidBodyIsAConnectionError() async throws {
    let server = try LoopbackResponder(.closeMidResponse)
    defer { server.stop() }
    do {
      _ = try await URLSessionTransport(defaultTimeout: 5).send(
        request(.POST, "\(server.baseURL)/api/reporter/r1/testrun", body: "{}", retrySafe: true))
      Issue.record("a cut answer was taken for a response")
    } catch {
      #expect(error.isConnectionError, "\(error)")
      #expect(error.description.contains("the connection closed before the whole answer arrived"), "\(error)")
    }
  }

  @Test func aRetrySafeUploadSurvivesAnswersCutOffMidBody() async throws {
    let ok = URLSessionTransportTests.canned("200 OK", body: "{}")
    guard case .respond(let answer) = ok else { return }
    let cut = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{\"uid\""
    let server = try LoopbackResponder(.sequence([cut, cut, answer]))
    defer { server.stop() }
    let sleeper = RecordingSleeper()
    let transport = RetryingTransport(base: URLSessionTransport(defaultTimeout: 5), sleeper: sleeper)
    let response = try await transport.send(
      request(.POST, "\(server.baseURL)/api/reporter/r1/testrun", body: "{}", retrySafe: true))
    #expect(response.status == 200)
    #expect(sleeper.delays.count == 2)
    #expect(server.requests.count == 3)
  }
}
