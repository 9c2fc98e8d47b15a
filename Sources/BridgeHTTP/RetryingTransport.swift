import Foundation

/// What happened on one attempt, for the audit log and progress output. Contains no secrets.
public struct HTTPAttemptRecord: Sendable, Hashable {
  /// When the attempt started.
  public var time: Date
  public var method: HTTPMethod
  /// The redacted URL (``Redactor/redact(url:)``).
  public var url: String
  /// The response status, when a response arrived.
  public var status: Int?
  /// The failure (``HTTPError/reason``), when no response arrived.
  public var error: String?
  /// 1 for the first attempt.
  public var attempt: Int
  /// Seconds the attempt took.
  public var duration: TimeInterval

  public init(
    time: Date, method: HTTPMethod, url: String, status: Int?, error: String?, attempt: Int,
    duration: TimeInterval
  ) {
    self.time = time
    self.method = method
    self.url = url
    self.status = status
    self.error = error
    self.attempt = attempt
    self.duration = duration
  }
}

/// Sends through `base`, repeating attempts as ``RetryPolicy`` decides and waiting with the
/// injected ``Sleeper``.
///
/// The last outcome is returned as it is: a final non-2xx response comes back as a response, and
/// only transport failures are thrown. Cancellation while waiting throws
/// ``HTTPError/Kind/cancelled``.
///
/// With ``RetryPolicy/overallBudget`` set, the call is bounded as a whole, measured on the
/// policy's clock: no attempt is given longer than what is left of the budget (its `timeout` is
/// cut to it), and a wait that would pass the budget ends the retries.
public struct RetryingTransport: HTTPTransport {
  public let base: any HTTPTransport
  public let policy: RetryPolicy
  public let sleeper: any Sleeper
  public let observer: (@Sendable (HTTPAttemptRecord) -> Void)?

  /// - Parameter observer: called after every attempt, before any wait.
  public init(
    base: any HTTPTransport,
    policy: RetryPolicy = RetryPolicy(),
    sleeper: any Sleeper = TaskSleeper(),
    observer: (@Sendable (HTTPAttemptRecord) -> Void)? = nil
  ) {
    self.base = base
    self.policy = policy
    self.sleeper = sleeper
    self.observer = observer
  }

  public func send(_ request: HTTPRequest) async throws(HTTPError) -> HTTPResponse {
    let clock = ContinuousClock()
    let redactedURL = Redactor.redact(url: request.url)
    let callStart = policy.now.now()
    var attempt = 0
    while true {
      attempt += 1
      if Task.isCancelled { throw HTTPError(.cancelled, request: request) }
      let startedAt = policy.now.now()
      let start = clock.now
      var attemptRequest = request
      if let remaining = policy.remainingBudget(elapsed: startedAt.timeIntervalSince(callStart)),
        remaining < (request.timeout ?? URLSessionTransport.standardTimeout)
      {
        attemptRequest.timeout = max(0.001, remaining)
      }
      let outcome: Result<HTTPResponse, HTTPError>
      do {
        outcome = .success(try await base.send(attemptRequest))
      } catch {
        outcome = .failure(error)
      }
      let elapsed = start.duration(to: clock.now)
      if let observer {
        var record = HTTPAttemptRecord(
          time: startedAt, method: request.method, url: redactedURL, status: nil, error: nil,
          attempt: attempt, duration: elapsed.seconds)
        switch outcome {
        case .success(let response): record.status = response.status
        case .failure(let error): record.error = error.reason
        }
        observer(record)
      }
      let elapsedInCall = policy.now.now().timeIntervalSince(callStart)
      switch policy.decision(for: outcome, request: request, attempt: attempt, elapsed: elapsedInCall) {
      case .done, .giveUp:
        return try outcome.get()
      case .retry(let delay):
        do {
          try await sleeper.sleep(for: delay)
        } catch {
          throw HTTPError(.cancelled, request: request)
        }
      }
    }
  }
}

extension Duration {
  /// The duration in seconds as a floating-point number.
  package var seconds: Double {
    let parts = components
    return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
  }
}
