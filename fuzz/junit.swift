// libFuzzer target: the streaming JUnit engine (libxml2 SAX2 push parser + ReportBuilder),
// and what `parse` and `report` do with its results.
//
// Every input is read twice, with the default limits and with tiny ones (so the
// caps, markers and the depth limit are reached by small inputs). Whatever was
// read must summarise, and encode as Testomat.io results (a batch that cannot be
// encoded can be neither sent nor spooled). When a report reads without error,
// the merged JUnit document written from its testcases must read back without
// error and give the same totals (the writer's promise). The summary's counting
// path must give the totals that grouping every testcase gives, and counting the
// input as a file cut in two (at a place the input itself picks) must give what
// counting it front to back gives: the same totals, testcases and error.
import BridgeCore
import Foundation
import JUnit
import Testomatio
@testable import BridgeCLI

private let config = TestomatioConfig(apiKey: "tstmt_fuzz")

private let tinyLimits = JUnitOptions(
  limits: JUnitLimits(maxOutputBytes: 16, maxResultTextBytes: 16, maxMessageCharacters: 8, maxDepth: 6),
  workspace: "/work/app")

private func read(_ bytes: UnsafeBufferPointer<UInt8>, options: JUnitOptions) -> ParsedReport {
  let report = JUnitParser.parse(bytes: bytes, path: "fuzz.xml", options: options)
  let synthetic = report.testcases.count { $0.isSuiteLevel }
  // The streaming count and the collected testcases must agree.
  let counted = JUnitParser.parse(bytes: bytes, path: "fuzz.xml", options: options) { _ in }
  guard counted.testcaseCount == report.testcases.count - synthetic, counted.error == report.error else {
    fatalError("streaming and collecting reads disagree: \(counted.testcaseCount) vs \(report.testcases.count - synthetic)")
  }
  var streaming = StreamingTotals()
  let tallied = JUnitParser.count(bytes: bytes, path: "fuzz.xml", options: options) { streaming.count($0, result: $1) }
  var countedTotals = streaming.totals
  countedTotals.duration = 0
  guard tallied.error == report.error, countedTotals == totals(report.testcases) else {
    fatalError("counting and grouping disagree: \(countedTotals) vs \(totals(report.testcases))")
  }
  return report
}

private let splitPath = NSTemporaryDirectory() + "testbridge-fuzz-split-\(getpid()).xml"

private func checkSplit(_ bytes: UnsafeBufferPointer<UInt8>, options: JUnitOptions) {
  guard FileManager.default.createFile(atPath: splitPath, contents: Data(buffer: bytes)) else { return }
  let fraction = bytes.isEmpty ? 0.5 : 0.05 + 0.9 * Double(bytes[bytes.count / 2]) / 255
  var whole = StreamingTotals()
  let expected = JUnitParser.countFile(at: splitPath, options: options, into: &whole, split: .never)
  var halves = StreamingTotals()
  let result = JUnitParser.countFile(
    at: splitPath, options: options, into: &halves, split: SplitPolicy(minimumBytes: 1, fraction: fraction))
  var wholeTotals = whole.totals
  var halvesTotals = halves.totals
  wholeTotals.duration = 0
  halvesTotals.duration = 0
  guard result == expected, halvesTotals == wholeTotals else {
    fatalError("a report cut at \(fraction) counts differently: \(result) \(halvesTotals) vs \(expected) \(wholeTotals)")
  }
}

private func totals(_ testcases: [TestCaseResult]) -> RunTotals {
  var totals = RunTotals(tests: LogicalTest.group(testcases))
  totals.duration = 0
  return totals
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = UnsafeBufferPointer(start: data, count: size)
  for options in [JUnitOptions(workspace: "/work/app"), tinyLimits] {
    let report = read(bytes, options: options)
    checkSplit(bytes, options: options)
    let tests = LogicalTest.group(report.testcases)
    _ = SummaryRenderer.duration(RunTotals(tests: tests).duration)
    let batch = BatchBody(tests: tests.map { Payloads.result($0, config: config) }, batchIndex: 1)
    do {
      _ = try JSONEncoder().encode(batch)
    } catch {
      fatalError("results that cannot be encoded would be lost: \(error)")
    }
    guard report.error == nil else { continue }
    var merged = ""
    JUnitWriter().write(report.testcases, to: &merged)
    // The writer wraps everything in <testsuites> and a rerun's text in <stackTrace>:
    // up to two levels deeper than the report it came from.
    var rereading = JUnitOptions()
    rereading.limits.maxDepth = options.limits.maxDepth + 2
    let again = JUnitParser.parse(bytes: Array(merged.utf8), path: "merged.xml", options: rereading)
    guard again.error == nil else {
      fatalError("the merged JUnit of a readable report does not read back: \(again.error!)\n\(merged)")
    }
    let before = totals(report.testcases)
    let after = totals(again.testcases)
    guard before == after else {
      fatalError("totals changed through the writer: \(before) -> \(after)\n\(merged)")
    }
  }
  return 0
}
