/// Totals over a stream of testcases without keeping them.
///
/// Each logical test is remembered as a 64-bit hash of its key and one byte of
/// state, so a report with millions of testcases is counted in tens of
/// megabytes. Hash collisions are possible in principle (one in 10^12 for a
/// million tests) and would merge two tests; the in-memory path
/// (``LogicalTest/group(_:)``) is exact and used for every output that lists tests.
public struct StreamingTotals: Sendable {
  private struct State {
    static let failedBefore: UInt8 = 1 << 4
    static let hadReruns: UInt8 = 1 << 5
    static let statusMask: UInt8 = 0x0F
  }

  private var states: [Int: UInt8] = [:]
  private var testcases = 0
  private var duration = 0.0
  /// Failing tests kept for display, by key hash; at most ``failureLimit``.
  private var failures: [Int: TestCaseResult] = [:]
  private var failureOrder: [Int] = []
  public let failureLimit: Int

  public init(failureLimit: Int = 20) {
    self.failureLimit = failureLimit
  }

  public mutating func add(_ testcase: TestCaseResult) {
    if !testcase.isSuiteLevel { testcases += 1 }
    duration += testcase.duration ?? 0
    let key = testcase.logicalKey.hashValue
    let status = testcase.status
    var state = UInt8(Self.code(status))
    if testcase.results.contains(where: { $0.kind.isRerun }) { state |= State.hadReruns }
    if let previous = states[key] {
      let previousStatus = previous & State.statusMask
      let previousFailed = previousStatus == Self.code(.failed) || previousStatus == Self.code(.error)
      if previousFailed || previous & State.failedBefore != 0 { state |= State.failedBefore }
    }
    states[key] = state
    if status == .failed || status == .error {
      if failures[key] != nil || failures.count < failureLimit {
        if failures[key] == nil { failureOrder.append(key) }
        failures[key] = testcase
      }
    } else if failures[key] != nil {
      failures[key] = nil
      failureOrder.removeAll { $0 == key }
    }
  }

  public var totals: RunTotals {
    var totals = RunTotals()
    totals.testcases = testcases
    totals.duration = duration
    for state in states.values { totals.add(outcome: Self.outcome(state)) }
    return totals
  }

  /// Final failing attempts of up to ``failureLimit`` failing tests, in the order they failed.
  public var failingTests: [TestCaseResult] { failureOrder.compactMap { failures[$0] } }

  private static func code(_ status: TestStatus) -> UInt8 {
    switch status {
    case .passed: return 0
    case .failed: return 1
    case .error: return 2
    case .skipped: return 3
    }
  }

  private static func outcome(_ state: UInt8) -> TestOutcome {
    switch state & State.statusMask {
    case 1: return .failed
    case 2: return .error
    case 3: return .skipped
    default: return state & (State.failedBefore | State.hadReruns) != 0 ? .flaky : .passed
    }
  }
}
