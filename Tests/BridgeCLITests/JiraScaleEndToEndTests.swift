import BridgeTestSupport
import Foundation
import Sandbox
import Testing

/// A run linked to a thousand Jira issues, delivered by the real binary over real HTTP to the
/// Jira emulator, which enforces Jira Cloud's burst and per-issue write limits.
@Suite(.serialized) struct JiraScaleEndToEndTests {
  @Test func aRunLinkedToAThousandIssuesUpdatesEveryOneWithoutTrippingJirasLimits() async throws {
    let harness = try await JiraEndToEndTests.Harness.start()
    defer { Task { await harness.stop() } }
    let keys = (1...1000).map { "LOAD-\($0)" }
    for key in keys { await harness.jira.emulator.seedIssue(key: key) }
    var report = "<testsuites><testsuite name=\"load\">\n"
    for (index, key) in keys.enumerated() {
      let failure = index % 100 == 0 ? "<failure message=\"boom\"/>" : ""
      report += "<testcase classname=\"load.Story\" name=\"covers @\(key)\" time=\"0.01\">\(failure)</testcase>\n"
    }
    report += "</testsuite></testsuites>\n"
    try report.write(to: harness.directory.appendingPathComponent("load.xml"), atomically: true, encoding: .utf8)

    let output = try await harness.testbridge(["report", "--title", "Load", "load.xml"])
    #expect(output.status == 1, "ten tests failed: \(output.stderr)")
    let state = await harness.state()
    #expect(state.rateLimitsEnabled)
    let tripped = state.rateLimited.count
    #expect(tripped == 0, "Jira's limits were tripped \(tripped) time(s), first: \(state.rateLimited.first.map(\.path) ?? "")")
    #expect(state.refused.isEmpty)
    var missing: [String] = []
    for (index, key) in keys.enumerated() {
      let issue = state.issue(key)
      let runs = JiraEndToEndTests.history(issue)
      guard issue?.remoteLinks.count == 1, runs.count == 1 else {
        missing.append(key)
        continue
      }
      let expected = index % 100 == 0 ? "testbridge: 0 passed, 1 failed · Load" : "testbridge: 1 passed · Load"
      #expect(issue?.remoteLinks.first?.title == expected, "\(key)")
    }
    #expect(missing.isEmpty, "\(missing.count) issue(s) not updated, first: \(missing.prefix(5))")
    let spooled = (try? FileManager.default.contentsOfDirectory(atPath: harness.spool.path)) ?? []
    #expect(spooled.filter { $0.hasPrefix("jira") }.isEmpty, "nothing left for a flush: \(spooled)")
  }
}
