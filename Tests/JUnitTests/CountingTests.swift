import BridgeCore
import BridgeTestSupport
import Foundation
import JUnit
import Testing

/// The counting path (`countFile`, `ReportSetReader.count`, `StreamingTotals.count`)
/// must give exactly what reading every testcase and grouping them gives.
@Suite struct CountingTests {
  /// Every report the engine reads well: the shared corpus and the dialect fixtures.
  static let reports: [String] = {
    let corpus = ProjectPaths.junitCorpus
    let rows = (try? ManifestRow.load()) ?? []
    var paths = rows.filter { !$0.malformed }.map { corpus.appendingPathComponent($0.path).path }
    let dialects = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/dialects")
    let names = (try? FileManager.default.contentsOfDirectory(atPath: dialects.path)) ?? []
    paths += names.filter { $0.hasSuffix(".xml") }.sorted().map { dialects.appendingPathComponent($0).path }
    return paths
  }()

  @Test func thereAreReportsToCount() {
    #expect(Self.reports.count > 80)
  }

  @Test(arguments: reports)
  func countingAgreesWithReadingEveryTestcase(_ path: String) {
    let exact = Self.exact([path])
    let counted = Self.counted([path], reader: ReportSetReader())
    #expect(counted == exact, "\(path): \(counted.totals) vs \(exact.totals)")
    // The same report counted from memory.
    var fromBytes = StreamingTotals()
    let bytes = FileManager.default.contents(atPath: path).map { Array($0) } ?? []
    let result = JUnitParser.count(bytes: bytes, path: path) { fromBytes.count($0, result: $1) }
    #expect(result == counted.files.first)
    #expect(Outcome(totals: fromBytes.totals, failing: fromBytes.failingTests.map(Self.shown), files: [result]) == exact)
  }

  @Test func manyFilesCountTheSameWhetherStreamedOrBatched() {
    let paths = Self.reports
    let exact = Self.exact(paths)
    // Thresholds that send every file down each path, and a mix of both.
    for reader in [
      ReportSetReader(), ReportSetReader(batchSize: 3, batchBytes: 1),
      ReportSetReader(streamingThreshold: 1), ReportSetReader(batchSize: 7, batchBytes: 20_000, streamingThreshold: 8_000),
    ] {
      let counted = Self.counted(paths, reader: reader)
      #expect(counted == exact, "\(counted.totals) vs \(exact.totals)")
      var read: [String] = []
      reader.read(paths, onTestCase: { _ in }, onFile: { read.append($0.path) })
      #expect(read == paths, "files are handed on in the order given")
    }
  }

  @Test func retriesAcrossFilesAndSuitesMergeByKey() throws {
    let directory = try ProjectPaths.temporaryDirectory("counting")
    defer { try? FileManager.default.removeItem(at: directory) }
    // The same test fails in one file and passes in another (a rerun job), a
    // same-named test in another suite stays apart, and an `&` in a name is
    // decoded the same way by both paths.
    let first = """
      <testsuites><testsuite name="api"><testcase classname="c" name="a &amp; b"><failure message="boom"/></testcase>
      <testcase classname="c" name="steady"/></testsuite>
      <testsuite name="web"><testcase classname="c" name="a &amp; b"><error message="down"/></testcase></testsuite></testsuites>
      """
    let second = """
      <testsuite name="api"><testcase classname="c" name="a &#38; b"/><testcase name="no classname"><skipped/></testcase></testsuite>
      """
    let paths = [directory.appendingPathComponent("1.xml").path, directory.appendingPathComponent("2.xml").path]
    try first.write(toFile: paths[0], atomically: true, encoding: .utf8)
    try second.write(toFile: paths[1], atomically: true, encoding: .utf8)
    let counted = Self.counted(paths, reader: ReportSetReader(streamingThreshold: 1))
    #expect(counted.totals.tests == 4)
    #expect(counted.totals.testcases == 5)
    #expect(counted.totals.flaky == 1)
    #expect(counted.totals.errors == 1)
    #expect(counted.totals.skipped == 1)
    #expect(counted.totals.passed == 1)
    #expect(counted.failing.map(\.suitePath) == [["web"]], "the flaky test left the failures; the error stays")
    #expect(counted == Self.exact(paths))
  }

  /// Past the limit of failing tests kept, messages and text are not read; the
  /// tests shown still carry theirs, and a kept test's later failure replaces it.
  @Test func failingTestsShownKeepTheirMessagesPastTheLimit() throws {
    let directory = try ProjectPaths.temporaryDirectory("counting-details")
    defer { try? FileManager.default.removeItem(at: directory) }
    var xml = "<testsuite name=\"s\">\n"
    for test in 0..<30 {
      xml += "<testcase name=\"t\(test)\"><failure message=\"m\(test)\" type=\"E\">trace \(test)</failure></testcase>\n"
    }
    xml += "<testcase name=\"t0\"><error message=\"again\"><![CDATA[second trace]]></error></testcase>\n"
    xml += "<testcase name=\"t1\"/>\n</testsuite>\n"
    let path = directory.appendingPathComponent("many-failures.xml").path
    try xml.write(toFile: path, atomically: true, encoding: .utf8)
    for split in [SplitPolicy.never, SplitPolicy(minimumBytes: 1)] {
      var totals = StreamingTotals()
      ReportSetReader().count([path], into: &totals, split: split)
      let shown = totals.failingTests
      #expect(totals.totals.flaky == 1, "t1 failed, then passed")
      // 20 were kept; t1's pass at the end drops it (one thread keeps no spare to fill its place).
      #expect((19...20).contains(shown.count))
      #expect(!shown.contains { $0.name == "t1" }, "a test that passed at last is not shown")
      let first = try #require(shown.first { $0.name == "t0" })
      #expect(first.results.map(\.message) == ["again"], "the last attempt is shown")
      #expect(first.results.first?.text == "second trace")
      for test in shown where test.name != "t0" {
        #expect(test.results.first?.message == "m\(test.name.dropFirst())", "\(test.name)")
        #expect(test.results.first?.text == "trace \(test.name.dropFirst())", "\(test.name)")
      }
    }
  }

  // MARK: - Helpers

  struct Outcome: Equatable {
    var totals: RunTotals
    var failing: [TestCaseResult]
    var files: [FileParseResult]

    /// Durations are summed in another order by each path; the failing tests shown
    /// are the same tests, listed in the order they failed rather than first appeared.
    static func == (left: Outcome, right: Outcome) -> Bool {
      var leftTotals = left.totals
      var rightTotals = right.totals
      guard abs(leftTotals.duration - rightTotals.duration) <= 1e-6 * max(1, abs(leftTotals.duration)) else { return false }
      leftTotals.duration = 0
      rightTotals.duration = 0
      guard leftTotals == rightTotals, left.files == right.files, left.failing.count == right.failing.count else { return false }
      let failingCount = left.totals.failed + left.totals.errors
      return failingCount > left.failing.count || Set(left.failing) == Set(right.failing)
    }
  }

  /// Failing tests as the summary shows them: without output or properties, which counting skips.
  static func shown(_ testcase: TestCaseResult) -> TestCaseResult {
    var shown = testcase
    shown.systemOut = nil
    shown.systemErr = nil
    shown.properties = []
    shown.timestamp = nil
    shown.testomatioID = nil
    shown.jiraKeys = []
    return shown
  }

  static func exact(_ paths: [String]) -> Outcome {
    var testcases: [TestCaseResult] = []
    var files: [FileParseResult] = []
    ReportSetReader().read(paths, onTestCase: { testcases.append($0) }, onFile: { files.append($0) })
    let tests = LogicalTest.group(testcases)
    let failing = tests.filter { $0.outcome.isFailing }.map { shown($0.final) }.prefix(20)
    return Outcome(totals: RunTotals(tests: tests), failing: Array(failing), files: files)
  }

  static func counted(_ paths: [String], reader: ReportSetReader) -> Outcome {
    var totals = StreamingTotals()
    var files: [FileParseResult] = []
    reader.count(paths, onTally: { totals.count($0, result: $1) }, onFile: { files.append($0) })
    return Outcome(totals: totals.totals, failing: totals.failingTests.map(shown), files: files)
  }
}
