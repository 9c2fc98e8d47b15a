/// Counts over a set of reports. `passed + failed + errors + skipped + flaky == tests`.
public struct RunTotals: Sendable, Hashable, Codable {
  /// Raw `<testcase>` elements read (every attempt; synthesised suite results excluded).
  public var testcases: Int = 0
  /// Logical tests after merging retries.
  public var tests: Int = 0
  public var passed: Int = 0
  public var failed: Int = 0
  public var errors: Int = 0
  public var skipped: Int = 0
  public var flaky: Int = 0
  /// Sum of every testcase's duration, in seconds.
  public var duration: Double = 0

  public init() {}

  public init(tests logicalTests: [LogicalTest]) {
    for test in logicalTests {
      add(outcome: test.outcome)
      for attempt in test.attempts {
        if !attempt.isSuiteLevel { testcases += 1 }
        duration += attempt.duration ?? 0
      }
    }
  }

  public mutating func add(outcome: TestOutcome, count: Int = 1) {
    tests += count
    switch outcome {
    case .passed: passed += count
    case .failed: failed += count
    case .error: errors += count
    case .skipped: skipped += count
    case .flaky: flaky += count
    }
  }

  /// True when any test failed or errored (flaky tests do not count).
  public var hasFailures: Bool { failed > 0 || errors > 0 }

  public static func + (lhs: RunTotals, rhs: RunTotals) -> RunTotals {
    var sum = lhs
    sum.testcases += rhs.testcases
    sum.tests += rhs.tests
    sum.passed += rhs.passed
    sum.failed += rhs.failed
    sum.errors += rhs.errors
    sum.skipped += rhs.skipped
    sum.flaky += rhs.flaky
    sum.duration += rhs.duration
    return sum
  }
}
