import BridgeCore
import BridgeTestSupport
import Foundation
import Testing

@testable import JUnit

/// A large report is counted on two threads (``SplitPolicy``); whatever the
/// bytes around the cut, the result must be that of counting it front to back.
@Suite struct SplitCountingTests {
  static let everywhere = SplitPolicy(minimumBytes: 1)

  @Test(arguments: CountingTests.reports)
  func splittingAnyReportChangesNothing(_ path: String) {
    let exact = CountingTests.exact([path])
    var held = 0
    for fraction in [0.2, 0.5, 0.8] {
      let (counted, outcome) = Self.count(path, split: SplitPolicy(minimumBytes: 1, fraction: fraction))
      #expect(counted == exact, "\(path) split at \(fraction): \(counted.totals) vs \(exact.totals)")
      if outcome == .held { held += 1 }
    }
    // Reports with a testcase past the cut point and plain suites around it split.
    let testcases = exact.totals.testcases
    if testcases >= 20, !Self.isDialectWithoutSplit(path) {
      #expect(held > 0, "\(path): \(testcases) testcases, yet no split held")
    }
  }

  @Test func theCorpusMostlySplits() {
    var held = 0
    for path in CountingTests.reports {
      if Self.count(path, split: Self.everywhere).outcome == .held { held += 1 }
    }
    // Tiny reports with no testcase after the middle cannot split; the rest should.
    #expect(held >= CountingTests.reports.count / 2, "\(held) of \(CountingTests.reports.count) reports split")
  }

  /// Retries next to each other (fail, then pass: flaky) with the cut falling
  /// between every pair of attempts in turn, in nested suites.
  @Test func retriesStraddlingTheCutMergeAsOneTest() throws {
    let directory = try ProjectPaths.temporaryDirectory("split-retries")
    defer { try? FileManager.default.removeItem(at: directory) }
    var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"all\">\n"
    for suite in 0..<3 {
      xml += "  <testsuite name=\"outer \(suite)\">\n    <testsuite name=\"inner &amp; \(suite)\" file=\"t\(suite).py\">\n"
      for test in 0..<40 {
        let name = "test_\(test) é"
        switch test % 4 {
        case 0:
          xml += "      <testcase classname=\"c\" name=\"\(name)\"><failure message=\"first\">boom</failure></testcase>\n"
          xml += "      <testcase classname=\"c\" name=\"\(name)\"/>\n"
        case 1:
          xml += "      <testcase classname=\"c\" name=\"\(name)\"/>\n"
          xml += "      <testcase classname=\"c\" name=\"\(name)\"><error message=\"later\"/></testcase>\n"
        case 2: xml += "      <testcase classname=\"c\" name=\"\(name)\" time=\"0.5\"><skipped/></testcase>\n"
        default: xml += "      <testcase classname=\"c\" name=\"\(name)\" time=\"1,5\"/>\n"
        }
      }
      xml += "    </testsuite>\n  </testsuite>\n"
    }
    xml += "</testsuites>\n"
    let path = directory.appendingPathComponent("retries.xml").path
    try xml.write(toFile: path, atomically: true, encoding: .utf8)
    let exact = CountingTests.exact([path])
    #expect(exact.totals.flaky == 30)
    var held = 0
    for step in 1..<60 {
      let (counted, outcome) = Self.count(path, split: SplitPolicy(minimumBytes: 1, fraction: Double(step) / 60))
      #expect(counted == exact, "cut at \(step)/60: \(counted.totals) vs \(exact.totals)")
      if outcome == .held { held += 1 }
    }
    #expect(held >= 50, "the cut held \(held) times of 59")
  }

  /// Markup that fools a byte scan: the split must be refused or proved, never wrong.
  @Test(arguments: [
    // `<testsuite>` tags in a comment and a CDATA section before the cut.
    "<!-- <testsuite name=\"ghost\"> --><![CDATA[ </testsuite> <testsuite name=\"x\"> ]]>",
    // A `<testcase` inside CDATA right where the cut is aimed.
    "<system-out><![CDATA[" + String(repeating: "<testcase name=\"fake\"/> ", count: 40) + "]]></system-out>",
    // A processing instruction and a comment holding tags.
    "<?tool <testsuite name=\"pi\"> ?><!-- </testsuites> -->",
    // A suite whose attribute holds a `>` and a `/>`.
    "<testsuite name=\"a > b /> c\"><testcase name=\"inside\"/></testsuite>",
    // Testcases nested in a testcase (ignored): a cut among them must be refused.
    "<testcase name=\"outer\">" + String(repeating: "<testcase name=\"nested\"/>", count: 40) + "</testcase>",
  ])
  func markupThatLooksLikeTagsNeverChangesTheCount(_ noise: String) throws {
    let directory = try ProjectPaths.temporaryDirectory("split-noise")
    defer { try? FileManager.default.removeItem(at: directory) }
    var xml = "<testsuites>\n<testsuite name=\"main\">\n"
    for test in 0..<30 {
      xml += "<testcase classname=\"c\" name=\"t\(test)\"\(test % 5 == 0 ? "><failure/></testcase>" : "/>")\n"
      if test % 10 == 5 { xml += noise + "\n" }
    }
    xml += "</testsuite>\n</testsuites>\n"
    let path = directory.appendingPathComponent("noise.xml").path
    try xml.write(toFile: path, atomically: true, encoding: .utf8)
    let exact = CountingTests.exact([path])
    var outcomes: Set<String> = []
    for step in 1..<20 {
      let (counted, outcome) = Self.count(path, split: SplitPolicy(minimumBytes: 1, fraction: Double(step) / 20))
      #expect(counted == exact, "cut at \(step)/20: \(counted.totals) vs \(exact.totals)")
      outcomes.insert("\(outcome)")
    }
    #expect(outcomes.contains("held"), "plain testcases around the noise can be cut at")
    if noise.contains("fake") || noise.contains("nested") {
      #expect(outcomes.contains("refuted"), "a cut inside the noise must be refused")
    }
  }

  @Test func reportsAByteScanCannotReadAreNotSplit() throws {
    let directory = try ProjectPaths.temporaryDirectory("split-encodings")
    defer { try? FileManager.default.removeItem(at: directory) }
    let body = "<testsuite name=\"s\">" + (0..<50).map { "<testcase name=\"t\($0)\"/>" }.joined() + "</testsuite>"
    let cases: [(String, Data)] = [
      ("utf16.xml", ("<?xml version=\"1.0\" encoding=\"UTF-16\"?>" + body).data(using: .utf16)!),
      ("latin1.xml", ("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>" + body).data(using: .isoLatin1)!),
      ("doctype.xml", Data(("<!DOCTYPE testsuite>" + body).utf8)),
    ]
    for (name, data) in cases {
      let path = directory.appendingPathComponent(name).path
      try data.write(to: URL(fileURLWithPath: path))
      let (counted, outcome) = Self.count(path, split: Self.everywhere)
      #expect(outcome == .notTried, "\(name)")
      #expect(counted == CountingTests.exact([path]), "\(name)")
    }
    // UTF-8 declared in any spelling, with a BOM, does split.
    let path = directory.appendingPathComponent("bom.xml").path
    try Data([0xEF, 0xBB, 0xBF] + Array(("<?xml version='1.0' encoding='utf-8'?>\n" + body).utf8)).write(
      to: URL(fileURLWithPath: path))
    let (counted, outcome) = Self.count(path, split: Self.everywhere)
    #expect(outcome == .held)
    #expect(counted == CountingTests.exact([path]))
    #expect(counted.totals.tests == 50)
  }

  /// A report broken after the cut reports the same error, at the same line and
  /// column of the file, and the testcases before the break, as reading it whole.
  @Test(arguments: [
    ("truncated", "<testcase name=\"cut\" time=\"1"),
    ("bad end tag", "<testcase name=\"x\"></testcas>"),
    ("entity", "<testcase name=\"x &custom; y\"/>"),
    ("bad attribute", "  <testcase name=x/>"),
    // libxml2's message quotes the line of the suite opened before the cut, and of the root.
    ("suite end tag", "  </testsuitx>"),
    ("root end tag", "  </testsuite>\n</testsuitez>"),
  ])
  func aReportBrokenAfterTheCutFailsAsItWouldWhole(_ kind: String, _ breakage: String) throws {
    let directory = try ProjectPaths.temporaryDirectory("split-broken")
    defer { try? FileManager.default.removeItem(at: directory) }
    var xml = "<?xml version=\"1.0\"?>\n<!-- written by\n  a test -->\n<testsuites>\n  <testsuite name=\"one\">\n"
    for test in 0..<40 { xml += "    <testcase classname=\"c\" name=\"t\(test)\"\(test == 3 ? "><error/></testcase>" : "/>")\n" }
    xml += "  </testsuite>\n  <testsuite name=\"two\">\n"
    for test in 0..<40 { xml += "    <testcase classname=\"d\" name=\"t\(test)\"/>\n" }
    xml += breakage
    if kind != "truncated" { xml += "\n  </testsuite>\n</testsuites>\n" }
    let path = directory.appendingPathComponent("broken.xml").path
    try xml.write(toFile: path, atomically: true, encoding: .utf8)

    var whole = StreamingTotals()
    let expected = JUnitParser.countFile(at: path, into: &whole, split: .never)
    #expect(expected.error != nil, "\(kind) must break the report")
    if kind == "suite end tag" || kind == "root end tag" {
      #expect(expected.error?.description.contains(kind == "root end tag" ? "testsuites line 4" : "testsuite line ") == true)
    }
    var held = 0
    for fraction in [0.3, 0.6, 0.9] {
      var totals = StreamingTotals()
      let (result, outcome) = JUnitParser.countFileSplitting(
        at: path, options: JUnitOptions(), into: &totals, split: SplitPolicy(minimumBytes: 1, fraction: fraction))
      #expect(result == expected, "\(kind) cut at \(fraction)")
      #expect(totals.totals == whole.totals, "\(kind) cut at \(fraction)")
      if outcome == .held { held += 1 }
    }
    #expect(held > 0, "\(kind): the cut should hold before the break")
  }

  @Test func aReportBrokenBeforeTheCutIsReadOnOneThread() throws {
    let directory = try ProjectPaths.temporaryDirectory("split-broken-early")
    defer { try? FileManager.default.removeItem(at: directory) }
    var xml = "<testsuites><testsuite name=\"s\"><testcase name=\"a\"></testcas>"
    for test in 0..<60 { xml += "<testcase name=\"t\(test)\"/>" }
    xml += "</testsuite></testsuites>"
    let path = directory.appendingPathComponent("early.xml").path
    try xml.write(toFile: path, atomically: true, encoding: .utf8)
    var whole = StreamingTotals()
    let expected = JUnitParser.countFile(at: path, into: &whole, split: .never)
    var totals = StreamingTotals()
    let (result, outcome) = JUnitParser.countFileSplitting(
      at: path, options: JUnitOptions(), into: &totals, split: Self.everywhere)
    #expect(outcome == .refuted)
    #expect(result == expected)
    #expect(totals.totals == whole.totals)
  }

  @Test func readerSplitsLargeFilesAndBatchesSmallOnes() {
    let paths = CountingTests.reports
    let exact = CountingTests.exact(paths)
    for reader in [
      ReportSetReader(), ReportSetReader(streamingThreshold: 6_000),
      // One thread (`--jobs 1`: no split, files one after another), and three workers taking turns.
      ReportSetReader(options: JUnitOptions(threads: 1), batchSize: 5),
      ReportSetReader(options: JUnitOptions(threads: 3), batchSize: 10, streamingThreshold: 6_000),
    ] {
      var totals = StreamingTotals()
      var files: [FileParseResult] = []
      reader.count(paths, into: &totals, split: SplitPolicy(minimumBytes: 6_000), onFile: { files.append($0) })
      let counted = CountingTests.Outcome(
        totals: totals.totals, failing: totals.failingTests.map(CountingTests.shown), files: files)
      #expect(counted == exact, "\(counted.totals) vs \(exact.totals)")
    }
  }

  /// The eight-bytes-at-a-time newline count agrees with a plain one, whatever
  /// the length and bytes (0x0A next to 0x8A, 0x0B, 0x09 and 0xFF).
  @Test func newlinesAreCountedExactly() {
    var generator = SystemRandomNumberGenerator()
    let alphabet: [UInt8] = [0x0A, 0x0A, 0x8A, 0x0B, 0x09, 0xFF, 0x00, 0x41, 0x7F, 0x80]
    for length in [0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000] {
      let bytes = (0..<(length + 3)).map { _ in alphabet.randomElement(using: &generator)! }
      for start in 0..<3 {
        let slice = Array(bytes[start..<(start + length)])
        let tally = slice.withUnsafeBytes { LineTally(counting: $0, at: 100) }
        #expect(tally.newlines == slice.count { $0 == 0x0A }, "length \(length) at \(start)")
        #expect(tally.lastNewline == (slice.lastIndex(of: 0x0A).map { Int64(100 + $0) } ?? -1))
      }
    }
  }

  // MARK: - Helpers

  static func count(_ path: String, split: SplitPolicy) -> (counted: CountingTests.Outcome, outcome: JUnitParser.SplitOutcome) {
    var totals = StreamingTotals()
    let (result, outcome) = JUnitParser.countFileSplitting(at: path, options: JUnitOptions(), into: &totals, split: split)
    let counted = CountingTests.Outcome(
      totals: totals.totals, failing: totals.failingTests.map(CountingTests.shown), files: [result])
    return (counted, outcome)
  }

  /// Dialect fixtures built to be odd (a DOCTYPE, another encoding, testcases only near the start).
  static func isDialectWithoutSplit(_ path: String) -> Bool {
    guard let data = FileManager.default.contents(atPath: path) else { return true }
    let head = String(decoding: data.prefix(300), as: UTF8.self).lowercased()
    return head.contains("<!doctype") || (head.contains("encoding=") && !head.contains("utf-8"))
      || data.first == 0xFF || data.first == 0xFE
  }
}
