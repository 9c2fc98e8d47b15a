import Foundation

/// What to do after one attempt.
public enum RetryDecision: Sendable, Equatable {
  /// The outcome is final by nature: a success, or a failure that repeating cannot fix
  /// (most 4xx, a policy refusal, cancellation). Return it as it is.
  case done
  /// Send the request again after this many seconds.
  case retry(after: TimeInterval)
  /// The failure looked transient but the policy stops here: the attempts are used up, or the
  /// request is not safe to repeat. Return the outcome as it is; `reason` is for logs.
  case giveUp(reason: String)
}

/// When and how long to wait before sending a request again. ``decision(for:request:attempt:)``
/// is a pure function of its inputs plus the injected random source and clock.
///
/// Retried, only for requests that are safe to repeat (``HTTPRequest/isRetrySafe``):
/// connection errors, timeouts, 408, 429, 500, 502, 503 and 504. A 429 that carries
/// `Retry-After` is also retried for a request marked ``HTTPRequest/repeatableAfterRateLimit``
/// (its server's rate limiter refuses requests before applying them); one without is not, as
/// it may come from something other than the limiter.
///
/// 500 is retried too. For a plain POST it would be wrong (the server may have applied the write
/// before failing), but a retry-safe request is idempotent or carries ids the server
/// de-duplicates on (Testomat.io `rid`s), so a repeat cannot double-apply, and 500s from busy
/// reporting backends are often transient. Non-retry-safe requests are never repeated, whatever
/// the failure: even a connection error may come after the server received the body.
///
/// Waits follow capped exponential backoff with full jitter: attempt `n` waits a random time in
/// `0...min(maxDelay, baseDelay * 2^(n-1))`. A `Retry-After` header (seconds or an HTTP date)
/// replaces the backoff, capped at ``maxRetryAfter``.
public struct RetryPolicy: Sendable {
  /// Total attempts including the first; 1 disables retries.
  public var maxAttempts: Int
  /// Backoff ceiling for the first retry, in seconds.
  public var baseDelay: TimeInterval
  /// Largest backoff ceiling, in seconds.
  public var maxDelay: TimeInterval
  /// Full jitter on (the default) or off (waits are the ceilings themselves).
  public var jitter: Bool
  /// The longest `Retry-After` honoured, in seconds; longer values are cut to this.
  public var maxRetryAfter: TimeInterval
  /// A random fraction in `0...1` for jitter.
  public var random: @Sendable () -> Double
  /// The clock `Retry-After` dates are measured against.
  public var now: any NowProvider

  public init(
    maxAttempts: Int = 5,
    baseDelay: TimeInterval = 0.5,
    maxDelay: TimeInterval = 30,
    jitter: Bool = true,
    maxRetryAfter: TimeInterval = 120,
    random: @escaping @Sendable () -> Double = { Double.random(in: 0...1) },
    now: any NowProvider = SystemNowProvider()
  ) {
    self.maxAttempts = maxAttempts
    self.baseDelay = baseDelay
    self.maxDelay = maxDelay
    self.jitter = jitter
    self.maxRetryAfter = maxRetryAfter
    self.random = random
    self.now = now
  }

  /// A policy that never retries.
  public static var never: RetryPolicy { RetryPolicy(maxAttempts: 1) }

  /// Statuses worth repeating for a retry-safe request.
  public static let retryableStatuses: Set<Int> = [408, 429, 500, 502, 503, 504]

  /// The decision after attempt number `attempt` (1 for the first) ended with `outcome`.
  public func decision(
    for outcome: Result<HTTPResponse, HTTPError>, request: HTTPRequest, attempt: Int
  ) -> RetryDecision {
    let failure: String
    var serverDelay: TimeInterval?
    var refusedUnapplied = false
    switch outcome {
    case .success(let response):
      guard Self.retryableStatuses.contains(response.status) else { return .done }
      failure = "HTTP \(response.status)"
      serverDelay = response.header("Retry-After").flatMap(retryAfterSeconds)
      refusedUnapplied = response.status == 429 && request.repeatableAfterRateLimit && serverDelay != nil
    case .failure(let error):
      switch error.kind {
      case .transport(_, isConnectionError: true): failure = "connection error"
      case .timeout: failure = "timeout"
      case .transport, .status, .decoding, .refused, .cancelled: return .done
      }
    }
    guard request.isRetrySafe || refusedUnapplied else {
      return .giveUp(reason: "\(failure); not retried: a \(request.method.rawValue) request is not safe to repeat")
    }
    let attempts = max(1, maxAttempts)
    guard attempt < attempts else {
      return .giveUp(reason: "\(failure); giving up after \(attempt) attempt\(attempt == 1 ? "" : "s")")
    }
    if let serverDelay { return .retry(after: min(max(0, serverDelay), max(0, maxRetryAfter))) }
    return .retry(after: backoff(attempt: attempt))
  }

  /// The wait after failed attempt `attempt`: `min(maxDelay, baseDelay * 2^(attempt-1))`,
  /// scaled by a random fraction when jitter is on.
  public func backoff(attempt: Int) -> TimeInterval {
    let exponent = Double(min(max(attempt - 1, 0), 60))
    let ceiling = max(0, min(maxDelay, baseDelay * pow(2, exponent)))
    guard jitter else { return ceiling }
    let fraction = random()
    return ceiling * (fraction.isFinite ? min(max(fraction, 0), 1) : 1)
  }

  /// Seconds to wait for a `Retry-After` value: delay-seconds, or an HTTP date
  /// (IMF-fixdate, RFC 850 or asctime form) measured from ``now``; nil when unreadable.
  /// Dates in the past give 0.
  public func retryAfterSeconds(_ value: String) -> TimeInterval? {
    let text = value.trimmingCharacters(in: .whitespaces)
    guard !text.isEmpty else { return nil }
    if text.allSatisfy({ $0.isASCII && $0.isNumber }) {
      return Double(text) ?? .infinity  // an absurdly long digit string is still "a long time"
    }
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "GMT")
    for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
      formatter.dateFormat = format
      if let date = formatter.date(from: text) {
        return max(0, date.timeIntervalSince(now.now()))
      }
    }
    return nil
  }
}
