import BridgeCore
import Foundation
import JUnit
import Testing

func fixture(_ name: String) throws -> String {
  let url = try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil))
  return url.path
}

func parseFixture(_ name: String, workspace: String? = nil) throws -> ParsedReport {
  JUnitParser.parseFile(at: try fixture(name), options: JUnitOptions(workspace: workspace))
}

@Suite struct DialectTests {
  @Test func nodeReporterTestcasesDirectlyUnderTestsuites() throws {
    let report = try parseFixture("dialects/node-testcases-under-testsuites.xml", workspace: "/ws")
    #expect(report.error == nil)
    #expect(report.testcases.map(\.name) == ["adds numbers", "rejects strings"])
    #expect(report.testcases.allSatisfy { $0.suitePath.isEmpty })
    #expect(report.testcases[0].file == "test/math.test.js")
    // No file attribute: the first workspace frame of the failure text gives file and line.
    #expect(report.testcases[1].file == "test/math.test.js")
    #expect(report.testcases[1].line == 14)
    #expect(report.testcases[1].status == .failed)
    #expect(report.testcases[1].results.first?.text?.contains("TestContext.<anonymous>") == true)
  }

  @Test func surefireRerunElementsGiveFlakyAndFailed() throws {
    let report = try parseFixture("dialects/surefire-reruns.xml")
    let tests = LogicalTest.group(report.testcases)
    #expect(tests.map(\.outcome) == [.flaky, .failed, .error])
    let flaky = tests[0]
    #expect(flaky.final.results.map(\.kind) == [.flakyFailure])
    // The stack trace child is the rerun's text; its own system-out is not.
    #expect(flaky.final.results[0].text?.contains("CartTest.java:18") == true)
    #expect(flaky.final.results[0].text?.contains("rerun output") == false)
    #expect(flaky.final.systemOut == nil)
    #expect(flaky.explainingResult?.message == "expected 1")
    #expect(tests[1].final.results.map(\.kind) == [.failure, .rerunFailure])
    #expect(tests[1].final.results[1].text == "java.lang.IllegalStateException: boom again")
    #expect(RunTotals(tests: tests).flaky == 1)
    #expect(RunTotals(tests: tests).failed == 1)
  }

  @Test func repeatedTestcasesFormOneLogicalTest() throws {
    let report = try parseFixture("dialects/repeated-testcases.xml")
    #expect(report.testcases.count == 5)
    let tests = LogicalTest.group(report.testcases)
    #expect(tests.map(\.key.name) == ["test_total", "test_tax", "test_ok"])
    #expect(tests.map(\.outcome) == [.flaky, .failed, .passed])
    #expect(tests[0].attempts.count == 2)
    #expect(abs(tests[0].duration - 0.9) < 1e-9)
    #expect(tests[1].explainingResult?.message == "second")
    let totals = RunTotals(tests: tests)
    #expect(totals.testcases == 5)
    #expect(totals.tests == 3)
    #expect(totals.passed + totals.failed + totals.errors + totals.skipped + totals.flaky == totals.tests)
    #expect(totals.flaky == 1 && totals.failed == 1 && totals.passed == 1)
  }

  @Test func suiteLevelErrorBecomesItsOwnResult() throws {
    let report = try parseFixture("dialects/suite-level-error.xml")
    #expect(report.error == nil)
    let suiteResults = report.testcases.filter(\.isSuiteLevel)
    #expect(suiteResults.count == 1)
    #expect(suiteResults[0].suitePath == ["outer", "inner"])
    #expect(suiteResults[0].name == "inner")
    #expect(suiteResults[0].file == "tests/inner_test.py")
    #expect(suiteResults[0].status == .error)
    #expect(suiteResults[0].results[0].message == "fixture setup failed")
    let works = try #require(report.testcases.first { $0.name == "works" })
    #expect(works.suitePath == ["outer", "other"])
    let totals = RunTotals(tests: LogicalTest.group(report.testcases))
    #expect(totals.testcases == 1)
    #expect(totals.tests == 2)
    #expect(totals.errors == 1)
  }

  @Test func entitiesCDATAAndNonASCIIComeOutDecoded() throws {
    let report = try parseFixture("dialects/bom-entities-nonascii.xml")
    #expect(report.error == nil)
    let first = report.testcases[0]
    #expect(first.suitePath == ["Ünïcödé & friends"])
    #expect(first.name == "quotes \"x\" <y> & & ☺ ✓ @T1a2b3c4d @PROJ-12")
    #expect(first.classname == "naïve.Test")
    #expect(first.results[0].message == "a & b < c")
    #expect(first.results[0].text == "raw <cdata> & stuff and text & more")
    #expect(first.testomatioID == "1a2b3c4d")
    #expect(first.jiraKeys == ["PROJ-12", "PROJ-7", "OPS-42", "TEAM_X-3"])
    #expect(first.properties == [Property(name: "jira", value: "PROJ-7, OPS-42 and TEAM_X-3"), Property(name: "note", value: "text & value")])
    #expect(first.duration == 1.5)
    #expect(report.testcases[1].testomatioID == "9f8e7d6c")
    #expect(report.testcases[1].duration == 2503.1)
    #expect(report.testcases[2].testomatioID == "abcdef12")
    #expect(report.testcases[2].jiraKeys == ["REQ-9"])
    #expect(report.testcases[2].duration == 0.001)
    #expect(report.testcases[3].duration == 0)
    #expect(report.testcases[4].duration == nil)
  }

  @Test func statusRulesOrderErrorFailureSkipped() throws {
    let report = try parseFixture("dialects/status-attributes.xml")
    #expect(report.testcases.map(\.status) == [.skipped, .passed, .failed, .error, .skipped])
    #expect(report.testcases[4].decidingResult?.message == "not on linux")
    #expect(report.testcases[4].decidingResult?.text == "because")
  }

  @Test func sourceLocationFromGoAndPythonFrames() throws {
    let report = try parseFixture("dialects/go-stack-location.xml", workspace: "/ws")
    #expect(report.testcases[0].file == "parse_test.go")
    #expect(report.testcases[0].line == 42)
    #expect(report.testcases[1].file == "tests/test_api.py")
    #expect(report.testcases[1].line == 17)
  }

  @Test func truncatedReportKeepsCompletedTestcasesMarkedIncomplete() throws {
    let path = try fixture("dialects/truncated.xml")
    let report = JUnitParser.parseFile(at: path)
    #expect(report.testcases.map(\.name) == ["one"])
    #expect(report.testcases.allSatisfy { $0.incomplete })
    guard case .malformed(let errorPath, let line, let column, let reason) = report.error else {
      Issue.record("expected a malformed error, got \(String(describing: report.error))")
      return
    }
    #expect(errorPath == path)
    #expect(line == 5)
    #expect(column > 1)
    #expect(!reason.isEmpty)
    #expect(report.error?.description.hasPrefix("\(path):5:") == true)
  }

  @Test func emptyAndNonXMLFilesAreClearErrors() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tb-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let empty = directory.appendingPathComponent("empty.xml").path
    _ = FileManager.default.createFile(atPath: empty, contents: Data())
    #expect(JUnitParser.parseFile(at: empty).error == .malformed(path: empty, line: 1, column: 1, reason: "the file is empty"))
    let text = directory.appendingPathComponent("log.xml").path
    _ = FileManager.default.createFile(atPath: text, contents: Data("PASS all good\n".utf8))
    #expect(JUnitParser.parseFile(at: text).error?.description.hasPrefix("\(text):1:1: malformed XML") == true)
    let missing = directory.appendingPathComponent("missing.xml").path
    #expect(JUnitParser.parseFile(at: missing).error == .unreadable(path: missing, reason: "No such file or directory"))
    #expect(JUnitParser.parseFile(at: directory.path).error == .unreadable(path: directory.path, reason: "is a directory"))
  }

  @Test func utf16ReportIsRead() throws {
    let xml = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><testsuite name=\"ü\"><testcase name=\"ok\" time=\"1\"/></testsuite>"
    var bytes: [UInt8] = [0xFF, 0xFE]
    for unit in xml.utf16 { bytes.append(UInt8(unit & 0xFF)); bytes.append(UInt8(unit >> 8)) }
    let report = JUnitParser.parse(bytes: bytes, path: "utf16.xml")
    #expect(report.error == nil)
    #expect(report.testcases.first?.suitePath == ["ü"])
  }

  @Test func testcasesStreamOneByOneAcrossChunkBoundaries() throws {
    // 3,000 testcases: several 256 KiB chunks once padded with output.
    var xml = "<testsuites><testsuite name=\"big\">"
    let padding = String(repeating: "x", count: 200)
    for index in 0..<3_000 {
      xml += "<testcase classname=\"c\" name=\"t\(index)\" time=\"0.5\"><system-out>\(padding)</system-out></testcase>"
    }
    xml += "</testsuite></testsuites>"
    var names: [String] = []
    let result = JUnitParser.parse(bytes: Array(xml.utf8), path: "big.xml") { names.append($0.name) }
    #expect(result.error == nil)
    #expect(result.testcaseCount == 3_000)
    #expect(names.first == "t0" && names.last == "t2999")
  }
}
