import BridgeCore
import BridgeHTTP
import BridgeTestSupport
import Foundation
import Jira
@testable import Sandbox
import Testing

/// testbridge's pacing (``JiraRateBudget``) against Jira Cloud's limits as the emulator enforces
/// them (``JiraRateLimiter``): the schedule one produces must never be refused by the other.
@Suite struct JiraRateLimitTests {
  @Test func requestsAreClassifiedByEndpointAndWrittenIssue() {
    let put = JiraRateKey(method: .PUT, path: "/rest/api/3/issue/abc-1/properties/testbridge.runs")
    #expect(put.endpoint == "issue/{}/properties/{}")
    #expect(put.writtenIssue == "ABC-1")
    let gateway = JiraRateKey(method: .POST, path: "/ex/jira/cloud-1/rest/api/3/issue/ABC-2/remotelink")
    #expect(gateway.endpoint == "issue/{}/remotelink")
    #expect(gateway.writtenIssue == "ABC-2")
    let read = JiraRateKey(method: .GET, path: "/jira/rest/api/2/issue/ABC-2/properties/x")
    #expect(read.endpoint == "issue/{}/properties/{}", "a context path before rest/api is skipped")
    #expect(read.writtenIssue == nil, "reads do not count against an issue's write limit")
    #expect(JiraRateKey(method: .GET, path: "/rest/api/3/search/jql").endpoint == "search/jql")
  }

  @Test func anEndpointIsPacedToItsRefillRateAfterASmallBurst() {
    var budget = JiraRateBudget(limits: .testbridgeDefault)
    let key = JiraRateKey(method: .PUT, path: "/rest/api/3/issue/ABC-1/properties/p")
    // 100 PUTs on different issues wanted at the same instant.
    let sendTimes = (1...100).map { number in
      budget.sendTime(JiraRateKey(method: .PUT, path: "/rest/api/3/issue/ABC-\(number)/properties/p"), wantedAt: 0)
    }
    #expect(sendTimes.prefix(5).allSatisfy { $0 == 0 }, "a bucket of 5 goes at once")
    #expect(sendTimes == sendTimes.sorted(), "reservations keep call order")
    #expect(abs(sendTimes[99] - 95.0 / 40) < 1e-9, "then one every 1/40 s")
    // Another endpoint has its own bucket; the same endpoint later waits behind the queue.
    #expect(budget.sendTime(JiraRateKey(method: .POST, path: "/rest/api/3/issue/ABC-1/remotelink"), wantedAt: 0) == 0)
    #expect(abs(budget.sendTime(key, wantedAt: 1) - 96.0 / 40) < 1e-9)
  }

  @Test func writesOnOneIssueKeepHalfOfJirasWindows() {
    var budget = JiraRateBudget(limits: .testbridgeDefault)
    let endpoints = ["properties/a", "properties/b", "remotelink", "comment"]
    // 120 writes on one issue, all wanted at once, spread over endpoints.
    let times = (0..<120).map { index in
      budget.sendTime(JiraRateKey(method: .POST, path: "/rest/api/3/issue/ABC-1/\(endpoints[index % 4])"), wantedAt: 0)
    }
    for start in times {
      #expect(times.filter { $0 >= start && $0 < start + 2 }.count <= 10)
      #expect(times.filter { $0 >= start && $0 < start + 30 }.count <= 50)
    }
    #expect(times.filter { $0 < 30 }.count == 50, "the 30 s window is used to its bound")
  }

  /// The pacer's schedule for a large run, replayed through the emulator's limiter in time
  /// order, is never refused; the same requests all at once are.
  @Test func thePacedScheduleOfAThousandIssueRunIsNeverRefused() {
    var budget = JiraRateBudget(limits: .testbridgeDefault)
    var schedule: [(time: Double, method: String, operation: [String])] = []
    for number in 1...1000 {
      let issue = "LOAD-\(number)"
      for (method, operation) in [
        ("POST", ["issue", issue, "remotelink"]), ("GET", ["issue", issue, "properties", "testbridge.runs"]),
        ("PUT", ["issue", issue, "properties", "testbridge.runs"]),
      ] {
        let path = "/rest/api/3/" + operation.joined(separator: "/")
        let key = JiraRateKey(method: HTTPMethod(rawValue: method) ?? .GET, path: path)
        schedule.append((budget.sendTime(key, wantedAt: Double(number) / 1000), method, operation))
      }
    }
    var limiter = JiraRateLimiter()
    let refused = schedule.sorted { $0.time < $1.time }.filter {
      limiter.admit(method: $0.method, operation: $0.operation, at: $0.time) != nil
    }
    #expect(refused.isEmpty)

    var unpaced = JiraRateLimiter()
    let burst = schedule.filter { unpaced.admit(method: $0.method, operation: $0.operation, at: 1) != nil }
    #expect(!burst.isEmpty, "without pacing, Jira's burst limit is reached")
  }

  @Test func aRateLimitReasonHoldsBackWhatItNames() {
    let writeOne = JiraRateKey(method: .PUT, path: "/rest/api/3/issue/ABC-1/properties/p")
    let writeTwo = JiraRateKey(method: .PUT, path: "/rest/api/3/issue/ABC-2/properties/p")
    let readOne = JiraRateKey(method: .GET, path: "/rest/api/3/issue/ABC-1/properties/p")
    let search = JiraRateKey(method: .GET, path: "/rest/api/3/search/jql")

    var perIssue = JiraRateBudget()
    perIssue.hold(writeOne, reason: "jira-per-issue-on-write", seconds: 3, at: 10)
    #expect(perIssue.reserve(writeOne, at: 10) == .init(seconds: 3, reserved: false), "writes on that issue wait")
    #expect(perIssue.sendTime(writeTwo, wantedAt: 10) == 10, "other issues go on: the held write keeps no place")
    #expect(perIssue.sendTime(readOne, wantedAt: 10) == 10, "reads go on")
    #expect(perIssue.sendTime(writeOne, wantedAt: 10) == 13)

    var quota = JiraRateBudget()
    quota.hold(search, reason: "jira-quota-tenant-based", seconds: 60, at: 0)
    #expect(quota.sendTime(writeTwo, wantedAt: 1) == 60, "a quota pauses everything")
    #expect(quota.sendTime(readOne, wantedAt: 1) == 60)

    var burst = JiraRateBudget()
    burst.hold(writeOne, reason: "jira-burst-based", seconds: 2, at: 0)
    #expect(burst.sendTime(writeTwo, wantedAt: 0) == 2, "the endpoint waits, whatever the issue")
    #expect(burst.sendTime(search, wantedAt: 0) == 0, "other endpoints go on")
  }

  /// A clock that moves only when the code under test sleeps.
  final class SleepingClock: Sleeper, Sendable {
    private let state = Locked<(now: Double, delays: [Double])>((100, []))
    var now: Double { state.withLock { $0.now } }
    var delays: [Double] { state.withLock { $0.delays } }

    func sleep(for seconds: Double) async throws {
      state.withLock {
        $0.now += seconds
        $0.delays.append(seconds)
      }
    }
  }

  /// The transport reads `Retry-After` and `RateLimit-Reason` of the answers it passes on.
  @Test func thePacingTransportHoldsAnIssueAfterAPerIssue429() async throws {
    let stub = StubTransport([
      .status(429, headers: ["Retry-After": "4", "RateLimit-Reason": "jira-per-issue-on-write"]),
      .status(200), .status(200),
    ])
    let clock = SleepingClock()
    let pacer = JiraPacingTransport(base: stub, sleeper: clock, clock: { clock.now })
    func put(_ issue: String) throws -> HTTPRequest {
      HTTPRequest(method: .PUT, url: try #require(URL(string: "https://jira.example/rest/api/3/issue/\(issue)/properties/p")))
    }
    #expect(try await pacer.send(try put("ABC-1")).status == 429)
    #expect(try await pacer.send(try put("ABC-2")).status == 200)
    #expect(clock.delays.isEmpty, "another issue goes at once")
    #expect(try await pacer.send(try put("ABC-1")).status == 200)
    #expect(clock.delays == [4], "the next write on ABC-1 waited out the Retry-After")
    #expect(clock.now == 104)
  }

  @Test func theEmulatorRefusesOverTheBurstLimit() {
    var limiter = JiraRateLimiter()
    for number in 1...50 {
      #expect(limiter.admit(method: "PUT", operation: ["issue", "A-\(number)", "properties", "p"], at: 10) == nil)
    }
    let refusal = limiter.admit(method: "PUT", operation: ["issue", "A-51", "properties", "p"], at: 10)
    #expect(refusal == JiraRateLimiter.Refusal(reason: "jira-burst-based", retryAfter: 1))
    #expect(limiter.admit(method: "GET", operation: ["issue", "A-51", "properties", "p"], at: 10) == nil, "per method")
    #expect(limiter.admit(method: "PUT", operation: ["issue", "A-51", "properties", "p"], at: 10.1) == nil, "refilled")
  }

  @Test func theEmulatorRefusesTheTwentyFirstWriteOnOneIssueInTwoSeconds() {
    var limiter = JiraRateLimiter()
    for index in 0..<20 {
      #expect(limiter.admit(method: "POST", operation: ["issue", "A-1", "remotelink"], at: Double(index) * 0.05) == nil)
    }
    let refusal = limiter.admit(method: "PUT", operation: ["issue", "A-1", "properties", "p"], at: 1)
    #expect(refusal?.reason == "jira-per-issue-on-write")
    #expect(refusal?.retryAfter == 1)
    #expect(limiter.admit(method: "GET", operation: ["issue", "A-1", "properties", "p"], at: 1) == nil, "reads go on")
    #expect(limiter.admit(method: "PUT", operation: ["issue", "A-2", "properties", "p"], at: 1) == nil, "other issues")
    #expect(limiter.admit(method: "PUT", operation: ["issue", "A-1", "properties", "p"], at: 2.01) == nil)
  }

  /// Over real HTTP: the 21st write on one issue within two seconds is answered as Jira does,
  /// and recorded; a paced client never sees it.
  @Test func theEmulatorAnswersOverTheLimitWithRetryAfterAndReason() async throws {
    try await withJiraSandbox { sandbox, base, transport in
      await sandbox.emulator.seedIssue(key: "ABC-1")
      let client = JiraClient(config: cloudConfig(base), transport: transport, level: .properties)
      for index in 0..<20 {
        _ = try await client.setProperty(issue: "ABC-1", key: RunHistoryProperty.key, json: Data("{\"n\":\(index)}".utf8))
      }
      let url = try #require(URL(string: base.absoluteString + "/rest/api/3/issue/ABC-1/properties/testbridge.runs"))
      let response = try await transport.send(
        HTTPRequest(
          method: .PUT, url: url,
          headers: [
            "Content-Type": "application/json",
            "Authorization": JiraAuth.basic(email: SandboxCredentials.email, apiToken: SandboxCredentials.apiToken)
              .authorizationHeader,
          ], body: Array(#"{"n":20}"#.utf8)))
      #expect(response.status == 429)
      #expect(response.header("RateLimit-Reason") == "jira-per-issue-on-write")
      #expect(Int(response.header("Retry-After") ?? "") ?? 0 >= 1)
      let state = await sandbox.emulator.state()
      #expect(state.rateLimited.map(\.reason) == ["jira-per-issue-on-write"])
      #expect(state.issue("ABC-1")?.properties[RunHistoryProperty.key] == .object(["n": .integer(19)]), "a refused write changes nothing")
      #expect(state.issue("ABC-1")?.propertyWrites == 20)

      // The same 21 writes on another issue through the pacing transport: none refused.
      await sandbox.emulator.seedIssue(key: "ABC-2")
      let paced = JiraClient(config: cloudConfig(base), transport: JiraPacingTransport(base: transport), level: .properties)
      for index in 0...20 {
        _ = try await paced.setProperty(issue: "ABC-2", key: RunHistoryProperty.key, json: Data("{\"n\":\(index)}".utf8))
      }
      let after = await sandbox.emulator.state()
      #expect(after.rateLimited.count == 1, "only the unpaced write was refused")
      #expect(after.issue("ABC-2")?.propertyWrites == 21)
      #expect(after.issue("ABC-2")?.properties[RunHistoryProperty.key] == .object(["n": .integer(20)]))
      #expect(after.refused.isEmpty)
    }
  }
}
