import BridgeCore
import BridgeHTTP
import Foundation
import Sandbox
import Trigger

/// `testbridge demo`: the whole loop on loopback, with no account and no network.
///
/// Local emulators of Jira, Testomat.io and GitHub; `testbridge serve`, started as
/// a child process and configured through its environment, receiving a signed
/// webhook for a sample ticket; the CI job played locally by running a bundled
/// sample suite through `testbridge run` with the inputs CI would get; then the
/// results in the Testomat.io emulator and the link on the ticket in the Jira
/// emulator. Every hop is printed.
struct DemoCommand: Command {
  static let spec = CommandSpec(
    name: "demo",
    abstract: "Run the whole loop locally: Jira ticket → serve → CI → Testomat.io → link on the ticket.",
    discussion: """
      Everything runs on 127.0.0.1 against built-in emulators of Jira, Testomat.io and GitHub; \
      nothing leaves this machine and no account is needed. The sample suite has one failing \
      test on purpose, so the results show what a failure looks like; the demo itself exits 0 \
      when every hop worked.
      """,
    options: [.flag("keep", help: "Keep the emulators and serve running after the demo (Ctrl-C to stop) to explore them.")]
  )

  static let ticket = "SHOP-101"
  static let secret = "demo-webhook-secret"
  static let apiKey = "tstmt_demo"

  static func run(_ arguments: ParsedArguments, context: CommandContext) async throws -> ExitStatus {
    let out = context.stdout
    func hop(_ number: Int, _ text: String) {
      out.write("\n==> \(number)/6  \(text)\n")
      out.flush()
    }

    // Emulators.
    let testomatio = SandboxServer(emulator: TestomatioEmulator(apiKey: apiKey))
    let jira = JiraSandboxServer()
    let ci = CISandboxServer()
    let testomatioURL: URL
    let jiraURL: URL
    let ciURL: URL
    do {
      testomatioURL = try await testomatio.start()
      jiraURL = try await jira.start()
      ciURL = try await ci.start()
    } catch {
      throw CLIError("cannot start the local emulators: \(error)")
    }
    await testomatio.emulator.seedTestGrep(type: "jira", id: ticket, tests: DemoSuite.tests.filter { $0.jira == ticket }.map(\.id))
    _ = await jira.emulator.seedIssue(key: ticket, summary: "Checkout applies discount codes", status: "In Progress")
    _ = await jira.emulator.seedIssue(key: "SHOP-102", summary: "Invoices show VAT", status: "Done")
    hop(1, "emulators on loopback: Testomat.io \(testomatioURL.absoluteString), Jira \(jiraURL.absoluteString), GitHub \(ciURL.absoluteString)")
    out.write("    Jira ticket \(ticket) \"Checkout applies discount codes\"; Testomat.io links \(DemoSuite.tests.filter { $0.jira == ticket }.count) tests to it\n")

    // serve, as its own process, configured the way an operator configures it.
    let serve = try DemoServeProcess(
      executable: selfExecutable(), arguments: ["serve", "--listen", "127.0.0.1:0", "--stop-when-stdin-closes"],
      environment: [
        "PATH": context.environment["PATH"] ?? "/usr/bin:/bin",
        "TESTOMATIO": apiKey, "TESTOMATIO_URL": testomatioURL.absoluteString,
        "TESTBRIDGE_WEBHOOK_SECRET": secret,
        "GITHUB_API_URL": ciURL.absoluteString, "GITHUB_REPOSITORY": "sandbox/tests", "GITHUB_TOKEN": "ghs_sandbox_token",
        "TESTBRIDGE_GITHUB_WORKFLOW": "testbridge.yml", "TESTBRIDGE_GITHUB_REF": "main",
      ])
    do {
      try await followTheTicket(
        serve: serve, testomatio: testomatio, jira: jira, ci: ci, keep: arguments.flag("keep"), context: context,
        hop: hop)
    } catch {
      serve.stop()
      await stopEmulators(testomatio, jira, ci)
      throw error
    }
    out.write("\nDemo finished: every hop worked.\n")
    return .success
  }

  static func stopEmulators(_ testomatio: SandboxServer, _ jira: JiraSandboxServer, _ ci: CISandboxServer) async {
    await testomatio.stop(graceful: false)
    await jira.stop(graceful: false)
    await ci.stop(graceful: false)
  }

  /// Hops 2 to 6: the webhook reaches serve, serve starts CI, the CI job runs and
  /// reports, and the results are read back from the emulators.
  static func followTheTicket(
    serve: DemoServeProcess, testomatio: SandboxServer, jira: JiraSandboxServer, ci: CISandboxServer, keep: Bool,
    context: CommandContext, hop: (Int, String) -> Void
  ) async throws {
    let out = context.stdout
    func relayServeLog() {
      for line in serve.drainLog() { out.write("    serve: \(line)\n") }
    }
    guard let hookURL = serve.hookURL, let testomatioURL = testomatio.baseURL, let jiraURL = jira.baseURL,
      let ciURL = ci.baseURL
    else { throw CLIError("the local emulators stopped") }
    hop(2, "testbridge serve --listen 127.0.0.1:0 (a process of its own) listening on \(hookURL.absoluteString)")

    // The ticket moves to "Ready for QA": Jira sends a signed webhook.
    let body = Array(
      #"{"webhookEvent":"jira:issue_updated","issue":{"key":"SHOP-101","fields":{"project":{"key":"SHOP"},"labels":[],"status":{"name":"Ready for QA"}}},"changelog":{"items":[{"field":"status","fromString":"In Progress","toString":"Ready for QA"}]}}"#
        .utf8)
    var mac = HMACSHA256(key: Array(secret.utf8))
    mac.update(body)
    let signature = "sha256=" + Hex.encode(mac.finalize())
    hop(3, "Jira: \(ticket) moved to Ready for QA, webhook signed with X-Hub-Signature")
    let reply: HTTPResponse
    do {
      reply = try await URLSessionTransport().send(
        HTTPRequest(
          method: .POST, url: hookURL,
          headers: ["Content-Type": "application/json", "X-Hub-Signature": signature, "X-Atlassian-Webhook-Identifier": "demo-1"],
          body: body))
    } catch {
      throw CLIError("the webhook did not reach serve: \(error)")
    }
    relayServeLog()
    out.write("    serve answered \(reply.status) \(String(decoding: reply.body, as: UTF8.self))\n")
    guard reply.status == 202, let dispatch = await ci.github.dispatches().first, let runID = dispatch.inputs["run"] else {
      throw CLIError("serve did not start CI (HTTP \(reply.status))")
    }
    hop(4, "GitHub received workflow_dispatch of \(dispatch.workflow ?? "?") on \(dispatch.ref ?? "?") with inputs:")
    for (name, value) in dispatch.inputs.sorted(by: { $0.key < $1.key }) { out.write("    \(name) = \(value)\n") }

    // The CI job, played locally: `testbridge run` with what the workflow would pass.
    let workspace = FileManager.default.temporaryDirectory.appendingPathComponent("testbridge-demo-\(ProcessInfo.processInfo.processIdentifier)")
    defer { try? FileManager.default.removeItem(at: workspace) }
    do {
      try FileManager.default.createDirectory(at: workspace, withIntermediateDirectories: true)
      try Data(DemoSuite.script.utf8).write(to: workspace.appendingPathComponent("suite.sh"))
    } catch {
      throw CLIError("cannot prepare the demo workspace: \(error.localizedDescription)")
    }
    hop(5, "CI job (played locally): testbridge run -- sh suite.sh, with TESTOMATIO_RUN=\(runID) and the grep")
    var environment = [
      "PATH": context.environment["PATH"] ?? "/usr/bin:/bin",
      "TESTOMATIO": apiKey, "TESTOMATIO_URL": testomatioURL.absoluteString, "TESTOMATIO_RUN": runID,
      "TESTOMATIO_JIRA_ID": dispatch.inputs["jira"] ?? ticket, "TESTBRIDGE_GREP": dispatch.inputs["grep"] ?? "",
      "JIRA_URL": jiraURL.absoluteString, "JIRA_EMAIL": "bridge@example.com", "JIRA_API_TOKEN": "jira-sandbox-token",
      "TESTBRIDGE_SPOOL_DIR": workspace.appendingPathComponent("spool").path,
      "JIRA_DEPLOYMENT": "cloud",
    ]
    environment["TESTOMATIO_TITLE"] = nil
    let job = try await runChild(
      executable: selfExecutable(),
      arguments: ["run", "--jira-link-key", "Jira \(ticket)", "--junit", "reports/*.xml", "--", "/bin/sh", "suite.sh", "reports/junit.xml"],
      environment: environment, directory: workspace, output: out)
    out.write("    (the job exited \(job); the sample's failing test is on purpose)\n")

    hop(6, "results")
    let state = await testomatio.emulator.state()
    if let run = state.run(runID) {
      let passed = run.results(withStatus: "passed").count
      let failed = run.results(withStatus: "failed").count
      out.write("    Testomat.io run \(run.uid) (\(run.finished ? "finished" : "open"), jira \(run.jiraID ?? "-")): \(passed) passed, \(failed) failed\n")
      out.write("    \(run.url)\n")
    } else {
      throw CLIError("the run \(runID) is missing from the Testomat.io emulator")
    }
    let issue = await jira.emulator.state().issue(ticket)
    let links = issue?.remoteLinks ?? []
    for link in links {
      out.write("    Jira \(ticket) link: \"\(link.title ?? "?")\"\(link.resolved == true ? " (resolved)" : "") → \(link.url ?? "?")\n")
    }
    guard !links.isEmpty else { throw CLIError("the Jira emulator shows no link on \(ticket)") }
    if let history = issue?.properties["testbridge.runs"] {
      out.write("    Jira \(ticket) property testbridge.runs: \(history["runs"]?.arrayValue?.count ?? 0) run(s) recorded\n")
    }

    if keep {
      out.write(
        "\nEmulators and serve kept running: Testomat.io \(testomatioURL.absoluteString)/_sandbox/state, Jira \(jiraURL.absoluteString)/_sandbox/jira/state, GitHub \(ciURL.absoluteString)/_sandbox/ci/state, serve \(hookURL.absoluteString) (Ctrl-C to stop)\n"
      )
      out.flush()
      serve.relayContinuously(to: out)
      _ = await ShutdownSignal.wait()
      serve.stopRelaying()
    }
    let serveStatus = serve.stop()
    relayServeLog()
    await stopEmulators(testomatio, jira, ci)
    guard serveStatus == 0 else { throw CLIError("testbridge serve exited with status \(serveStatus) when stopped") }
  }

  /// This executable, so the CI job runs the same testbridge.
  static func selfExecutable() -> String {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
  }

  /// A child of this testbridge with the given output pipes, and no input unless `input` is given.
  static func childProcess(
    _ executable: String, _ arguments: [String], environment: [String: String], output: Pipe, log: Pipe,
    input: Pipe? = nil
  ) -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.environment = environment
    process.standardOutput = output
    process.standardError = log
    process.standardInput = input ?? FileHandle.nullDevice
    return process
  }

  /// Runs the CI job, relaying its output indented; returns its exit code.
  static func runChild(
    executable: String, arguments: [String], environment: [String: String], directory: URL, output: any TextSink
  ) async throws(CLIError) -> Int32 {
    let pipe = Pipe()
    let process = childProcess(executable, arguments, environment: environment, output: pipe, log: pipe)
    process.currentDirectoryURL = directory
    do {
      try process.run()
    } catch {
      throw CLIError("cannot start the CI job: \(error.localizedDescription)")
    }
    return await withCheckedContinuation { continuation in
      Thread.detachNewThread {
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false) {
          output.write("    | \(line)\n")
        }
        process.waitUntilExit()
        continuation.resume(returning: process.terminationStatus)
      }
    }
  }
}
