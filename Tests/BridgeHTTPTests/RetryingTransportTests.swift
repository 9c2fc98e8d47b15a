import BridgeCore
import BridgeHTTP
import BridgeTestSupport
import Foundation
import Testing

@Suite struct RetryingTransportTests {
  final class Records: Sendable {
    let all = Locked<[HTTPAttemptRecord]>([])
    var list: [HTTPAttemptRecord] { all.withLock { $0 } }
    func add(_ record: HTTPAttemptRecord) { all.withLock { $0.append(record) } }
  }

  func makeTransport(
    _ stub: StubTransport, sleeper: some Sleeper, records: Records? = nil,
    policy: RetryPolicy = RetryPolicy(jitter: false, now: ManualNowProvider())
  ) -> RetryingTransport {
    var observer: (@Sendable (HTTPAttemptRecord) -> Void)?
    if let records { observer = { records.add($0) } }
    return RetryingTransport(base: stub, policy: policy, sleeper: sleeper, observer: observer)
  }

  @Test func retriesTransientStatusesWithBackoffThenReturnsTheSuccess() async throws {
    let stub = StubTransport([.status(503), .status(502), .json(200, #"{"ok":true}"#)])
    let sleeper = RecordingSleeper()
    let records = Records()
    let result = try await makeTransport(stub, sleeper: sleeper, records: records).send(request(.PUT))
    #expect(result.status == 200)
    #expect(result.bodyText == #"{"ok":true}"#)
    #expect(stub.requestCount == 3)
    #expect(sleeper.delays == [0.5, 1.0])
    #expect(records.list.map(\.status) == [503, 502, 200])
    #expect(records.list.map(\.attempt) == [1, 2, 3])
    #expect(records.list.allSatisfy { $0.method == .PUT && $0.error == nil && $0.duration >= 0 })
  }

  @Test func unsafePostIsSentOnceAndItsFailureReturnedAsAResponse() async throws {
    let stub = StubTransport([.status(503, body: "busy"), .status(200)])
    let sleeper = RecordingSleeper()
    let result = try await makeTransport(stub, sleeper: sleeper).send(request(.POST, body: "{}"))
    #expect(result.status == 503)
    #expect(stub.requestCount == 1)
    #expect(sleeper.delays.isEmpty)
  }

  @Test func retrySafePostIsRetriedOn500() async throws {
    let stub = StubTransport([.status(500), .status(200)])
    let sleeper = RecordingSleeper()
    let result = try await makeTransport(stub, sleeper: sleeper)
      .send(request(.POST, body: #"{"tests":[{"rid":"r-1"}]}"#, retrySafe: true))
    #expect(result.status == 200)
    #expect(stub.requestCount == 2)
    #expect(sleeper.delays == [0.5])
  }

  @Test func exhaustionReturnsTheLastResponse() async throws {
    let stub = StubTransport(fallback: .status(503, body: "still busy"))
    let sleeper = RecordingSleeper()
    let result = try await makeTransport(stub, sleeper: sleeper).send(request())
    #expect(result.status == 503)
    #expect(stub.requestCount == 5)
    #expect(sleeper.delays == [0.5, 1, 2, 4])
  }

  @Test func connectionErrorsAreRetriedThenThrown() async throws {
    let stub = StubTransport(fallback: .connectionRefused)
    let sleeper = RecordingSleeper()
    let records = Records()
    let policy = RetryPolicy(maxAttempts: 3, jitter: false, now: ManualNowProvider())
    let error = await #expect(throws: HTTPError.self) {
      try await makeTransport(stub, sleeper: sleeper, records: records, policy: policy).send(request())
    }
    #expect(error?.isConnectionError == true)
    #expect(stub.requestCount == 3)
    #expect(sleeper.delays == [0.5, 1])
    #expect(records.list.map(\.error) == Array(repeating: "connection error: cannot connect to the server", count: 3))
    #expect(records.list.allSatisfy { $0.status == nil })
  }

  @Test func timeoutThenSuccess() async throws {
    let stub = StubTransport([.timeout(20), .status(204)])
    let sleeper = RecordingSleeper()
    let result = try await makeTransport(stub, sleeper: sleeper).send(request(.DELETE))
    #expect(result.status == 204)
    #expect(sleeper.delays == [0.5])
  }

  @Test func nonRetryableErrorIsThrownAtOnce() async throws {
    let stub = StubTransport([.failure(.refused(reason: "no")), .status(200)])
    let sleeper = RecordingSleeper()
    await #expect(throws: HTTPError(.refused(reason: "no"), request: request())) {
      try await makeTransport(stub, sleeper: sleeper).send(request())
    }
    #expect(stub.requestCount == 1)
  }

  @Test func retryAfterIsUsedInsteadOfBackoff() async throws {
    let stub = StubTransport([
      .status(429, headers: ["Retry-After": "3"]), .status(503, headers: ["Retry-After": "900"]), .status(200),
    ])
    let sleeper = RecordingSleeper()
    _ = try await makeTransport(stub, sleeper: sleeper).send(request())
    #expect(sleeper.delays == [3, 120])
  }

  @Test func jitteredDelaysComeFromTheRandomSource() async throws {
    let stub = StubTransport([.status(503), .status(503), .status(503), .status(200)])
    let sleeper = RecordingSleeper()
    let policy = RetryPolicy(random: { 0.5 }, now: ManualNowProvider())
    _ = try await makeTransport(stub, sleeper: sleeper, policy: policy).send(request())
    #expect(sleeper.delays == [0.25, 0.5, 1])
  }

  @Test func cancellationDuringTheWaitThrowsCancelled() async throws {
    struct CancelledSleeper: Sleeper {
      func sleep(for seconds: Double) async throws { throw CancellationError() }
    }
    let stub = StubTransport([.status(503), .status(200)])
    let error = await #expect(throws: HTTPError.self) {
      try await makeTransport(stub, sleeper: CancelledSleeper()).send(request())
    }
    #expect(error?.isCancelled == true)
    #expect(stub.requestCount == 1)
  }

  @Test func cancelledTaskSendsNothing() async throws {
    let stub = StubTransport([.status(200)])
    let task = Task {
      withUnsafeCurrentTask { $0?.cancel() }
      return try await makeTransport(stub, sleeper: RecordingSleeper()).send(request())
    }
    await #expect(throws: HTTPError.self) { try await task.value }
    #expect(stub.requestCount == 0)
  }

  // MARK: - Overall budget

  /// A sleeper that moves the manual clock by each wait, so the budget sees time pass.
  final class ClockSleeper: Sleeper, Sendable {
    let clock: ManualNowProvider
    let recorded = RecordingSleeper()
    init(_ clock: ManualNowProvider) { self.clock = clock }
    var delays: [Double] { recorded.delays }
    func sleep(for seconds: Double) async throws {
      try await recorded.sleep(for: seconds)
      clock.advance(by: seconds)
    }
  }

  /// A transport whose every attempt takes `seconds` on the manual clock before answering `reply`.
  static func slowStub(_ clock: ManualNowProvider, seconds: Double, reply: StubTransport.Reply) -> StubTransport {
    StubTransport { _ in
      clock.advance(by: seconds)
      return reply
    }
  }

  @Test func theOverallBudgetBoundsAttemptsAndWaitsTogether() async throws {
    let clock = ManualNowProvider()
    let stub = Self.slowStub(clock, seconds: 20, reply: .timeout(20))
    let sleeper = ClockSleeper(clock)
    let policy = RetryPolicy(jitter: false, now: clock, overallBudget: 45)
    let start = clock.now()
    let error = await #expect(throws: HTTPError.self) {
      try await makeTransport(stub, sleeper: sleeper, policy: policy).send(request(.PUT, timeout: 20))
    }
    #expect(error?.isTimeout == true)
    // 20 s attempt, 0.5 s wait, 20 s attempt, 1 s wait, then only 3.5 s left: the third
    // attempt is cut to what remains, and nothing follows it.
    #expect(stub.requestCount == 3)
    #expect(sleeper.delays == [0.5, 1])
    #expect(stub.requests.map(\.timeout) == [20, 20, 3.5])
    // A transport that keeps to each attempt's timeout ends the call exactly at the budget.
    let allowed = stub.requests.compactMap(\.timeout).reduce(0, +) + sleeper.delays.reduce(0, +)
    #expect(allowed == 45)
    #expect(clock.now().timeIntervalSince(start) > 45, "this stub overran its last attempt, and nothing followed")
  }

  @Test func aRetryAfterPastTheBudgetEndsTheRetriesWithoutWaiting() async throws {
    let clock = ManualNowProvider()
    let stub = StubTransport([.status(429, headers: ["Retry-After": "100"]), .status(200)])
    let sleeper = ClockSleeper(clock)
    let policy = RetryPolicy(jitter: false, now: clock, overallBudget: 60)
    let result = try await makeTransport(stub, sleeper: sleeper, policy: policy).send(request(.PUT, timeout: 20))
    #expect(result.status == 429, "the 429 comes back as it is")
    #expect(stub.requestCount == 1)
    #expect(sleeper.delays.isEmpty, "no 100 s wait that the budget could not honour")
  }

  @Test func withoutABudgetTheWorstCaseIsEveryAttemptAndWait() async throws {
    let clock = ManualNowProvider()
    let stub = Self.slowStub(clock, seconds: 20, reply: .status(503, headers: ["Retry-After": "120"]))
    let sleeper = ClockSleeper(clock)
    let start = clock.now()
    _ = try await makeTransport(stub, sleeper: sleeper, policy: RetryPolicy(jitter: false, now: clock))
      .send(request(.PUT, timeout: 20))
    #expect(stub.requestCount == 5)
    #expect(clock.now().timeIntervalSince(start) == 5 * 20 + 4 * 120)
    // The same call with a 120 s budget: one attempt, no 120 s wait left to take.
    let bounded = Self.slowStub(clock, seconds: 20, reply: .status(503, headers: ["Retry-After": "120"]))
    let again = clock.now()
    _ = try await makeTransport(bounded, sleeper: sleeper, policy: RetryPolicy(jitter: false, now: clock, overallBudget: 120))
      .send(request(.PUT, timeout: 20))
    #expect(bounded.requestCount == 1)
    #expect(clock.now().timeIntervalSince(again) == 20)
  }

  @Test func observerSeesTheRedactedURLAndStartTimes() async throws {
    let clock = ManualNowProvider()
    let stub = StubTransport([.status(200)])
    let records = Records()
    let transport = RetryingTransport(
      base: stub, policy: RetryPolicy(now: clock), sleeper: RecordingSleeper(), observer: { records.add($0) })
    _ = try await transport.send(request(.GET, "https://user:pw@app.testomat.io/api/test_grep?api_key=tstmt_abc123&type=tag"))
    let record = try #require(records.list.first)
    #expect(record.url == "https://app.testomat.io/api/test_grep?api_key=REDACTED&type=tag")
    #expect(record.time == clock.now())
    #expect(!record.url.contains("tstmt_abc123"))
  }
}
