/// A test as a person thinks of it: every attempt of one suite/classname/name.
public struct LogicalTest: Sendable, Hashable, Codable {
  public var key: LogicalTestKey
  /// Attempts in the order they were read; the last one is the final attempt.
  public var attempts: [TestCaseResult]

  public init(key: LogicalTestKey, attempts: [TestCaseResult]) {
    self.key = key
    self.attempts = attempts
  }

  /// The final attempt (the one whose status stands unless the test is flaky).
  public var final: TestCaseResult { attempts[attempts.count - 1] }

  public var outcome: TestOutcome { StatusRules.outcome(of: attempts) }

  /// Total time over every attempt, in seconds.
  public var duration: Double { attempts.reduce(0) { $0 + ($1.duration ?? 0) } }

  /// Testomat.io id of the test: the first one any attempt carries.
  public var testomatioID: String? { attempts.lazy.compactMap(\.testomatioID).first }

  /// Jira keys of every attempt, deduplicated in order.
  public var jiraKeys: [String] {
    var seen = Set<String>()
    return attempts.flatMap(\.jiraKeys).filter { seen.insert($0).inserted }
  }

  /// The element explaining a failure or skip: from the final attempt, else from the
  /// latest earlier attempt (so a flaky test still shows why it failed once).
  public var explainingResult: ResultElement? {
    if let deciding = final.decidingResult { return deciding }
    for attempt in attempts.reversed() {
      if let rerun = attempt.results.last(where: { $0.kind.isRerun }) { return rerun }
      if let deciding = attempt.decidingResult { return deciding }
    }
    return nil
  }
}

extension LogicalTest {
  /// Groups testcases into logical tests, keeping first-appearance order.
  public static func group(_ testcases: some Sequence<TestCaseResult>) -> [LogicalTest] {
    var index: [LogicalTestKey: Int] = [:]
    var tests: [LogicalTest] = []
    for testcase in testcases {
      let key = testcase.logicalKey
      if let position = index[key] {
        tests[position].attempts.append(testcase)
      } else {
        index[key] = tests.count
        tests.append(LogicalTest(key: key, attempts: [testcase]))
      }
    }
    return tests
  }
}
