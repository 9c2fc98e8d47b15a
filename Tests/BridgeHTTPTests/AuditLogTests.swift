import BridgeHTTP
import BridgeTestSupport
import Foundation
import Testing

@Suite struct AuditLogTests {
  func temporaryPath() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID().uuidString).jsonl").path
  }

  func lines(at path: String) throws -> [[String: Any]] {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    #expect(text.hasSuffix("\n"))
    return try text.split(separator: "\n").map { line in
      try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }
  }

  @Test func writesOneJSONObjectPerAttempt() throws {
    let path = temporaryPath()
    defer { try? FileManager.default.removeItem(atPath: path) }
    let log = try AuditLog(path: path)
    let time = Date(timeIntervalSince1970: 1_750_000_000.25)
    log.record(
      HTTPAttemptRecord(
        time: time, method: .POST, url: "https://app.testomat.io/api/reporter?api_key=REDACTED",
        status: 503, error: nil, attempt: 1, duration: 0.12345))
    log.record(
      HTTPAttemptRecord(
        time: time, method: .GET, url: "https://h/x", status: nil,
        error: "connection error: \"quoted\"\nnewline tstmt_leaked123", attempt: 2, duration: 2))

    let text = try String(contentsOfFile: path, encoding: .utf8)
    #expect(
      text.split(separator: "\n").first
        == #"{"time":"2025-06-15T15:06:40.250Z","method":"POST","url":"https://app.testomat.io/api/reporter?api_key=REDACTED","status":503,"attempt":1,"duration":0.123}"#
    )
    let objects = try lines(at: path)
    #expect(objects.count == 2)
    #expect(objects[1]["status"] == nil)
    #expect(objects[1]["error"] as? String == "connection error: \"quoted\"\nnewline [REDACTED]")
    #expect(objects[1]["attempt"] as? Int == 2)
    #expect(objects[1]["duration"] as? Double == 2)
    #expect(!text.contains("tstmt_leaked"))
  }

  @Test func appendsToAnExistingFileAndRedactsRawURLs() throws {
    let path = temporaryPath()
    defer { try? FileManager.default.removeItem(atPath: path) }
    try Data("{\"earlier\":true}\n".utf8).write(to: URL(fileURLWithPath: path))
    let log = try AuditLog(path: path)
    log.record(
      HTTPAttemptRecord(
        time: Date(), method: .GET, url: "https://h/api?api_key=raw-key-value", status: 200, error: nil,
        attempt: 1, duration: 0))
    let objects = try lines(at: path)
    #expect(objects.count == 2)
    #expect(objects[0]["earlier"] as? Bool == true)
    #expect(objects[1]["url"] as? String == "https://h/api?api_key=REDACTED")
  }

  @Test func recordsEveryAttemptOfARetryingTransport() async throws {
    let path = temporaryPath()
    defer { try? FileManager.default.removeItem(atPath: path) }
    let log = try AuditLog(path: path)
    let stub = StubTransport([.status(502), .connectionRefused, .status(200)])
    let transport = RetryingTransport(
      base: stub, policy: RetryPolicy(jitter: false), sleeper: RecordingSleeper(), observer: log.observer)
    _ = try await transport.send(request(.GET, "https://app.testomat.io/api/test_grep?api_key=tstmt_abcdef&type=tag"))
    let objects = try lines(at: path)
    #expect(objects.map { $0["attempt"] as? Int } == [1, 2, 3])
    #expect(objects.map { $0["status"] as? Int } == [502, nil, 200])
    #expect(objects[1]["error"] as? String == "connection error: cannot connect to the server")
    #expect(objects.allSatisfy { ($0["url"] as? String)?.contains("api_key=REDACTED") == true })
    #expect(objects.allSatisfy { $0["method"] as? String == "GET" && $0["time"] is String })
  }

  @Test func concurrentWritersProduceWholeLines() async throws {
    let path = temporaryPath()
    defer { try? FileManager.default.removeItem(atPath: path) }
    let log = try AuditLog(path: path)
    let second = try AuditLog(path: path)  // a second descriptor on the same file, as another process would have
    await withTaskGroup(of: Void.self) { group in
      for worker in 0..<8 {
        group.addTask {
          for attempt in 1...50 {
            (worker.isMultiple(of: 2) ? log : second).record(
              HTTPAttemptRecord(
                time: Date(), method: .PUT, url: "https://h/w\(worker)/" + String(repeating: "p", count: 300),
                status: 200, error: nil, attempt: attempt, duration: 0.001))
          }
        }
      }
    }
    let objects = try lines(at: path)
    #expect(objects.count == 400)
  }

  @Test func unopenablePathThrowsANamedError() {
    let error = #expect(throws: AuditLogError.self) {
      try AuditLog(path: "/nonexistent-dir-\(UUID().uuidString)/audit.jsonl")
    }
    #expect(error?.description.hasPrefix("cannot open audit log '/nonexistent-dir-") == true)
    #expect(error?.description.contains("No such file or directory") == true)
  }
}
