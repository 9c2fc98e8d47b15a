import Dispatch
import Foundation
import HTTPServer
import Sandbox

/// `testbridge sandbox`: local emulators to try testbridge offline.
struct SandboxCommand: Command {
  static let spec = CommandSpec(
    name: "sandbox",
    abstract: "Serve local emulators of the Testomat.io reporter API on 127.0.0.1 until interrupted.",
    discussion: """
      Point testbridge at it with TESTOMATIO_URL=<printed URL> and TESTOMATIO=<printed key>. \
      GET /_sandbox/state shows what it received; POST /_sandbox/faults injects failures \
      (status codes, delays, dropped connections); POST /_sandbox/reset clears it.
      """,
    options: [
      OptionSpec("port", valueName: "N", help: "Port on 127.0.0.1 (0 picks a free one).", defaultValue: "0"),
      OptionSpec("api-key", valueName: "KEY", help: "The API key the emulator accepts.", defaultValue: "tstmt_sandbox"),
    ]
  )

  static func run(_ arguments: ParsedArguments, context: CommandContext) async throws -> ExitStatus {
    let text = arguments.value("port") ?? "0"
    guard let port = Int(text), (0...65_535).contains(port) else {
      throw CLIError("The value '\(text)' is invalid for '--port <N>': expected 0-65535", exitStatus: .usage)
    }
    let apiKey = arguments.value("api-key") ?? "tstmt_sandbox"
    let server = SandboxServer(
      emulator: TestomatioEmulator(apiKey: apiKey), configuration: ServerConfiguration(port: port))
    let url: URL
    do {
      url = try await server.start()
    } catch {
      throw CLIError("cannot start the sandbox: \(error)")
    }
    context.stdout.write("Testomat.io sandbox listening on \(url.absoluteString)\n")
    context.stdout.write("  export TESTOMATIO_URL=\(url.absoluteString) TESTOMATIO=\(apiKey)\n")
    context.stdout.write("  state: \(url.absoluteString)/_sandbox/state   (Ctrl-C to stop)\n")
    context.stdout.flush()
    let signal = await ShutdownSignal.wait()
    context.stderr.write("testbridge: \(signal), stopping the sandbox\n")
    await server.stop(graceful: true)
    return .success
  }
}

/// Waits for SIGINT or SIGTERM (used by long-running commands).
enum ShutdownSignal {
  static func wait() async -> String {
    await withCheckedContinuation { continuation in
      let queue = DispatchQueue(label: "testbridge.signals")
      let once = OnceFlag()
      var sources: [any DispatchSourceSignal] = []
      for (number, name) in [(SIGINT, "interrupted"), (SIGTERM, "terminated")] {
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
        source.setEventHandler {
          if once.claim() {
            for source in sources { source.cancel() }
            continuation.resume(returning: name)
          }
        }
        sources.append(source)
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
