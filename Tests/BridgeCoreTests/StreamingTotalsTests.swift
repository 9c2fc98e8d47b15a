import BridgeCore
import Testing

@Suite struct StreamingTotalsTests {
  @Test func theKeyHashOfBytesEqualsTheHashOfTheStrings() {
    let testcase = TestCaseResult(suitePath: ["outer", "inner é"], classname: "pkg.Class", name: "test_x[1-2]")
    var bytes = LogicalKeyHash()
    for suite in testcase.suitePath { Array(suite.utf8).withUnsafeBufferPointer { bytes.combine($0) } }
    Array("pkg.Class".utf8).withUnsafeBufferPointer { bytes.combine($0) }
    Array("test_x[1-2]".utf8).withUnsafeBufferPointer { bytes.combine($0) }
    #expect(bytes.value == LogicalKeyHash.of(testcase))
    #expect(LogicalKeyHash.of(testcase) == LogicalKeyHash.of(testcase), "not seeded per call")
  }

  @Test func componentsAreFramedSoMovedBoundariesHashApart() {
    let keys: [TestCaseResult] = [
      TestCaseResult(suitePath: ["ab"], classname: "c", name: "d"),
      TestCaseResult(suitePath: ["a"], classname: "bc", name: "d"),
      TestCaseResult(suitePath: ["a", "b"], classname: "c", name: "d"),
      TestCaseResult(suitePath: [], classname: "a", name: "bcd"),
      TestCaseResult(suitePath: [""], classname: "", name: "abcd"),
      TestCaseResult(suitePath: [], classname: nil, name: "abcd"),
      TestCaseResult(suitePath: ["abcdefgh"], classname: "ijklmnop", name: "q"),
      TestCaseResult(suitePath: ["abcdefgh", "ijklmnop"], classname: "", name: "q"),
    ]
    #expect(Set(keys.map(LogicalKeyHash.of)).count == keys.count)
    // A missing classname and an empty one are the same key, as in LogicalTestKey.
    #expect(
      LogicalKeyHash.of(TestCaseResult(classname: nil, name: "x"))
        == LogicalKeyHash.of(TestCaseResult(classname: "", name: "x")))
  }

  /// A deterministic stream with many retries, checked against the exact in-memory grouping.
  @Test(arguments: [10, 5_000, 200_000])
  func countsMatchTheExactGrouping(_ size: Int) {
    var generator = SplitMix(seed: UInt64(size))
    var testcases: [TestCaseResult] = []
    for _ in 0..<size {
      let test = Int(generator.next() % UInt64(max(1, size / 2)))
      let statuses: [ResultElement.Kind?] = [nil, nil, nil, .failure, .error, .skipped, .flakyFailure]
      let kind = statuses[Int(generator.next() % UInt64(statuses.count))]
      testcases.append(
        TestCaseResult(
          suitePath: ["suite \(test % 7)"], classname: "Class\(test % 13)", name: "test \(test)",
          duration: Double(generator.next() % 1000) / 100, results: kind.map { [ResultElement(kind: $0)] } ?? []))
    }
    var returning = StreamingTotals()
    var batched = StreamingTotals()
    var outcomes: [TestOutcome] = []
    for testcase in testcases {
      outcomes.append(returning.add(testcase))
      let tally = TestCaseTally(
        keyHash: LogicalKeyHash.of(testcase), status: testcase.status,
        hadReruns: testcase.results.contains { $0.kind.isRerun }, duration: testcase.duration, isSuiteLevel: false)
      batched.count(tally) { testcase }
    }
    let tests = LogicalTest.group(testcases)
    var exact = RunTotals(tests: tests)
    let exactDuration = exact.duration
    exact.duration = 0
    for totals in [returning.totals, batched.totals] {
      var counted = totals
      #expect(abs(counted.duration - exactDuration) < 1e-6 * max(1, exactDuration))
      counted.duration = 0
      #expect(counted == exact)
    }
    // The outcome returned for each testcase is its test's outcome so far.
    var seen: [LogicalTestKey: [TestCaseResult]] = [:]
    for (testcase, outcome) in zip(testcases, outcomes) {
      seen[testcase.logicalKey, default: []].append(testcase)
      #expect(outcome == StatusRules.outcome(of: seen[testcase.logicalKey]!))
    }
    #expect(returning.failingTests == batched.failingTests)
    #expect(returning.failingTests.count == min(20, exact.failed + exact.errors))
  }

  /// A stream counted in two parts (as the two halves of a split report are)
  /// and joined gives the totals of counting it whole, wherever it is cut.
  @Test(arguments: [0, 1, 999, 2_500, 4_999, 5_000])
  func twoPartsAbsorbedCountAsOne(_ cut: Int) {
    var generator = SplitMix(seed: 42)
    var testcases: [TestCaseResult] = []
    for index in 0..<5_000 {
      // Mostly adjacent retries, so many tests have attempts on both sides of a cut.
      let test = index / 3 + Int(generator.next() % 2)
      let statuses: [ResultElement.Kind?] = [nil, nil, .failure, .error, .skipped, .rerunFailure]
      let kind = statuses[Int(generator.next() % UInt64(statuses.count))]
      testcases.append(
        TestCaseResult(
          suitePath: ["s"], name: "test \(test)", duration: 0.25, results: kind.map { [ResultElement(kind: $0)] } ?? []))
    }
    var whole = StreamingTotals(failureLimit: 10_000)
    var first = StreamingTotals(failureLimit: 10_000)
    var second = StreamingTotals(failureLimit: 10_000)
    for (index, testcase) in testcases.enumerated() {
      whole.add(testcase)
      if index < cut { first.add(testcase) } else { second.add(testcase) }
    }
    let kept = first
    first.absorb(&second)
    #expect(first.totals == whole.totals)
    #expect(Set(first.failingTests) == Set(whole.failingTests), "with room for all, the same failing tests")
    #expect(second.totals.tests == 0, "the absorbed part is left empty")
    #expect(kept.totals.testcases == cut, "a copy taken before is not changed")
  }

  @Test func absorbingKeepsTheFailureLimitAndTheLatestAttempts() {
    var first = StreamingTotals(failureLimit: 2)
    var second = StreamingTotals(failureLimit: 2)
    first.add(TestCaseResult(name: "fixed later", results: [ResultElement(kind: .failure)]))
    first.add(TestCaseResult(name: "fails twice", results: [ResultElement(kind: .failure, message: "first")]))
    second.add(TestCaseResult(name: "fixed later"))
    second.add(TestCaseResult(name: "fails twice", results: [ResultElement(kind: .error, message: "second")]))
    second.add(TestCaseResult(name: "new", results: [ResultElement(kind: .failure)]))
    second.add(TestCaseResult(name: "newer", results: [ResultElement(kind: .failure)]))
    first.absorb(&second)
    #expect(first.totals.flaky == 1)
    #expect(first.totals.errors == 1)
    #expect(first.totals.failed == 2)
    #expect(first.failingTests.map(\.name) == ["fails twice", "new"])
    #expect(first.failingTests.first?.results.first?.message == "second", "the last attempt is shown")
  }

  @Test func aCopyCountsOnItsOwn() {
    var original = StreamingTotals()
    original.add(TestCaseResult(name: "a"))
    var copy = original
    copy.add(TestCaseResult(name: "a", results: [ResultElement(kind: .failure)]))
    copy.add(TestCaseResult(name: "b"))
    original.count(
      TestCaseTally(
        keyHash: LogicalKeyHash.of(TestCaseResult(name: "c")), status: .skipped, hadReruns: false, duration: nil,
        isSuiteLevel: false)
    ) { TestCaseResult(name: "c") }
    #expect(original.totals.tests == 2)
    #expect(original.totals.passed == 1)
    #expect(original.totals.skipped == 1)
    #expect(copy.totals.tests == 2)
    #expect(copy.totals.failed == 1)
    #expect(copy.totals.passed == 1)
  }
}

/// A small seeded generator so every run checks the same stream.
struct SplitMix {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var value = state
    value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
    value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
    return value ^ (value >> 31)
  }
}
