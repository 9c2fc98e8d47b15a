import BridgeTestSupport
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
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

  /// With --keep, serve stays up for hooks sent by hand; its log must keep flowing (a pipe
  /// nobody reads fills at 64 KiB and would stall serve mid-request).
  @Test func keptServeAnswersManyHooksAndStopsCleanlyOnSIGTERM() async throws {
    let demo = try LongRunningChild.testbridge(["demo", "--keep"], environment: [:])
    // Should a check below throw, the demo is still told to stop (and it stops serve).
    var stopped = false
    defer { if !stopped { demo.signal(SIGTERM) } }
    let shown = try #require(await demo.waitForOutput(containing: "(Ctrl-C to stop)", timeout: .seconds(60)), "\(demo.stderr)")
    let hookText = try #require(shown.split(separator: " ").first { $0.hasPrefix("http://") && $0.hasSuffix("/hooks/jira") })
    let hook = try #require(URL(string: String(hookText)))
    // Each unsigned hook is refused with 401 and logged: 1,000 log lines are far more than a pipe holds.
    var refused = 0
    for _ in 0..<1000 {
      var request = URLRequest(url: hook)
      request.httpMethod = "POST"
      request.httpBody = Data("{}".utf8)
      request.timeoutInterval = 10
      let (_, response) = try await URLSession.shared.data(for: request)
      if (response as? HTTPURLResponse)?.statusCode == 401 { refused += 1 }
    }
    #expect(refused == 1000)
    demo.signal(SIGTERM)
    stopped = true
    let output = await demo.wait()
    #expect(output.status == 0, "\(output.stderr)")
    #expect(output.stdout.components(separatedBy: "serve: ").count > 1000)
    #expect(output.stdout.contains("serve: testbridge: stopped"))
  }

  /// serve must not outlive a demo killed outright (SIGKILL runs no clean-up): it
  /// reads the end of the pipe the demo held as its standard input, and stops.
  @Test func serveStopsWhenTheDemoIsKilled() async throws {
    let demo = try LongRunningChild.testbridge(["demo", "--keep"], environment: [:])
    var killed = false
    defer { if !killed { demo.signal(SIGKILL) } }
    let shown = try #require(await demo.waitForOutput(containing: "(Ctrl-C to stop)", timeout: .seconds(60)), "\(demo.stderr)")
    let hookText = try #require(shown.split(separator: " ").first { $0.hasPrefix("http://") && $0.hasSuffix("/hooks/jira") })
    let health = try #require(URL(string: String(hookText.dropLast("/hooks/jira".count)) + "/healthz"))
    #expect(await Self.answers(health), "serve should be up while the demo runs")
    demo.signal(SIGKILL)
    killed = true
    _ = await demo.wait()
    let stopped = await FaultInjectionTests.eventually({ await !Self.answers(health) }, timeout: .seconds(10))
    #expect(stopped, "serve was still answering 10 s after the demo was killed")
  }

  private static func answers(_ url: URL) async -> Bool {
    var request = URLRequest(url: url)
    request.timeoutInterval = 2
    guard let (_, response) = try? await URLSession.shared.data(for: request) else { return false }
    return (response as? HTTPURLResponse)?.statusCode == 200
  }
}
