/// Totals over a stream of testcases without keeping them.
///
/// Each logical test is remembered as a 6-byte entry in a ``CompactKeyTable``
/// (56 bits of a ``LogicalKeyHash`` of its key and 4 bits of state), and about
/// a byte more while recent keys wait in its logs, so a report with millions
/// of testcases is counted in tens of megabytes. Two different tests
/// whose hashes collide would be merged (about one chance in 10^4 for five
/// million tests); the in-memory path (``LogicalTest/group(_:)``) is exact and
/// is used by every output that lists tests.
public struct StreamingTotals: Sendable {
  /// State bits: the attempt's status (2 bits), an earlier attempt failed, reruns seen.
  private static let failedBefore: UInt8 = 1 << 2
  private static let hadReruns: UInt8 = 1 << 3

  private var table = CompactKeyTable(merge: StreamingTotals.merge)
  private var testcases = 0
  private var duration = 0.0
  /// Failing tests kept for display with their key hashes, in the order they
  /// failed; at most ``failureLimit``, so a scan beats hashing every testcase.
  private var failures: [(hash: UInt64, testcase: TestCaseResult)] = [] {
    didSet {
      failureHashes = failures.map(\.hash)
      failureFilter = Array(repeating: 0, count: Self.filterWords)
      for hash in failureHashes { failureFilter[Self.filterWord(hash)] |= Self.filterBit(hash) }
    }
  }
  /// The kept failures' hashes alone: scanned for every testcase, and plain
  /// integers need no reference counting as results would.
  private var failureHashes: [UInt64] = []
  /// One bit of 4,096 per kept failing test's hash, so nearly every testcase
  /// (not among them) is told apart without scanning the list. With 64 bits a
  /// quarter of all testcases matched some bit of the 20 kept, at random: a
  /// branch the processor could not predict.
  private var failureFilter = [UInt64](repeating: 0, count: filterWords)
  private static let filterWords = 64

  private static func filterWord(_ hash: UInt64) -> Int { Int(truncatingIfNeeded: hash >> 6) & (filterWords - 1) }
  private static func filterBit(_ hash: UInt64) -> UInt64 { 1 << (hash & 63) }

  private func keptIndex(of hash: UInt64) -> Int? {
    guard failureFilter[Self.filterWord(hash)] & Self.filterBit(hash) != 0 else { return nil }
    return failureHashes.firstIndex(of: hash)
  }
  public let failureLimit: Int

  public init(failureLimit: Int = 20) {
    self.failureLimit = failureLimit
  }

  /// Counts one testcase and returns its test's outcome so far (flaky once an
  /// earlier attempt failed and this one passed).
  @discardableResult
  public mutating func add(_ testcase: TestCaseResult) -> TestOutcome {
    let tally = TestCaseTally(
      keyHash: LogicalKeyHash.of(testcase), status: testcase.status,
      hadReruns: testcase.results.contains { $0.kind.isRerun }, duration: testcase.duration,
      isSuiteLevel: testcase.isSuiteLevel)
    return add(tally) { testcase }
  }

  /// Counts one testcase known by its ``TestCaseTally``; `result` is called only
  /// when the testcase is kept for display (a failing test while there is room).
  @discardableResult
  public mutating func add(_ tally: TestCaseTally, result: () -> TestCaseResult) -> TestOutcome {
    prepare(tally, result: result)
    return Self.outcome(table.merge(tally.keyHash, Self.state(tally)))
  }

  /// Counts one testcase like ``add(_:result:)`` without telling its outcome so
  /// far, which lets the table apply testcases a batch at a time (faster on
  /// reports too large for the processor's caches).
  public mutating func count(_ tally: TestCaseTally, result: () -> TestCaseResult) {
    prepare(tally, result: result)
    table.mergeLater(tally.keyHash, Self.state(tally))
  }

  /// Everything but the table: the counts of testcases and time, and the failing tests kept.
  private mutating func prepare(_ tally: TestCaseTally, result: () -> TestCaseResult) {
    if !isKnownUniquelyReferenced(&table) { table = table.copy() }
    if !tally.isSuiteLevel { testcases += 1 }
    duration += tally.duration ?? 0
    let hash = tally.keyHash
    let kept = keptIndex(of: hash)
    if tally.status == .failed || tally.status == .error {
      if let kept {
        failures[kept].testcase = result()
      } else if failureHashes.count < failureLimit {
        failures.append((hash, result()))
      }
    } else if let kept {
      failures.remove(at: kept)
    }
  }

  /// Adds the totals of testcases that came after this one's in the same
  /// stream (the second half of a report counted on another thread), as if
  /// they had been counted here. `later` is left empty.
  ///
  /// The failing tests kept are this one's that still fail at the end (with
  /// `later`'s attempt when it has one), then `later`'s, up to the limit.
  /// `releasingMemory` returns freed memory to the system as `later` empties
  /// (see ``CompactKeyTable/absorb(_:releasingMemory:)``).
  public mutating func absorb(_ later: inout StreamingTotals, releasingMemory: @escaping @Sendable () -> Void = {}) {
    if !isKnownUniquelyReferenced(&table) { table = table.copy() }
    if !isKnownUniquelyReferenced(&later.table) { later.table = later.table.copy() }
    table.absorb(later.table, releasingMemory: releasingMemory)
    testcases += later.testcases
    duration += later.duration
    var kept: [(hash: UInt64, testcase: TestCaseResult)] = []
    for failure in failures {
      guard let state = table.state(of: failure.hash), Self.outcome(state).isFailing else { continue }
      let latest = later.failures.first { $0.hash == failure.hash }?.testcase ?? failure.testcase
      kept.append((failure.hash, latest))
    }
    for failure in later.failures where kept.count < failureLimit && !kept.contains(where: { $0.hash == failure.hash }) {
      kept.append(failure)
    }
    failures = kept
    later = StreamingTotals(failureLimit: later.failureLimit)
  }

  /// Whether ``count(_:result:)`` may ask for the full result of a testcase
  /// with this key hash if it fails: while there is room for failing tests, or
  /// when the test is among them.
  public func wantsDetails(of keyHash: UInt64) -> Bool {
    failureHashes.count < failureLimit || keptIndex(of: keyHash) != nil
  }

  private static func state(_ tally: TestCaseTally) -> UInt8 {
    code(tally.status) | (tally.hadReruns ? hadReruns : 0)
  }

  /// An attempt's state after the attempts before it: an earlier failure is remembered.
  @Sendable private static func merge(_ previous: UInt8?, _ state: UInt8) -> UInt8 {
    guard let previous else { return state }
    let previousStatus = previous & 0x3
    let failed = previousStatus == 1 || previousStatus == 2 || previous & failedBefore != 0
    return failed ? state | failedBefore : state
  }

  public var totals: RunTotals {
    var totals = RunTotals()
    totals.testcases = testcases
    totals.duration = duration
    for (state, count) in table.stateCounts().enumerated() where count > 0 {
      totals.add(outcome: Self.outcome(UInt8(state)), count: count)
    }
    return totals
  }

  /// Final failing attempts of up to ``failureLimit`` failing tests, in the order they failed.
  public var failingTests: [TestCaseResult] { failures.map(\.testcase) }

  private static func code(_ status: TestStatus) -> UInt8 {
    switch status {
    case .passed: return 0
    case .failed: return 1
    case .error: return 2
    case .skipped: return 3
    }
  }

  private static func outcome(_ state: UInt8) -> TestOutcome {
    switch state & 0x3 {
    case 1: return .failed
    case 2: return .error
    case 3: return .skipped
    default: return state & (failedBefore | hadReruns) != 0 ? .flaky : .passed
    }
  }
}

/// What counting needs of one testcase: its key's hash, status and time.
public struct TestCaseTally: Sendable {
  public var keyHash: UInt64
  public var status: TestStatus
  /// Surefire rerun elements seen (a pass with them is flaky).
  public var hadReruns: Bool
  public var duration: Double?
  public var isSuiteLevel: Bool

  public init(keyHash: UInt64, status: TestStatus, hadReruns: Bool, duration: Double?, isSuiteLevel: Bool) {
    self.keyHash = keyHash
    self.status = status
    self.hadReruns = hadReruns
    self.duration = duration
    self.isSuiteLevel = isSuiteLevel
  }
}
