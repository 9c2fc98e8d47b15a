import BridgeTestSupport
import Foundation
import Sandbox
import Testing

/// An opt-in timing of `trace` at sprint scale: 500 issues with 5,000 linked tests (ten each in
/// the issue property, one more from test_grep for every other issue) and a results file with
/// every test, over loopback. Run with TESTBRIDGE_TRACE_BENCH=1; it prints the wall time.
@Suite(.serialized) struct TraceBenchmarkTests {
  @Test(
    .enabled(
      if: ProcessInfo.processInfo.environment["TESTBRIDGE_TRACE_BENCH"] == "1",
      "a benchmark: set TESTBRIDGE_TRACE_BENCH=1 to run it"))
  func sprintOf500IssuesAnd5000Tests() async throws {
    let harness = try await TraceEndToEndTests.Harness.start(pageSize: 100)
    defer { Task { await harness.stop() } }
    func id(_ number: Int) -> String { String(format: "%08x", 0x1000_0000 + number) }
    var tests: [String] = []
    for issue in 1...500 {
      let ids = (0..<10).map { id(issue * 10 + $0) }
      await harness.jira.emulator.seedIssue(
        key: "BIG-\(issue)", summary: "Story \(issue)", status: issue % 3 == 0 ? "Done" : "To Do", sprints: [42],
        properties: ["shop.testomatio.tests": .array(ids.map { .string("@T\($0)") })])
      if issue % 2 == 0 {
        await harness.testomatio.emulator.seedTestGrep(type: "jira", id: "BIG-\(issue)", tests: ["@T\(id(100_000 + issue))"])
      }
      for (offset, test) in ids.enumerated() {
        let outcome = (issue + offset) % 37 == 0 ? "failed" : "passed"
        tests.append(
          #"{"name": "t\#(test)", "outcome": "\#(outcome)", "testomatio_id": "@T\#(test)", "jira": []}"#)
      }
    }
    try Data(("{\"tests\": [" + tests.joined(separator: ",\n") + "]}").utf8)
      .write(to: harness.directory.appendingPathComponent("big.json"))
    let started = Date()
    let output = try await harness.testbridge([
      "trace", "--jira-sprint", "42", "--results", "big.json", "--format", "json", "-o", "big-trace.json",
    ])
    let elapsed = Date().timeIntervalSince(started)
    #expect(output.status == 0, "\(output.stderr)")
    #expect(output.stdout.contains("500 of 500 issue(s) have tests (100%)"))
    print("trace benchmark: 500 issues, 5,250 linked tests, \(String(format: "%.2f", elapsed)) s")
    #expect(elapsed < 30)
  }
}
