import BridgeCore
import BridgeHTTP
import Foundation

/// Jira Cloud's request limits for basic-auth (API token) traffic, as testbridge paces itself
/// against them: a token bucket per HTTP method and endpoint, and a write window per issue.
///
/// Atlassian's figures (developer.atlassian.com, "Rate limiting"): burst limits per endpoint
/// and method of GET 100, POST 100, PUT 50 and DELETE 50 requests per second, and at most
/// 20 writes per 2 s and 100 per 30 s on one issue. Atlassian asks clients to design for the
/// steady refill rate rather than the bucket size, so the defaults here keep to 80 % of the
/// refill rates with a small bucket, and to half the per-issue windows.
public struct JiraRateLimits: Sendable, Hashable {
  /// Requests per second allowed per method and endpoint, by method.
  public var requestsPerSecond: [HTTPMethod: Double]
  /// Requests a bucket can hold: how many may go at once after a pause.
  public var burst: Double
  /// At most `writes` writes on one issue in any `seconds`.
  public struct Window: Sendable, Hashable {
    public var writes: Int
    public var seconds: Double

    public init(_ writes: Int, per seconds: Double) {
      self.writes = writes
      self.seconds = seconds
    }
  }

  /// Per-issue write windows; each must hold.
  public var issueWriteWindows: [Window]

  public init(requestsPerSecond: [HTTPMethod: Double], burst: Double, issueWriteWindows: [Window]) {
    self.requestsPerSecond = requestsPerSecond
    self.burst = burst
    self.issueWriteWindows = issueWriteWindows
  }

  /// Jira Cloud's documented limits themselves (what the sandbox enforces).
  public static let jiraCloud = JiraRateLimits(
    requestsPerSecond: [.GET: 100, .POST: 100, .PUT: 50, .DELETE: 50, .PATCH: 50], burst: 100,
    issueWriteWindows: [Window(20, per: 2), Window(100, per: 30)])

  /// What testbridge keeps to: 80 % of the refill rates, a bucket of 5, half the issue windows.
  public static let testbridgeDefault = JiraRateLimits(
    requestsPerSecond: [.GET: 80, .POST: 80, .PUT: 40, .DELETE: 40, .PATCH: 40], burst: 5,
    issueWriteWindows: [Window(10, per: 2), Window(50, per: 30)])
}

/// Which limits a request counts against: its endpoint (method and path with keys and ids
/// replaced by placeholders) and, for a write under `issue/{key}/…`, the issue.
public struct JiraRateKey: Sendable, Hashable {
  public var method: HTTPMethod
  /// For example `issue/{}/properties/{}`.
  public var endpoint: String
  /// Set for writes (anything but GET and HEAD) on one issue.
  public var writtenIssue: String?

  /// Classifies a request path such as `/rest/api/3/issue/ABC-1/properties/testbridge.runs`
  /// (gateway and context prefixes are skipped: only what follows `rest/api/{version}/` counts).
  public init(method: HTTPMethod, path: String) {
    self.method = method
    var segments = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
    if let rest = segments.firstIndex(of: "rest"), segments.count > rest + 2, segments[rest + 1] == "api" {
      segments = Array(segments[(rest + 3)...])
    }
    // A segment after one of these names an object; the endpoint is the same for every object.
    let objectCollections: Set<String> = ["issue", "properties", "remotelink", "comment", "worklog", "attachment"]
    var issue: String?
    var template: [String] = []
    for (index, segment) in segments.enumerated() {
      if index > 0, objectCollections.contains(segments[index - 1]) {
        if segments[index - 1] == "issue" { issue = segment.removingPercentEncoding?.uppercased() ?? segment }
        template.append("{}")
      } else {
        template.append(segment)
      }
    }
    endpoint = template.joined(separator: "/")
    writtenIssue = method == .GET || method == .HEAD ? nil : issue
  }
}

/// The pacing state: when each endpoint's bucket runs dry, and the recent writes on each issue.
/// Pure: the caller passes the time and sleeps for the returned delay.
public struct JiraRateBudget: Sendable {
  public let limits: JiraRateLimits
  private var nextDueByEndpoint: [String: Double] = [:]
  private var issueWrites: [String: [Double]] = [:]
  private var issueHolds: [String: Double] = [:]
  private var globalHold = -Double.infinity

  public init(limits: JiraRateLimits = .testbridgeDefault) {
    self.limits = limits
  }

  /// What ``reserve(_:at:)`` decided.
  public struct Wait: Sendable, Hashable {
    /// Seconds to wait.
    public var seconds: Double
    /// True when a slot was taken: send after the wait. False when a hold or an issue's write
    /// window keeps the request back: wait, then ask again (so a held request does not keep
    /// its endpoint's place in the queue from the others).
    public var reserved: Bool

    public init(seconds: Double, reserved: Bool) {
      self.seconds = seconds
      self.reserved = reserved
    }
  }

  /// Decides when a request of `key` wanted at `now` (seconds on any monotonic scale) may go.
  /// Endpoint slots are handed out in call order, so concurrent callers are spaced rather than
  /// all woken at once.
  public mutating func reserve(_ key: JiraRateKey, at now: Double) -> Wait {
    var free = max(now, globalHold)
    if let writtenIssue = key.writtenIssue {
      free = max(free, issueHolds[writtenIssue] ?? free, earliestIssueWrite(writtenIssue, at: free))
    }
    if free > now { return Wait(seconds: free - now, reserved: false) }
    var sendAt = now
    if let rate = limits.requestsPerSecond[key.method], rate > 0 {
      // A token bucket as a generic cell rate algorithm: `nextDue` is when the bucket would
      // be empty again; a request may go up to `burst - 1` intervals ahead of it.
      let name = "\(key.method.rawValue) \(key.endpoint)"
      let interval = 1 / rate
      let nextDue = nextDueByEndpoint[name] ?? sendAt
      sendAt = max(sendAt, nextDue - (max(limits.burst, 1) - 1) * interval)
      nextDueByEndpoint[name] = max(nextDue, sendAt) + interval
    }
    if let writtenIssue = key.writtenIssue {
      var times = issueWrites[writtenIssue, default: []]
      let longest = limits.issueWriteWindows.map(\.seconds).max() ?? 0
      times.removeAll { $0 <= sendAt - longest }
      times.append(sendAt)
      issueWrites[writtenIssue] = times
    }
    return Wait(seconds: sendAt - now, reserved: true)
  }

  /// When a request of `key` wanted at `now` would go, asking again after each hold: the
  /// schedule ``JiraPacingTransport`` follows, for planning and tests.
  public mutating func sendTime(_ key: JiraRateKey, wantedAt now: Double) -> Double {
    var time = now
    while true {
      let wait = reserve(key, at: time)
      time += wait.seconds
      if wait.reserved { return time }
    }
  }

  /// Jira answered a request of `key` 429 (or 503) asking for `seconds` of quiet: holds back
  /// what the reason names, as Atlassian advises. `jira-per-issue-on-write` holds writes on
  /// that issue; the quota reasons (`jira-quota-global-based`, `jira-quota-tenant-based`) hold
  /// every request; anything else (`jira-burst-based`, no reason) holds that endpoint.
  public mutating func hold(_ key: JiraRateKey, reason: String?, seconds: Double, at now: Double) {
    guard seconds > 0 else { return }
    let until = now + seconds
    switch reason?.lowercased() {
    case "jira-per-issue-on-write" where key.writtenIssue != nil:
      let issue = key.writtenIssue ?? ""
      issueHolds[issue] = max(issueHolds[issue] ?? until, until)
    case "jira-quota-global-based", "jira-quota-tenant-based":
      globalHold = max(globalHold, until)
    default:
      guard let rate = limits.requestsPerSecond[key.method], rate > 0 else {
        globalHold = max(globalHold, until)
        return
      }
      // The next request on the endpoint may go at `until`; the bucket then refills from empty.
      let name = "\(key.method.rawValue) \(key.endpoint)"
      let tolerance = (max(limits.burst, 1) - 1) / rate
      nextDueByEndpoint[name] = max(nextDueByEndpoint[name] ?? until, until + tolerance)
    }
  }

  /// The first moment, not before `now` nor before the issue's last reserved write, at which a
  /// new write on `issue` keeps every window's count.
  private func earliestIssueWrite(_ issue: String, at now: Double) -> Double {
    guard let times = issueWrites[issue], let last = times.max() else { return now }
    var earliest = max(now, last)
    var moved = true
    while moved {
      moved = false
      for window in limits.issueWriteWindows where window.writes > 0 {
        // With `writes` writes already in the window ending now, the next may go once the
        // oldest of the last `writes` has left it.
        let recent = times.filter { $0 > earliest - window.seconds }.sorted()
        if recent.count >= window.writes {
          let next = recent[recent.count - window.writes] + window.seconds
          if next > earliest {
            earliest = next
            moved = true
          }
        }
      }
    }
    return earliest
  }
}

/// Keeps Jira traffic inside ``JiraRateLimits`` by waiting before each request as
/// ``JiraRateBudget`` says, so a run touching a thousand issues paces itself instead of
/// collecting 429s; a 429 (or 503) that still comes holds back what its `RateLimit-Reason`
/// names for its `Retry-After`. Sits under the retries, so each attempt is paced:
/// `GuardedJiraTransport(base: RetryingTransport(base: JiraPacingTransport(base: URLSessionTransport())))`.
public final class JiraPacingTransport: HTTPTransport, Sendable {
  public let base: any HTTPTransport
  private let budget: Locked<JiraRateBudget>
  private let sleeper: any Sleeper
  private let clock: @Sendable () -> Double

  /// - Parameter clock: seconds on a monotonic scale; the default is the system's uptime clock.
  public init(
    base: any HTTPTransport, limits: JiraRateLimits = .testbridgeDefault, sleeper: any Sleeper = TaskSleeper(),
    clock: @escaping @Sendable () -> Double = { ProcessInfo.processInfo.systemUptime }
  ) {
    self.base = base
    self.budget = Locked(JiraRateBudget(limits: limits))
    self.sleeper = sleeper
    self.clock = clock
  }

  public func send(_ request: HTTPRequest) async throws(HTTPError) -> HTTPResponse {
    let key = JiraRateKey(method: request.method, path: request.url.path)
    while true {
      let now = clock()
      let wait = budget.withLock { $0.reserve(key, at: now) }
      if wait.seconds > 0 {
        do {
          try await sleeper.sleep(for: wait.seconds)
        } catch {
          throw HTTPError(.cancelled, request: request)
        }
      }
      if wait.reserved { break }
    }
    let response = try await base.send(request)
    if response.status == 429 || response.status == 503, let seconds = Self.quietSeconds(response) {
      let reason = response.header("RateLimit-Reason")
      let answeredAt = clock()
      budget.withLock { $0.hold(key, reason: reason, seconds: seconds, at: answeredAt) }
    }
    return response
  }

  /// The response's `Retry-After` in seconds, cut like the retries cut it so one absurd header
  /// cannot stall the run; nil without one.
  static func quietSeconds(_ response: HTTPResponse) -> Double? {
    let policy = RetryPolicy()
    guard let value = response.header("Retry-After"), let seconds = policy.retryAfterSeconds(value) else { return nil }
    return min(seconds, policy.maxRetryAfter)
  }
}
