import BridgeCore
import Dispatch
import Foundation
import JUnit
import Testomatio

/// What the producer thread learnt while reading the reports.
struct StreamedReports: Sendable {
  var files: [FileParseResult] = []
  var finderProblems: [ReportFinderProblem] = []
  var totals = RunTotals()
  var failing: [TestCaseResult] = []
  /// Every logical test's latest outcome, for `--results-out` (only when asked for).
  var tests: [ShardResults.Test] = []
  /// Outcomes of the tests carrying Jira keys (and Testomat.io ids), when Jira is on.
  var jiraIndex: JiraResultIndex?

  var loaded: LoadedReports {
    LoadedReports(files: files, finderProblems: finderProblems, testcases: [], totals: totals, failing: failing)
  }
}

/// Reads reports on a thread of its own and hands result batches to an async
/// consumer, at most two batches ahead: memory stays bounded however many
/// results there are, and parsing overlaps with uploading.
///
/// Each testcase is sent as it is read. A retried test's later attempt has the
/// same `rid` as the earlier one, so Testomat.io replaces the earlier result;
/// the attempt that passes after a failure is marked flaky.
struct ReportStreamer {
  /// Where the results come from: report files, or results already in memory (manual runs).
  enum Source: Sendable {
    case files([String], problems: [ReportFinderProblem], options: JUnitOptions)
    case testcases([TestCaseResult])
  }

  let source: Source
  let config: TestomatioConfig
  /// Keep one compact record per logical test (for a shard's results file).
  var collectTests = false
  /// When set, filled with the outcomes of the tests carrying Jira keys (Jira is on).
  var jiraIndex: JiraResultIndex? = nil

  func run(consume: @escaping @Sendable (BatchBody) async -> Void) async -> StreamedReports {
    let (stream, continuation) = AsyncStream.makeStream(of: BatchBody.self)
    let slots = DispatchSemaphore(value: 2)
    let box = StreamedBox()
    let source = source
    let config = config
    let collectTests = collectTests
    let jiraIndex = jiraIndex
    Thread.detachNewThread {
      var records: [String: Int] = [:]
      var streamed = StreamedReports()
      var totals = StreamingTotals()
      var jira = jiraIndex
      var batches = BatchAccumulator(maxCount: config.batchSize, maxBytes: config.batchBytes)
      func hand(_ batch: BatchBody) {
        slots.wait()
        continuation.yield(batch)
      }
      func take(_ testcase: TestCaseResult) {
        let outcome = totals.add(testcase)
        jira?.add(testcase, outcome: outcome)
        if config.excludeSkipped, outcome == .skipped { return }
        let test = LogicalTest(key: testcase.logicalKey, attempts: [testcase])
        let payload = Payloads.result(test, config: config, outcome: outcome)
        if collectTests {
          let record = ShardResults.Test(
            rid: payload.rid, suite: testcase.suitePath, classname: testcase.classname, name: testcase.name,
            outcome: outcome, duration: testcase.duration ?? 0, testomatioID: testcase.testomatioID,
            jira: testcase.jiraKeys)
          if let index = records[payload.rid] {
            streamed.tests[index] = record
          } else {
            records[payload.rid] = streamed.tests.count
            streamed.tests.append(record)
          }
        }
        if let full = batches.add(payload) { hand(full) }
      }
      switch source {
      case .files(let files, let problems, let options):
        streamed.finderProblems = problems
        ReportSetReader(options: options).read(files, onTestCase: take, onFile: { streamed.files.append($0) })
      case .testcases(let testcases):
        testcases.forEach(take)
      }
      if let last = batches.flush() { hand(last) }
      streamed.totals = totals.totals
      streamed.failing = totals.failingTests
      streamed.jiraIndex = jira
      box.set(streamed)
      continuation.finish()
    }
    for await batch in stream {
      await consume(batch)
      slots.signal()
    }
    return box.value ?? StreamedReports()
  }
}

/// Hands the producer's summary to the consumer once the stream has ended.
private final class StreamedBox: @unchecked Sendable {
  // Guarded by `lock`.
  private let lock = NSLock()
  private var stored: StreamedReports?

  func set(_ value: StreamedReports) {
    lock.lock()
    stored = value
    lock.unlock()
  }

  var value: StreamedReports? {
    lock.lock()
    defer { lock.unlock() }
    return stored
  }
}
