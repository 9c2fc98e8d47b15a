import BridgeCore
import Foundation
import JUnit
import Testing

@Suite struct HostileInputTests {
  @Test func xxeToLocalFileIsRefusedAndNothingIsRead() throws {
    let report = try parseFixture("hostile/xxe-local-file.xml")
    guard case .entitiesRefused(_, let line, _, let detail) = report.error else {
      Issue.record("expected refusal, got \(String(describing: report.error))")
      return
    }
    #expect(line == 3)
    #expect(detail.contains("'secret'"))
    #expect(report.testcases.isEmpty)
    #expect(report.error?.description.contains("root:") == false)
  }

  @Test func xxeToURLIsRefusedWithoutNetwork() throws {
    let report = try parseFixture("hostile/xxe-url.xml")
    guard case .entitiesRefused = report.error else {
      Issue.record("expected refusal, got \(String(describing: report.error))")
      return
    }
    #expect(report.testcases.isEmpty)
  }

  @Test func externalDTDIsNeverLoaded() throws {
    // A DOCTYPE naming an external DTD is harmless when the DTD is never read.
    let report = try parseFixture("hostile/external-dtd.xml")
    #expect(report.error == nil)
    #expect(report.testcases.map(\.name) == ["fine"])
  }

  @Test func billionLaughsFailsFastWithSmallMemory() throws {
    let clock = ContinuousClock()
    var report: ParsedReport?
    let elapsed = try clock.measure { report = try parseFixture("hostile/billion-laughs.xml") }
    guard case .entitiesRefused(_, _, _, let detail) = report?.error else {
      Issue.record("expected refusal, got \(String(describing: report?.error))")
      return
    }
    #expect(detail.contains("'lol'"))
    // Refused at the first declaration, not after expanding anything.
    #expect(elapsed < .seconds(5))
  }

  @Test func undefinedEntityIsAnErrorAfterTheTestcasesBeforeIt() throws {
    let report = try parseFixture("hostile/undefined-entity.xml")
    #expect(report.error != nil)
    #expect(report.testcases.map(\.name) == ["a"])
    #expect(report.testcases[0].incomplete)
  }

  @Test func parserOptionsNeverSubstituteEntitiesOrLoadDTDs() {
    #expect(JUnitParserOptionsProbe.forbiddenFlagsSet.isEmpty, "\(JUnitParserOptionsProbe.forbiddenFlagsSet)")
  }

  @Test func fiftyMegabyteSystemOutIsCappedNotFatal() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tb-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    for cdata in [false, true] {
      let path = directory.appendingPathComponent("big-\(cdata).xml").path
      _ = FileManager.default.createFile(atPath: path, contents: nil)
      let handle = try #require(FileHandle(forWritingAtPath: path))
      handle.write(Data("<testsuite name=\"s\"><testcase name=\"noisy\" time=\"1\"><system-out>\(cdata ? "<![CDATA[" : "")".utf8))
      let line = Data(String(repeating: "log line with ü and <b>\n".replacingOccurrences(of: "<b>", with: cdata ? "<b>" : "&lt;b&gt;"), count: 40_000).utf8)
      while handle.offsetInFile < 50_000_000 { handle.write(line) }
      handle.write(Data("\(cdata ? "]]>" : "")</system-out></testcase><testcase name=\"after\" time=\"1\"/></testsuite>".utf8))
      try handle.close()
      let report = JUnitParser.parseFile(at: path)
      #expect(report.error == nil, "\(String(describing: report.error))")
      #expect(report.testcases.map(\.name) == ["noisy", "after"])
      let out = try #require(report.testcases.first?.systemOut)
      #expect(out.utf8.count < 70 * 1024)
      #expect(out.contains("[testbridge: output truncated, "))
      #expect(out.hasPrefix("log line with ü and <b>"))
    }
  }

  @Test func deepNestingFailsWithAClearError() {
    let depth = 5_000
    let xml = "<testsuites>" + String(repeating: "<testsuite name=\"n\">", count: depth)
      + "<testcase name=\"deep\"/>" + String(repeating: "</testsuite>", count: depth) + "</testsuites>"
    let report = JUnitParser.parse(bytes: Array(xml.utf8), path: "deep.xml")
    guard case .malformed(_, _, _, let reason) = report.error else {
      Issue.record("expected malformed, got \(String(describing: report.error))")
      return
    }
    #expect(reason.lowercased().contains("depth"))
  }

  @Test func nulBytesAndInvalidUTF8AreMalformedNotCrashes() {
    let nul: [UInt8] = Array("<testsuite><testcase name=\"a\"/><testcase name=\"b\u{0}\"/></testsuite>".utf8)
    let nulReport = JUnitParser.parse(bytes: nul, path: "nul.xml")
    #expect(nulReport.error != nil)
    #expect(nulReport.testcases.map(\.name) == ["a"])
    var invalid = Array("<testsuite><testcase name=\"a\"/><testcase name=\"".utf8)
    invalid += [0xC3, 0x28, 0xFF]
    invalid += Array("\"/></testsuite>".utf8)
    let invalidReport = JUnitParser.parse(bytes: invalid, path: "bad-utf8.xml")
    #expect(invalidReport.error != nil)
    #expect(invalidReport.testcases.map(\.name) == ["a"])
  }

  @Test func oversizedFileIsRefusedByTheConfiguredLimit() throws {
    let path = try fixture("dialects/repeated-testcases.xml")
    let options = JUnitOptions(limits: JUnitLimits(maxFileBytes: 100))
    let report = JUnitParser.parseFile(at: path, options: options)
    guard case .tooLarge(_, _, let limit) = report.error else {
      Issue.record("expected tooLarge, got \(String(describing: report.error))")
      return
    }
    #expect(limit == 100)
  }
}
