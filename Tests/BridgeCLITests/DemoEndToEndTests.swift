import BridgeTestSupport
import Foundation
import Testing

/// The README's first command: the whole loop on loopback, every hop printed.
@Suite(.serialized) struct DemoEndToEndTests {
  @Test func demoRunsTheWholeLoopAndExitsZero() async throws {
    let output = try await ChildProcess.testbridgeAsync(["demo"])
    #expect(output.status == 0, "\(output.stderr)")
    for hop in 1...6 { #expect(output.stdout.contains("==> \(hop)/6")) }
    #expect(output.stdout.contains("serve answered 202"))
    // serve is a child process configured through its environment: its own log is relayed,
    // and it shuts down cleanly on SIGTERM at the end.
    #expect(output.stdout.contains("(a process of its own) listening on http://127.0.0.1:"))
    #expect(output.stdout.contains("accepted (202): run "))
    #expect(output.stdout.contains("serve: testbridge: stopped"))
    #expect(output.stdout.contains("grep = T1a2b3c4d|T5e6f7a8b|T9c0d1e2f"))
    #expect(output.stdout.contains("(3 results delivered, finished)"))
    #expect(output.stdout.contains("2 passed, 1 failed"))
    #expect(output.stdout.contains("Jira SHOP-101 link: \"testbridge: 2 passed, 1 failed · Jira SHOP-101\""))
    #expect(output.stdout.contains("Demo finished: every hop worked."))
    #expect(!output.stdout.contains("tstmt_demo") && !output.stdout.contains("jira-sandbox-token"))
  }
}
