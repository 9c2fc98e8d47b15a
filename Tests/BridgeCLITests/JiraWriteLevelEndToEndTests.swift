import BridgeHTTP
import BridgeTestSupport
import Foundation
import Jira
import Sandbox
import Testing

/// The Jira emulator set to the same write level as testbridge's `--jira-write`: every level
/// runs without a single refusal, and a narrower emulator catches (refuses and records) what a
/// wider testbridge sends, so the emulator's record would show a guard that let too much out.
@Suite(.serialized) struct JiraWriteLevelEndToEndTests {
  static let apiKey = "tstmt_write_level_secret_3c9e"
  static let apiToken = "jira-token-write-level-77d1"
  static let email = "levels@example.com"

  static let report = """
    <?xml version="1.0" encoding="UTF-8"?>
    <testsuite name="smoke">
      <testcase classname="shop.Smoke" name="home page @LVL-1" time="0.1"/>
      <testcase classname="shop.Smoke" name="login @LVL-2" time="0.1"/>
    </testsuite>
    """

  func withSandboxes(
    _ body: (JiraSandboxServer, [String: String], URL) async throws -> Void
  ) async throws {
    let testomatio = SandboxServer(emulator: TestomatioEmulator(apiKey: Self.apiKey))
    let testomatioURL = try await testomatio.start()
    let jira = JiraSandboxServer(emulator: JiraEmulator(email: Self.email, apiToken: Self.apiToken))
    let jiraURL = try await jira.start()
    let directory = try ProjectPaths.temporaryDirectory("jira-levels")
    try Self.report.write(to: directory.appendingPathComponent("smoke.xml"), atomically: true, encoding: .utf8)
    for key in ["LVL-1", "LVL-2"] { await jira.emulator.seedIssue(key: key) }
    let environment = [
      "JIRA_URL": jiraURL.absoluteString, "JIRA_EMAIL": Self.email, "JIRA_API_TOKEN": Self.apiToken,
      "TESTOMATIO": Self.apiKey, "TESTOMATIO_URL": testomatioURL.absoluteString,
      "TESTBRIDGE_SPOOL_DIR": directory.appendingPathComponent("spool").path,
    ]
    do {
      try await body(jira, environment, directory)
    } catch {
      await testomatio.stop(graceful: false)
      await jira.stop(graceful: false)
      try? FileManager.default.removeItem(at: directory)
      throw error
    }
    await testomatio.stop(graceful: false)
    await jira.stop(graceful: false)
    try? FileManager.default.removeItem(at: directory)
  }

  @Test(arguments: [JiraSandboxWriteLevel.properties, .links, .comments])
  func eachLevelStaysInsideAnEmulatorAtTheSameLevel(_ level: JiraSandboxWriteLevel) async throws {
    try await withSandboxes { jira, environment, directory in
      await jira.emulator.setWriteLevel(level)
      var arguments = ["report", "--title", "Nightly", "--jira-write", level.rawValue, "smoke.xml"]
      if level == .comments { arguments.insert("--jira-comment", at: 1) }
      let output = try await ChildProcess.testbridgeAsync(arguments, environment: environment, directory: directory)
      #expect(output.status == 0, "\(output.stderr)")
      #expect(!output.stdout.contains(Self.apiToken) && !output.stderr.contains(Self.apiToken))
      let state = await jira.emulator.state()
      #expect(state.writeLevel == level)
      #expect(state.refused.isEmpty, "\(state.refused)")
      for key in ["LVL-1", "LVL-2"] {
        let issue = try #require(state.issue(key))
        #expect(issue.propertyWrites == 1, "\(key)")
        #expect(issue.remoteLinks.count == (level >= .links ? 1 : 0), "\(key)")
        #expect(issue.comments.count == (level == .comments ? 1 : 0), "\(key)")
      }
      #expect(state.requests.allSatisfy { $0.path.hasPrefix("/rest/api/3/") })
    }
  }

  /// testbridge at `links` against an emulator at `properties`: the remote links are refused
  /// and recorded (the emulator catches a write its level does not allow), the history
  /// property still goes out, and the test outcome still decides the exit status.
  @Test func aNarrowerEmulatorRefusesAndRecordsTheWiderWrites() async throws {
    try await withSandboxes { jira, environment, directory in
      await jira.emulator.setWriteLevel(.properties)
      let output = try await ChildProcess.testbridgeAsync(
        ["report", "--title", "Nightly", "--jira-write", "links", "smoke.xml"], environment: environment,
        directory: directory)
      #expect(output.status == 0, "\(output.stderr)")
      let state = await jira.emulator.state()
      let refusedLinks = state.refused.filter { $0.method == "POST" && $0.path.hasSuffix("/remotelink") }
      #expect(Set(refusedLinks.map(\.path)) == ["/rest/api/3/issue/LVL-1/remotelink", "/rest/api/3/issue/LVL-2/remotelink"])
      #expect(refusedLinks.allSatisfy { $0.reason.contains("needs write level 'links'") })
      #expect(state.issues.allSatisfy { $0.remoteLinks.isEmpty })
      #expect(state.requests.filter(\.refused).allSatisfy { $0.status == 403 })
    }
  }

  /// `testbridge sandbox --jira-write LEVEL` serves the Jira emulator at that level.
  @Test func theSandboxCommandTakesTheWriteLevel() async throws {
    let sandbox = try LongRunningChild.testbridge(["sandbox", "--jira-write", "properties"], environment: [:])
    let printed = try #require(await sandbox.waitForOutput(containing: "GITLAB_URL"), "\(sandbox.stderr)")
    let line = try #require(printed.split(separator: "\n").first { $0.hasPrefix("Jira sandbox listening on ") })
    let base = String(line.dropFirst("Jira sandbox listening on ".count))
    let transport = URLSessionTransport(defaultTimeout: 10)
    defer { transport.invalidate() }
    let reply = try await transport.send(
      HTTPRequest(method: .GET, url: try #require(URL(string: base + "/_sandbox/jira/state"))))
    let state = try JSONDecoder().decode(JiraSandboxState.self, from: Data(reply.body))
    #expect(state.writeLevel == .properties)
    sandbox.signal(SIGTERM)
    #expect(await sandbox.wait().status == 0)

    let invalid = try await ChildProcess.testbridgeAsync(["sandbox", "--jira-write", "everything"], environment: [:])
    #expect(invalid.status == 64)
    #expect(invalid.stderr.contains("'everything' is invalid for '--jira-write <LEVEL>'"))
  }
}
