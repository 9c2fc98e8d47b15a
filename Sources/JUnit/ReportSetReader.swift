import BridgeCore
import Dispatch
import Foundation

/// Reads many reports, in parallel where it pays, delivering testcases in file order.
public struct ReportSetReader: Sendable {
  public let options: JUnitOptions
  /// Files read concurrently before their results are handed on in order.
  public let batchSize: Int

  public init(options: JUnitOptions = JUnitOptions(), batchSize: Int = 64) {
    self.options = options
    self.batchSize = max(1, batchSize)
  }

  /// Reads `paths` in order: each file's testcases, then that file's result (so a
  /// caller can mark the testcases of a broken file incomplete). A single file
  /// streams straight through; many small files are parsed a batch at a time on
  /// every core, then handed on in order, so memory holds at most one batch.
  public func read(
    _ paths: [String], onTestCase: (TestCaseResult) -> Void, onFile: (FileParseResult) -> Void = { _ in }
  ) {
    if paths.count == 1 {
      let result = withoutActuallyEscaping(onTestCase) { deliver in
        JUnitParser.parseFile(at: paths[0], options: options, onTestCase: deliver)
      }
      onFile(result)
      return
    }
    var start = 0
    while start < paths.count {
      let batch = Array(paths[start..<min(start + batchSize, paths.count)])
      let reports = Self.parseConcurrently(batch, options: options)
      for report in reports {
        report.testcases.forEach(onTestCase)
        onFile(FileParseResult(path: report.path, testcaseCount: report.testcases.count { !$0.isSuiteLevel }, error: report.error))
      }
      start += batch.count
    }
  }

  private static func parseConcurrently(_ paths: [String], options: JUnitOptions) -> [ParsedReport] {
    let slots = ResultSlots(count: paths.count)
    DispatchQueue.concurrentPerform(iterations: paths.count) { index in
      slots.store(JUnitParser.parseFile(at: paths[index], options: options), at: index)
    }
    return slots.values
  }
}

/// Fixed slots written once each from `concurrentPerform` workers.
private final class ResultSlots: @unchecked Sendable {
  // Guarded by `lock`; each index is written exactly once.
  private var slots: [ParsedReport?]
  private let lock = NSLock()

  init(count: Int) { slots = Array(repeating: nil, count: count) }

  func store(_ report: ParsedReport, at index: Int) {
    lock.lock()
    slots[index] = report
    lock.unlock()
  }

  var values: [ParsedReport] {
    lock.lock()
    defer { lock.unlock() }
    return slots.compactMap { $0 }
  }
}
