import BridgeTestSupport
import Foundation
import JUnit
import Testing

@testable import BridgeCLI

/// The demo's sample suite is a real shell script writing real JUnit XML.
@Suite struct DemoSuiteTests {
  func runSuite(grep: String?) async throws -> (ProcessOutput, ParsedReport) {
    let directory = try ProjectPaths.temporaryDirectory("demo-suite")
    let script = directory.appendingPathComponent("suite.sh")
    try Data(DemoSuite.script.utf8).write(to: script)
    var environment = ["PATH": "/usr/bin:/bin"]
    if let grep { environment["TESTBRIDGE_GREP"] = grep }
    let report = directory.appendingPathComponent("out/junit.xml")
    let output = try await ChildProcess.runAsync(
      URL(fileURLWithPath: "/bin/sh"), [script.path, report.path], environment: environment)
    return (output, JUnitParser.parseFile(at: report.path))
  }

  @Test func selectedTestsRunAndTheReportParses() async throws {
    let (output, report) = try await runSuite(grep: "T1a2b3c4d|T5e6f7a8b")
    #expect(output.status == 1)
    #expect(report.error == nil)
    #expect(report.testcases.map(\.testomatioID) == ["1a2b3c4d", "5e6f7a8b"])
    #expect(report.testcases.map(\.status) == [.passed, .failed])
    #expect(report.testcases.allSatisfy { $0.jiraKeys == ["SHOP-101"] })
    #expect(output.stdout.contains("2 tests run"))
  }

  @Test func anEmptyGrepRunsEverything() async throws {
    let (_, report) = try await runSuite(grep: nil)
    #expect(report.testcases.count == DemoSuite.tests.count)
  }
}
