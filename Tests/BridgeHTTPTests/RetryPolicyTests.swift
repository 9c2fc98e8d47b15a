import BridgeHTTP
import BridgeTestSupport
import Foundation
import Testing

@Suite struct RetryPolicyTests {
  /// Jitter off, so decisions show the backoff ceilings themselves.
  static let plain = RetryPolicy(jitter: false, now: ManualNowProvider())

  struct StatusCase: Sendable, CustomTestStringConvertible {
    let status: Int
    let method: HTTPMethod
    let retrySafe: Bool
    let expected: Expected
    var testDescription: String { "\(method.rawValue)\(retrySafe ? " (retry-safe)" : "") → \(status)" }
  }

  enum Expected: Sendable { case done, retry, giveUp }

  static let statusCases: [StatusCase] = [
    StatusCase(status: 200, method: .GET, retrySafe: false, expected: .done),
    StatusCase(status: 201, method: .POST, retrySafe: false, expected: .done),
    StatusCase(status: 204, method: .PUT, retrySafe: false, expected: .done),
    StatusCase(status: 301, method: .GET, retrySafe: false, expected: .done),
    StatusCase(status: 400, method: .GET, retrySafe: false, expected: .done),
    StatusCase(status: 401, method: .GET, retrySafe: false, expected: .done),
    StatusCase(status: 403, method: .PUT, retrySafe: false, expected: .done),
    StatusCase(status: 404, method: .GET, retrySafe: false, expected: .done),
    StatusCase(status: 409, method: .POST, retrySafe: true, expected: .done),
    StatusCase(status: 422, method: .POST, retrySafe: true, expected: .done),
    StatusCase(status: 408, method: .GET, retrySafe: false, expected: .retry),
    StatusCase(status: 429, method: .GET, retrySafe: false, expected: .retry),
    StatusCase(status: 500, method: .GET, retrySafe: false, expected: .retry),
    StatusCase(status: 502, method: .GET, retrySafe: false, expected: .retry),
    StatusCase(status: 503, method: .GET, retrySafe: false, expected: .retry),
    StatusCase(status: 504, method: .GET, retrySafe: false, expected: .retry),
    StatusCase(status: 501, method: .GET, retrySafe: false, expected: .done),
    StatusCase(status: 505, method: .GET, retrySafe: false, expected: .done),
    StatusCase(status: 503, method: .HEAD, retrySafe: false, expected: .retry),
    StatusCase(status: 503, method: .PUT, retrySafe: false, expected: .retry),
    StatusCase(status: 503, method: .DELETE, retrySafe: false, expected: .retry),
    StatusCase(status: 503, method: .OPTIONS, retrySafe: false, expected: .retry),
    // Not safe to repeat: never retried, whatever the status.
    StatusCase(status: 503, method: .POST, retrySafe: false, expected: .giveUp),
    StatusCase(status: 500, method: .POST, retrySafe: false, expected: .giveUp),
    StatusCase(status: 429, method: .POST, retrySafe: false, expected: .giveUp),
    StatusCase(status: 502, method: .PATCH, retrySafe: false, expected: .giveUp),
    // Retry-safe bodies (Testomat.io rids) make POST repeatable, 500 included.
    StatusCase(status: 500, method: .POST, retrySafe: true, expected: .retry),
    StatusCase(status: 503, method: .POST, retrySafe: true, expected: .retry),
    StatusCase(status: 408, method: .PATCH, retrySafe: true, expected: .retry),
  ]

  @Test(arguments: statusCases)
  func statusDecision(_ testCase: StatusCase) {
    let decision = Self.plain.decision(
      for: .success(response(testCase.status)),
      request: request(testCase.method, retrySafe: testCase.retrySafe), attempt: 1)
    switch (testCase.expected, decision) {
    case (.done, .done): break
    case (.retry, .retry(let after)): #expect(after == 0.5)
    case (.giveUp, .giveUp(let reason)):
      #expect(reason.contains("HTTP \(testCase.status)"))
      #expect(reason.contains("not safe to repeat"))
    default: Issue.record("expected \(testCase.expected), got \(decision)")
    }
  }

  struct ErrorCase: Sendable, CustomTestStringConvertible {
    let kind: HTTPError.Kind
    let method: HTTPMethod
    let expected: Expected
    var testDescription: String { "\(method.rawValue) → \(kind)" }
  }

  static let errorCases: [ErrorCase] = [
    ErrorCase(kind: .transport(description: "refused", isConnectionError: true), method: .GET, expected: .retry),
    ErrorCase(kind: .timeout(after: 20), method: .GET, expected: .retry),
    ErrorCase(kind: .transport(description: "refused", isConnectionError: true), method: .POST, expected: .giveUp),
    ErrorCase(kind: .timeout(after: 20), method: .POST, expected: .giveUp),
    ErrorCase(kind: .transport(description: "TLS handshake failed", isConnectionError: false), method: .GET, expected: .done),
    ErrorCase(kind: .decoding(description: "bad json"), method: .GET, expected: .done),
    ErrorCase(kind: .refused(reason: "plain http"), method: .GET, expected: .done),
    ErrorCase(kind: .cancelled, method: .GET, expected: .done),
    ErrorCase(kind: .status(code: 503, bodyPrefix: ""), method: .GET, expected: .done),
  ]

  @Test(arguments: errorCases)
  func errorDecision(_ testCase: ErrorCase) {
    let req = request(testCase.method)
    let decision = Self.plain.decision(
      for: .failure(HTTPError(testCase.kind, request: req)), request: req, attempt: 1)
    switch (testCase.expected, decision) {
    case (.done, .done), (.giveUp, .giveUp): break
    case (.retry, .retry(let after)): #expect(after == 0.5)
    default: Issue.record("expected \(testCase.expected), got \(decision)")
    }
  }

  @Test func backoffDoublesUpToTheCap() {
    let delays = (1...9).map { Self.plain.backoff(attempt: $0) }
    #expect(delays == [0.5, 1, 2, 4, 8, 16, 30, 30, 30])
    #expect(Self.plain.backoff(attempt: 10_000) == 30)
  }

  @Test func fullJitterScalesTheCeilingByTheRandomFraction() {
    let policy = RetryPolicy(random: { 0.25 }, now: ManualNowProvider())
    #expect(policy.backoff(attempt: 1) == 0.125)
    #expect(policy.backoff(attempt: 3) == 0.5)
    #expect(policy.backoff(attempt: 20) == 7.5)
    let wild = RetryPolicy(random: { 7 }, now: ManualNowProvider())
    #expect(wild.backoff(attempt: 2) == 1, "a random source outside 0...1 is clamped")
    let zero = RetryPolicy(random: { 0 }, now: ManualNowProvider())
    #expect(zero.decision(for: .success(response(503)), request: request(), attempt: 1) == .retry(after: 0))
  }

  @Test func defaultJitterStaysWithinTheCeiling() {
    let policy = RetryPolicy()
    for attempt in 1...8 {
      let ceiling = min(30, 0.5 * pow(2, Double(attempt - 1)))
      for _ in 0..<50 {
        let delay = policy.backoff(attempt: attempt)
        #expect(delay >= 0 && delay <= ceiling)
      }
    }
  }

  @Test func attemptsAreExhaustedAtMaxAttempts() {
    let policy = RetryPolicy(maxAttempts: 3, jitter: false, now: ManualNowProvider())
    let outcome: Result<HTTPResponse, HTTPError> = .success(response(503))
    #expect(policy.decision(for: outcome, request: request(), attempt: 1) == .retry(after: 0.5))
    #expect(policy.decision(for: outcome, request: request(), attempt: 2) == .retry(after: 1))
    guard case .giveUp(let reason) = policy.decision(for: outcome, request: request(), attempt: 3) else {
      Issue.record("expected giveUp on the last attempt")
      return
    }
    #expect(reason == "HTTP 503; giving up after 3 attempts")
    #expect(RetryPolicy.never.decision(for: outcome, request: request(), attempt: 1) != .retry(after: 0.5))
    let defaults = RetryPolicy(jitter: false)
    #expect(defaults.maxAttempts == 5)
    #expect(defaults.decision(for: outcome, request: request(), attempt: 4) == .retry(after: 4))
    #expect(defaults.decision(for: outcome, request: request(), attempt: 5) != .retry(after: 8))
  }

  struct RetryAfterCase: Sendable, CustomTestStringConvertible {
    let status: Int
    let header: String
    let expected: Double
    var testDescription: String { "\(status) Retry-After: \(header)" }
  }

  /// The manual clock reads 2025-06-15T15:06:40Z (1_750_000_000).
  static let retryAfterCases: [RetryAfterCase] = [
    RetryAfterCase(status: 429, header: "7", expected: 7),
    RetryAfterCase(status: 503, header: " 12 ", expected: 12),
    RetryAfterCase(status: 429, header: "0", expected: 0),
    RetryAfterCase(status: 429, header: "600", expected: 120),
    RetryAfterCase(status: 429, header: "99999999999999999999999", expected: 120),
    RetryAfterCase(status: 503, header: "Sun, 15 Jun 2025 15:07:10 GMT", expected: 30),
    RetryAfterCase(status: 503, header: "Sunday, 15-Jun-25 15:07:20 GMT", expected: 40),
    RetryAfterCase(status: 503, header: "Sun Jun 15 15:07:00 2025", expected: 20),
    RetryAfterCase(status: 429, header: "Sun, 15 Jun 2025 18:00:00 GMT", expected: 120),
    RetryAfterCase(status: 429, header: "Sun, 15 Jun 2025 15:00:00 GMT", expected: 0),
    // Unreadable: fall back to the backoff.
    RetryAfterCase(status: 429, header: "soon", expected: 0.5),
    RetryAfterCase(status: 429, header: "-5", expected: 0.5),
    RetryAfterCase(status: 429, header: "", expected: 0.5),
  ]

  @Test(arguments: retryAfterCases)
  func retryAfterIsHonouredAndCapped(_ testCase: RetryAfterCase) {
    let decision = Self.plain.decision(
      for: .success(response(testCase.status, headers: ["retry-after": testCase.header])),
      request: request(), attempt: 1)
    #expect(decision == .retry(after: testCase.expected))
  }

  @Test func retryAfterDoesNotMakeAnUnsafeRequestRetryable() {
    let decision = Self.plain.decision(
      for: .success(response(429, headers: ["Retry-After": "1"])), request: request(.POST), attempt: 1)
    #expect(decision != .retry(after: 1))
  }

  /// A server whose rate limiter refuses before applying anything (Jira) lets a 429 with
  /// `Retry-After` be repeated even for a plain POST; nothing else changes for that request.
  @Test func aRateLimitRefusalIsRepeatableWhenTheCallerSaysSo() throws {
    var post = request(.POST)
    post.repeatableAfterRateLimit = true
    let limited = Self.plain.decision(for: .success(response(429, headers: ["Retry-After": "3"])), request: post, attempt: 1)
    #expect(limited == .retry(after: 3))
    // Still bounded by the attempts.
    let last = Self.plain.decision(
      for: .success(response(429, headers: ["Retry-After": "3"])), request: post, attempt: Self.plain.maxAttempts)
    guard case .giveUp = last else {
      Issue.record("expected to give up after the last attempt, got \(last)")
      return
    }
    // A 429 without Retry-After may not come from the limiter; a 5xx or a dropped connection
    // may come after the write was applied: none of them is repeated.
    for outcome: Result<HTTPResponse, HTTPError> in [
      .success(response(429)), .success(response(503, headers: ["Retry-After": "3"])), .success(response(500)),
      .failure(HTTPError(.transport(description: "reset", isConnectionError: true), request: post)),
      .failure(HTTPError(.timeout(after: 20), request: post)),
    ] {
      let decision = Self.plain.decision(for: outcome, request: post, attempt: 1)
      guard case .giveUp(let reason) = decision else {
        Issue.record("\(outcome): expected to give up, got \(decision)")
        continue
      }
      #expect(reason.contains("not safe to repeat"))
    }
  }

  @Test func retryAfterCapIsConfigurable() {
    var policy = Self.plain
    policy.maxRetryAfter = 10
    let decision = policy.decision(
      for: .success(response(503, headers: ["Retry-After": "45"])), request: request(), attempt: 1)
    #expect(decision == .retry(after: 10))
  }
}
