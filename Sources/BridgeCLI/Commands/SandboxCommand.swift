import Dispatch
import Foundation
import HTTPServer
import Sandbox

/// `testbridge sandbox`: local emulators to try testbridge offline.
struct SandboxCommand: Command {
  static let spec = CommandSpec(
    name: "sandbox",
    abstract: "Serve local emulators of Testomat.io, Jira and GitHub/GitLab on 127.0.0.1 until interrupted.",
    discussion: """
      Prints the environment that points testbridge at them. Testomat.io: GET /_sandbox/state shows \
      what it received, POST /_sandbox/faults injects failures (status codes, delays, dropped \
      connections), POST /_sandbox/seed and /_sandbox/reset. Jira: the same under /_sandbox/jira/ \
      (seed issues with POST /_sandbox/jira/seed). CI: /_sandbox/ci/state lists the dispatches.
      """,
    options: [
      OptionSpec("port", valueName: "N", help: "Port of the Testomat.io emulator on 127.0.0.1 (0 picks a free one).", defaultValue: "0"),
      OptionSpec("jira-port", valueName: "N", help: "Port of the Jira emulator.", defaultValue: "0"),
      OptionSpec("ci-port", valueName: "N", help: "Port of the GitHub and GitLab emulators.", defaultValue: "0"),
      OptionSpec("api-key", valueName: "KEY", help: "The API key the emulator accepts.", defaultValue: "tstmt_sandbox"),
      OptionSpec(
        "jira-write", valueName: "LEVEL",
        help: "The widest Jira write the emulator accepts (properties, links or comments); others are refused and recorded.",
        defaultValue: "comments"),
    ]
  )

  static func run(_ arguments: ParsedArguments, context: CommandContext) async throws -> ExitStatus {
    func port(_ name: String) throws(CLIError) -> Int {
      let text = arguments.value(name) ?? "0"
      guard let port = Int(text), (0...65_535).contains(port) else {
        throw CLIError("The value '\(text)' is invalid for '--\(name) <N>': expected 0-65535", exitStatus: .usage)
      }
      return port
    }
    let apiKey = arguments.value("api-key") ?? "tstmt_sandbox"
    let levelText = arguments.value("jira-write") ?? "comments"
    guard let writeLevel = JiraSandboxWriteLevel(rawValue: levelText.lowercased()) else {
      throw CLIError(
        "The value '\(levelText)' is invalid for '--jira-write <LEVEL>': expected properties, links or comments",
        exitStatus: .usage)
    }
    let testomatio = SandboxServer(
      emulator: TestomatioEmulator(apiKey: apiKey), configuration: ServerConfiguration(port: try port("port")))
    let jira = JiraSandboxServer(configuration: ServerConfiguration(port: try port("jira-port")))
    await jira.emulator.setWriteLevel(writeLevel)
    let ci = CISandboxServer(configuration: ServerConfiguration(port: try port("ci-port")))
    let urls: (URL, URL, URL)
    do {
      urls = (try await testomatio.start(), try await jira.start(), try await ci.start())
    } catch {
      throw CLIError("cannot start the sandbox: \(error)")
    }
    let (url, jiraURL, ciURL) = urls
    let (jiraEmail, jiraToken) = (await jira.emulator.email, await jira.emulator.apiToken)
    let (repository, githubToken) = (await ci.github.repository, await ci.github.token)
    let gitlabToken = await ci.gitlab.triggerToken
    context.stdout.write("Testomat.io sandbox listening on \(url.absoluteString)\n")
    context.stdout.write("Jira sandbox listening on \(jiraURL.absoluteString)\n")
    context.stdout.write("GitHub and GitLab sandbox listening on \(ciURL.absoluteString)\n\n")
    context.stdout.write("  export TESTOMATIO_URL=\(url.absoluteString) TESTOMATIO=\(apiKey)\n")
    context.stdout.write(
      "  export JIRA_URL=\(jiraURL.absoluteString) JIRA_DEPLOYMENT=cloud JIRA_EMAIL=\(jiraEmail) JIRA_API_TOKEN=\(jiraToken)\n")
    context.stdout.write(
      "  export GITHUB_API_URL=\(ciURL.absoluteString) GITHUB_REPOSITORY=\(repository) GITHUB_TOKEN=\(githubToken) TESTBRIDGE_GITHUB_WORKFLOW=testbridge.yml\n")
    context.stdout.write(
      "  export GITLAB_URL=\(ciURL.absoluteString) GITLAB_PROJECT_ID=42 GITLAB_TRIGGER_TOKEN=\(gitlabToken)\n")
    context.stdout.write("  (sandbox credentials only; Ctrl-C to stop)\n")
    context.stdout.flush()
    let signal = await ShutdownSignal.wait()
    context.stderr.write("testbridge: \(signal), stopping the sandbox\n")
    await testomatio.stop(graceful: true)
    await jira.stop(graceful: true)
    await ci.stop(graceful: true)
    return .success
  }
}

/// Waits for SIGINT or SIGTERM (used by long-running commands).
enum ShutdownSignal {
  /// Returns how the wait ended. With `endOfInput`, standard input reaching its end
  /// (every writer of the pipe gone, a supervisor killed included) ends it too.
  static func wait(endOfInput: Bool = false) async -> String {
    await withCheckedContinuation { continuation in
      let queue = DispatchQueue(label: "testbridge.signals")
      let once = OnceFlag()
      var sources: [any DispatchSourceProtocol] = []
      func finish(_ reason: String) {
        guard once.claim() else { return }
        for source in sources { source.cancel() }
        continuation.resume(returning: reason)
      }
      for (number, name) in [(SIGINT, "interrupted"), (SIGTERM, "terminated")] {
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
        source.setEventHandler { finish(name) }
        sources.append(source)
      }
      if endOfInput {
        let input = DispatchSource.makeReadSource(fileDescriptor: STDIN_FILENO, queue: queue)
        input.setEventHandler {
          // Whatever is written is read and dropped; only the end counts.
          var buffer = [UInt8](repeating: 0, count: 4096)
          let count = buffer.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress, $0.count) }
          if count == 0 || (count < 0 && errno != EINTR && errno != EAGAIN) { finish("standard input closed") }
        }
        sources.append(input)
      }
      for source in sources { source.resume() }
    }
  }

  private final class OnceFlag: @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var claimed = false
    func claim() -> Bool {
      lock.lock()
      defer { lock.unlock() }
      if claimed { return false }
      claimed = true
      return true
    }
  }
}
