/// Totals over a stream of testcases without keeping them.
///
/// Each logical test is remembered as one 64-bit word in an open-addressing
/// table: 60 bits of a hash of its key and 4 bits of state. A report with
/// millions of testcases is counted in tens of megabytes. Two different tests
/// whose 60-bit hashes collide would be merged (about one chance in 10^5 for
/// five million tests); the in-memory path (``LogicalTest/group(_:)``) is
/// exact and is used by every output that lists tests.
public struct StreamingTotals: Sendable {
  private static let stateBits: UInt64 = 4
  private static let stateMask: UInt64 = 0xF
  /// State bits: the attempt's status (2 bits), an earlier attempt failed, reruns seen.
  private static let failedBefore: UInt64 = 1 << 2
  private static let hadReruns: UInt64 = 1 << 3

  private var slots: [UInt64] = Array(repeating: 0, count: 1 << 12)
  private var used = 0
  private var testcases = 0
  private var duration = 0.0
  /// Failing tests kept for display, by key hash; at most ``failureLimit``.
  private var failures: [UInt64: TestCaseResult] = [:]
  private var failureOrder: [UInt64] = []
  public let failureLimit: Int

  public init(failureLimit: Int = 20) {
    self.failureLimit = failureLimit
  }

  /// Counts one testcase and returns its test's outcome so far (flaky once an
  /// earlier attempt failed and this one passed).
  @discardableResult
  public mutating func add(_ testcase: TestCaseResult) -> TestOutcome {
    if !testcase.isSuiteLevel { testcases += 1 }
    duration += testcase.duration ?? 0
    let status = testcase.status
    let hash = Self.hash(testcase)
    var state = Self.code(status)
    if testcase.results.contains(where: { $0.kind.isRerun }) { state |= Self.hadReruns }
    let slot = findSlot(hash)
    if slots[slot] != 0 {
      let previous = slots[slot] & Self.stateMask
      let previousStatus = previous & 0x3
      if previousStatus == 1 || previousStatus == 2 || previous & Self.failedBefore != 0 { state |= Self.failedBefore }
    } else {
      used += 1
    }
    slots[slot] = (hash << Self.stateBits) | state
    if used * 4 > slots.count * 3 { grow() }
    if status == .failed || status == .error {
      if failures[hash] != nil || failures.count < failureLimit {
        if failures[hash] == nil { failureOrder.append(hash) }
        failures[hash] = testcase
      }
    } else if failures[hash] != nil {
      failures[hash] = nil
      failureOrder.removeAll { $0 == hash }
    }
    return Self.outcome(state)
  }

  public var totals: RunTotals {
    var totals = RunTotals()
    totals.testcases = testcases
    totals.duration = duration
    for word in slots where word != 0 { totals.add(outcome: Self.outcome(word & Self.stateMask)) }
    return totals
  }

  /// Final failing attempts of up to ``failureLimit`` failing tests, in the order they failed.
  public var failingTests: [TestCaseResult] { failureOrder.compactMap { failures[$0] } }

  // MARK: - Table

  /// A non-zero 60-bit hash of the logical test key.
  private static func hash(_ testcase: TestCaseResult) -> UInt64 {
    var hasher = Hasher()
    hasher.combine(testcase.suitePath.count)
    for suite in testcase.suitePath { hasher.combine(suite) }
    hasher.combine(testcase.classname ?? "")
    hasher.combine(testcase.name)
    let value = UInt64(bitPattern: Int64(hasher.finalize())) >> stateBits
    return value == 0 ? 1 : value
  }

  /// The slot holding `hash`, or the empty slot where it belongs (linear probing).
  private func findSlot(_ hash: UInt64) -> Int {
    let mask = slots.count - 1
    var index = Int(truncatingIfNeeded: hash) & mask
    while true {
      let word = slots[index]
      if word == 0 || word >> Self.stateBits == hash { return index }
      index = (index + 1) & mask
    }
  }

  private mutating func grow() {
    let old = slots
    slots = Array(repeating: 0, count: old.count * 2)
    for word in old where word != 0 { slots[findSlot(word >> Self.stateBits)] = word }
  }

  private static func code(_ status: TestStatus) -> UInt64 {
    switch status {
    case .passed: return 0
    case .failed: return 1
    case .error: return 2
    case .skipped: return 3
    }
  }

  private static func outcome(_ state: UInt64) -> TestOutcome {
    switch state & 0x3 {
    case 1: return .failed
    case 2: return .error
    case 3: return .skipped
    default: return state & (failedBefore | hadReruns) != 0 ? .flaky : .passed
    }
  }
}
