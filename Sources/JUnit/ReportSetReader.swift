import BridgeCore
import Dispatch
import Foundation

/// Reads many reports, in parallel where it pays, delivering testcases in file order.
public struct ReportSetReader: Sendable {
  public let options: JUnitOptions
  /// Files read concurrently before their results are handed on in order.
  public let batchSize: Int
  /// Bytes of report files (by size on disk) read into memory together at most.
  public let batchBytes: Int64
  /// A file at least this large streams on its own, never held in memory.
  public let streamingThreshold: Int64

  public init(
    options: JUnitOptions = JUnitOptions(), batchSize: Int = 64, batchBytes: Int64 = 32 << 20,
    streamingThreshold: Int64 = 4 << 20
  ) {
    self.options = options
    self.batchSize = max(1, batchSize)
    self.batchBytes = max(1, batchBytes)
    self.streamingThreshold = max(1, streamingThreshold)
  }

  /// Reads `paths` in order: each file's testcases, then that file's result (so a
  /// caller can mark the testcases of a broken file incomplete). Large files
  /// stream straight through; small files are parsed a batch at a time on every
  /// core, then handed on in order, so memory holds at most one batch (bounded in
  /// files and bytes) however many and however large the reports are.
  public func read(
    _ paths: [String], onTestCase: (TestCaseResult) -> Void, onFile: (FileParseResult) -> Void = { _ in }
  ) {
    let options = options
    forEachFile(
      paths,
      stream: { path in
        onFile(withoutActuallyEscaping(onTestCase) { JUnitParser.parseFile(at: path, options: options, onTestCase: $0) })
      },
      parse: { JUnitParser.parseFile(at: $0, options: options) },
      deliver: { (report: ParsedReport) in
        report.testcases.forEach(onTestCase)
        onFile(
          FileParseResult(path: report.path, testcaseCount: report.testcases.count { !$0.isSuiteLevel }, error: report.error))
      })
  }

  /// Counts `paths` in order, as ``JUnitParser/countFile(at:options:onTally:)`` does
  /// for one file: the tallies of each file's testcases, then that file's result.
  public func count(
    _ paths: [String], onTally: TallyHandler, onFile: (FileParseResult) -> Void = { _ in }
  ) {
    let options = options
    countEachFile(
      paths,
      stream: { path in
        withoutActuallyEscaping(onTally) { JUnitParser.countFile(at: path, options: options, onTally: $0) }
      },
      onTally: onTally, onFile: onFile)
  }

  /// Counts `paths` into `totals`, as ``count(_:onTally:onFile:)`` does; a report
  /// as large as `split` says is counted on two threads at once.
  public func count(
    _ paths: [String], into totals: inout StreamingTotals, split: SplitPolicy = .standard,
    onFile: (FileParseResult) -> Void = { _ in }
  ) {
    let options = options
    let split = options.threads == 1 ? .never : split
    countEachFile(
      paths,
      stream: { path in JUnitParser.countFile(at: path, options: options, into: &totals, split: split) },
      onTally: { totals.count($0, result: $1) }, onFile: onFile)
  }

  private func countEachFile(
    _ paths: [String], stream: (String) -> FileParseResult, onTally: TallyHandler, onFile: (FileParseResult) -> Void
  ) {
    let options = options
    forEachFile(
      paths,
      stream: { onFile(stream($0)) },
      parse: { path in CountedReport(path: path, options: options) },
      deliver: { (report: CountedReport) in
        for (index, tally) in report.tallies.enumerated() {
          // Failing testcases were made whole by the worker; others are never asked for.
          onTally(tally) { report.failing[index] ?? TestCaseResult(name: "") }
        }
        onFile(report.result)
      })
  }

  /// Streams each large file, and parses the small ones between them in
  /// concurrent batches, delivering everything in the order of `paths`.
  private func forEachFile<Parsed: Sendable>(
    _ paths: [String], stream: (String) -> Void, parse: @escaping @Sendable (String) -> Parsed,
    deliver: (Parsed) -> Void
  ) {
    if paths.count == 1 {
      stream(paths[0])
      return
    }
    var batch: [String] = []
    var bytes: Int64 = 0
    let threads = options.threads
    func flush() {
      guard !batch.isEmpty else { return }
      Self.parseConcurrently(batch, threads: threads, parse).forEach(deliver)
      batch.removeAll()
      bytes = 0
    }
    for path in paths {
      let size = Self.size(of: path)
      if size >= streamingThreshold {
        flush()
        stream(path)
        continue
      }
      if batch.count == batchSize || (bytes + size > batchBytes && !batch.isEmpty) { flush() }
      batch.append(path)
      bytes += size
    }
    flush()
  }

  /// Size on disk; 0 when it cannot be told (the parse then reports why).
  private static func size(of path: String) -> Int64 {
    var info = stat()
    guard stat(path, &info) == 0 else { return 0 }
    return Int64(info.st_size)
  }

  /// Parses `paths` on every core, or on at most `threads` threads.
  private static func parseConcurrently<Parsed: Sendable>(
    _ paths: [String], threads: Int?, _ parse: @escaping @Sendable (String) -> Parsed
  ) -> [Parsed] {
    if threads == 1 { return paths.map(parse) }
    let slots = ResultSlots<Parsed>(count: paths.count)
    guard let threads, threads < paths.count else {
      DispatchQueue.concurrentPerform(iterations: paths.count) { index in
        slots.store(parse(paths[index]), at: index)
      }
      return slots.values
    }
    // Each of `threads` workers takes every threads-th file.
    DispatchQueue.concurrentPerform(iterations: threads) { worker in
      for index in stride(from: worker, to: paths.count, by: threads) {
        slots.store(parse(paths[index]), at: index)
      }
    }
    return slots.values
  }
}

/// One small report counted by a worker: its tallies, and its failing testcases
/// made whole (the only ones a summary may show), by tally index.
private struct CountedReport: Sendable {
  var tallies: [TestCaseTally] = []
  var failing: [Int: TestCaseResult] = [:]
  var result: FileParseResult

  init(path: String, options: JUnitOptions) {
    var tallies: [TestCaseTally] = []
    var failing: [Int: TestCaseResult] = [:]
    result = JUnitParser.countFile(at: path, options: options) { tally, full in
      if tally.status == .failed || tally.status == .error { failing[tallies.count] = full() }
      tallies.append(tally)
    }
    self.tallies = tallies
    self.failing = failing
  }
}

/// Fixed slots written once each from `concurrentPerform` workers.
private final class ResultSlots<Value: Sendable>: @unchecked Sendable {
  // Guarded by `lock`; each index is written exactly once.
  private var slots: [Value?]
  private let lock = NSLock()

  init(count: Int) { slots = Array(repeating: nil, count: count) }

  func store(_ value: Value, at index: Int) {
    lock.lock()
    slots[index] = value
    lock.unlock()
  }

  var values: [Value] {
    lock.lock()
    defer { lock.unlock() }
    return slots.compactMap { $0 }
  }
}
