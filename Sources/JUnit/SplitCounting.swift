import BridgeCore
internal import CLibXML2
import Dispatch
import Foundation

/// When a single large report is counted on two threads.
///
/// The second thread starts at a `<testcase>` tag near ``fraction`` of the
/// file, with the suites it guesses are open there; the first thread reads up
/// to that tag and stops only when libxml2's own view of the open suites there
/// matches the guess. Otherwise (a guess fooled by odd markup, a malformed
/// first half) the first thread simply reads on, as it would without a split.
public struct SplitPolicy: Sendable, Hashable {
  /// Reports smaller than this are read on one thread.
  public var minimumBytes: Int64
  /// Where the cut is aimed, as a fraction of the file. A little past half:
  /// the second thread first scans the bytes before the cut for open suites.
  public var fraction: Double

  public init(minimumBytes: Int64, fraction: Double = 0.52) {
    self.minimumBytes = max(1, minimumBytes)
    self.fraction = min(max(fraction, 0.05), 0.95)
  }

  /// 64 MiB and up: below that, the second thread's start-up costs more than it saves.
  public static let standard = SplitPolicy(minimumBytes: 64 << 20)
  public static let never = SplitPolicy(minimumBytes: .max)
}

extension JUnitParser {
  /// Counts the report at `path` into `totals`, both halves at once when it is
  /// at least `split.minimumBytes` long. The totals (and the error, if the
  /// report is malformed) are those of counting it front to back.
  @discardableResult
  public static func countFile(
    at path: String, options: JUnitOptions = JUnitOptions(), into totals: inout StreamingTotals,
    split: SplitPolicy = .standard
  ) -> FileParseResult {
    countFileSplitting(at: path, options: options, into: &totals, split: split).result
  }

  /// What became of a split (tests check that cuts hold or are refused as expected).
  enum SplitOutcome: Equatable {
    /// Too small, not a plain UTF-8 report, or no testcase near the target.
    case notTried
    /// The second half's guess of the open suites held; both halves counted.
    case held
    /// The guess did not hold, or the first half broke off first: read on one thread.
    case refuted
  }

  static func countFileSplitting(
    at path: String, options: JUnitOptions, into totals: inout StreamingTotals, split: SplitPolicy
  ) -> (result: FileParseResult, split: SplitOutcome) {
    let failureLimit = totals.failureLimit
    let (result, secondHalf) = withoutActuallyEscaping({ (tally: TestCaseTally, full: () -> TestCaseResult) in
      totals.count(tally, result: full)
    }) { handler in
      withoutActuallyEscaping({ totals.wantsDetails(of: $0) }) { wantsDetails in
        readReport(
          path, options: options, delivery: .tallies(handler, wantsDetails: wantsDetails), split: split,
          failureLimit: failureLimit)
      }
    }
    guard let secondHalf else { return (result, .notTried) }
    guard secondHalf.wasUsed else { return (result, .refuted) }
    totals.absorb(&secondHalf.totals, releasingMemory: testbridge_releaseFreeMemory)
    return (result, .held)
  }
}

extension JUnitParser {
  /// Reads a report into `delivery`. When `split` says the report is large
  /// enough, only up to the split tag: the second half is counted meanwhile on a
  /// thread of its own (returned, for its totals to be joined) with room for
  /// `failureLimit` failing tests.
  static func readReport(
    _ path: String, options: JUnitOptions, delivery: ReportBuilder.Delivery, split: SplitPolicy = .never,
    failureLimit: Int = 0
  ) -> (result: FileParseResult, secondHalf: SecondHalfCount?) {
    let descriptor: Int32
    let size: Int64?
    switch openReport(path, options: options) {
    case .failure(let refused): return (refused.result, nil)
    case .success(let opened): (descriptor, size) = (opened.descriptor, opened.regularFileSize)
    }
    defer { close(descriptor) }
    let session = SAXSession(path: path, options: options, delivery: delivery)
    var secondHalf: SecondHalfCount?
    if let size, size >= split.minimumBytes,
      let candidate = ReportSplitter.candidate(
        descriptor: descriptor, size: size, target: Int64(Double(size) * split.fraction))
    {
      let started = SecondHalfCount(path: path, options: options, candidate: candidate, failureLimit: failureLimit)
      started.start()
      secondHalf = started
      session.splitWatch = SplitWatch(candidate: candidate, confirm: started.confirm, reject: started.cancel)
    }
    let readError = feed(descriptor, from: 0, to: session)
    guard session.stoppedAtSplit, let secondHalf else {
      secondHalf?.cancel()
      return (session.finish(readError: readError), secondHalf)
    }
    return (secondHalf.finish(firstHalfTestcases: session.builder.testcaseCount), secondHalf)
  }
}

/// The first half's side of a split: where the second half starts, and how to
/// ask whether its guess of the open suites holds.
struct SplitWatch {
  var candidate: SplitCandidate
  /// Given libxml2's positions of the open suites' start tags at the split tag.
  var confirm: ([Int64]) -> Bool
  /// The split does not hold: the second half's work is thrown away.
  var reject: () -> Void
}

/// The second half of a split report, counted on a thread of its own from the
/// split tag to the end, after the replayed start tags of the suites it guesses
/// are open there.
final class SecondHalfCount: @unchecked Sendable {
  // `guess` is written before `guessed` is signalled and `totals`/`result`
  // before `done` is; the first half reads them only after waiting on those.
  let path: String
  let options: JUnitOptions
  let candidate: SplitCandidate
  private let guessed = DispatchSemaphore(value: 0)
  private let done = DispatchSemaphore(value: 0)
  private var guess: SplitContext?
  private var isGuessKnown = false
  private let cancelled = Locked(false)
  var totals: StreamingTotals
  private var result: FileParseResult?
  private var readError: String?
  private var isFinished = false
  /// Its totals belong in the report's (the split held and was not rejected).
  private(set) var wasUsed = false

  init(path: String, options: JUnitOptions, candidate: SplitCandidate, failureLimit: Int) {
    self.path = path
    self.options = options
    self.candidate = candidate
    self.totals = StreamingTotals(failureLimit: failureLimit)
  }

  func start() {
    // The thread gets a malloc arena of its own (glibc's default): both halves
    // allocate as their tables grow, and one shared arena made them wait on
    // each other's lock. Memory the second half's table frees when it is
    // merged goes back to the system (`testbridge_releaseFreeMemory`).
    let thread = Thread { [self] in
      run()
      done.signal()
    }
    thread.name = "testbridge-second-half"
    thread.start()
  }

  private var isCancelled: Bool { cancelled.withLock { $0 } }

  private func run() {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else {
      guessed.signal()
      return
    }
    defer { close(descriptor) }
    guess = ReportSplitter.context(descriptor: descriptor, at: candidate, stop: { [self] in isCancelled })
    guessed.signal()
    guard let guess, !isCancelled else { return }
    let session = SAXSession(
      path: path, options: options, delivery: .tallies({ self.totals.count($0, result: $1) }, wantsDetails: { self.totals.wantsDetails(of: $0) }))
    // The replayed start tags build the first half's suite state; nothing is
    // delivered for a suite's start, so all this half delivers is its own. Each
    // is read on its line in the file (libxml2 quotes it in messages), and the
    // file from the split tag on from the tag's own line and column.
    guard replay(guess, into: session) else {
      // Not expected once the first half confirms the same tags; if it happens, refuse the split.
      cancelled.withLock { $0 = true }
      return
    }
    readError = JUnitParser.feed(descriptor, from: candidate.offset, to: session, stop: { [self] in isCancelled })
    result = session.finish(readError: readError)
  }

  private func replay(_ guess: SplitContext, into session: SAXSession) -> Bool {
    guard let root = guess.openSuites.first,
      (candidate.prologue + root.bytes).withUnsafeBytes({ session.feed($0) })
    else { return false }
    for tag in guess.openSuites.dropFirst() {
      guard session.continuesAt(line: tag.line, column: tag.column), tag.bytes.withUnsafeBytes({ session.feed($0) })
      else { return false }
    }
    return session.continuesAt(line: guess.line, column: guess.column)
  }

  /// Whether libxml2's positions of the open suites (from the first half) are
  /// the start tags the guess replayed.
  func confirm(_ positions: [Int64]) -> Bool {
    waitForGuess()
    guard !isCancelled, let tags = guess?.openSuites, tags.count == positions.count else { return false }
    return zip(tags, positions).allSatisfy { tag, position in tag.start < position && position <= tag.end }
  }

  private func waitForGuess() {
    guard !isGuessKnown else { return }
    guessed.wait()
    isGuessKnown = true
  }

  /// Stops the second half and waits for its thread; its counts are not used.
  func cancel() {
    cancelled.withLock { $0 = true }
    waitForEnd()
  }

  private func waitForEnd() {
    guard !isFinished else { return }
    done.wait()
    isFinished = true
  }

  /// The whole report's result once the first half stopped at the split.
  func finish(firstHalfTestcases: Int) -> FileParseResult {
    waitForEnd()
    wasUsed = true
    let second = result ?? FileParseResult(path: path, testcaseCount: 0, error: nil)
    return FileParseResult(path: path, testcaseCount: firstHalfTestcases + second.testcaseCount, error: second.error)
  }
}
