import Foundation

/// Jira Cloud's rate limits for API-token traffic, as the Jira emulator enforces them
/// (developer.atlassian.com, "Rate limiting"): a burst limit per HTTP method and endpoint
/// (GET 100, POST 100, PUT 50, DELETE 50 requests per second, a token bucket) and a per-issue
/// write limit (20 writes in any 2 s and 100 in any 30 s on one issue). A request over a limit
/// is answered 429 with `Retry-After` and `RateLimit-Reason`, and is not counted.
///
/// Jira does not publish its bucket size; the emulator holds one second's worth.
struct JiraRateLimiter: Sendable {
  static let requestsPerSecond: [String: Double] = ["GET": 100, "POST": 100, "PUT": 50, "DELETE": 50, "PATCH": 50]
  static let issueWindows: [(writes: Int, seconds: Double)] = [(20, 2), (100, 30)]

  /// What a refused request is told.
  struct Refusal: Sendable, Hashable {
    /// `jira-burst-based` or `jira-per-issue-on-write`.
    var reason: String
    /// Whole seconds to wait, at least 1.
    var retryAfter: Int
  }

  var enabled = true
  private var buckets: [String: (tokens: Double, updatedAt: Double)] = [:]
  private var issueWrites: [String: [Double]] = [:]

  /// Admits a request for `operation` (the path segments after `rest/api/{version}/`) at `now`
  /// (seconds, monotonic), or says why not.
  mutating func admit(method: String, operation: [String], at now: Double) -> Refusal? {
    guard enabled else { return nil }
    let endpoint = "\(method) " + Self.template(operation)
    let rate = Self.requestsPerSecond[method] ?? 50
    var bucket = buckets[endpoint] ?? (tokens: rate, updatedAt: now)
    bucket.tokens = min(rate, bucket.tokens + max(0, now - bucket.updatedAt) * rate)
    bucket.updatedAt = now
    guard bucket.tokens >= 1 else {
      buckets[endpoint] = bucket
      return Refusal(reason: "jira-burst-based", retryAfter: 1)
    }
    var issue: String?
    if method != "GET", method != "HEAD", operation.count >= 2, operation[0] == "issue" {
      issue = operation[1].uppercased()
    }
    if let issue {
      let times = issueWrites[issue, default: []]
      for window in Self.issueWindows {
        let recent = times.filter { $0 > now - window.seconds }
        if recent.count >= window.writes, let oldest = recent.min() {
          buckets[endpoint] = bucket
          let wait = Int((oldest + window.seconds - now).rounded(.up))
          return Refusal(reason: "jira-per-issue-on-write", retryAfter: max(1, wait))
        }
      }
      let longest = Self.issueWindows.map(\.seconds).max() ?? 0
      issueWrites[issue] = times.filter { $0 > now - longest } + [now]
    }
    bucket.tokens -= 1
    buckets[endpoint] = bucket
    return nil
  }

  /// Forgets every bucket and window.
  mutating func reset() {
    buckets = [:]
    issueWrites = [:]
  }

  /// The endpoint a path belongs to: object keys and ids become `{}`.
  static func template(_ operation: [String]) -> String {
    let collections: Set<String> = ["issue", "properties", "remotelink", "comment"]
    return operation.enumerated().map { index, segment in
      index > 0 && collections.contains(operation[index - 1]) ? "{}" : segment
    }.joined(separator: "/")
  }
}
