import Foundation
import Runner

/// Entry point of the `testbridge` executable: dispatches to a subcommand and
/// is the only place that prints errors and picks exit codes.
public enum BridgeCLI {
  public static let version = "0.1.0"
  static let abstract = "Connect CI test runs to Testomat.io and Jira."

  /// Every subcommand, in the order `--help` lists them.
  static let commands: [any Command.Type] = [
    DemoCommand.self, ParseCommand.self, ReportCommand.self, RunCommand.self, ManualCommand.self,
    StartCommand.self, FinishCommand.self, LinkedTestsCommand.self, FlushCommand.self, DoctorCommand.self, TraceCommand.self,
    ServeCommand.self, SandboxCommand.self,
  ]

  /// Runs the process's command line and exits.
  public static func main() async -> Never {
    // A closed stdout (`testbridge parse … | head`) must end the write, not the process;
    // unlike SIG_IGN, the discarding handler is not inherited by the commands run.
    ProcessSignals.discardUntilExec(SIGPIPE)
    let stdout = FileDescriptorSink(descriptor: STDOUT_FILENO)
    let stderr = FileDescriptorSink(descriptor: STDERR_FILENO, unbuffered: true)
    let context = CommandContext(
      environment: ProcessInfo.processInfo.environment,
      workingDirectory: FileManager.default.currentDirectoryPath,
      stdout: stdout, stderr: stderr, stdoutIsTerminal: isatty(STDOUT_FILENO) == 1)
    let status = await run(Array(CommandLine.arguments.dropFirst()), context: context)
    stdout.flush()
    stderr.flush()
    exit(status)
  }

  /// Runs one command line in-process and returns its exit code.
  public static func run(_ arguments: [String], context: CommandContext) async -> Int32 {
    guard let first = arguments.first else {
      context.stdout.write(rootHelp())
      return ExitStatus.usage.rawValue
    }
    switch first {
    case "-h", "--help", "help":
      if arguments.count > 1, let command = command(named: arguments[1]) {
        context.stdout.write(HelpFormatter.help(for: command.spec))
      } else {
        context.stdout.write(rootHelp())
      }
      return ExitStatus.success.rawValue
    case "--version":
      context.stdout.write("testbridge \(version)\n")
      return ExitStatus.success.rawValue
    default:
      break
    }
    guard let command = command(named: first) else {
      var message = "Unknown command '\(first)'."
      if let suggestion = Suggestions.closest(to: first, among: commands.map { $0.spec.name }) {
        message += " Did you mean '\(suggestion)'?"
      }
      context.stderr.write("Error: \(message)\n\(rootUsage())")
      return ExitStatus.usage.rawValue
    }
    let spec = command.spec
    var parsed: ParsedArguments
    var context = context
    do {
      parsed = try ArgumentParser.parse(Array(arguments.dropFirst()), spec: spec, environment: context.environment)
      // A profile of --config replaces the standard variables; the line is then read again.
      if !parsed.helpRequested, spec.options.contains(where: { $0.long == "config" && $0.environment == ["TESTBRIDGE_CONFIG"] }) {
        switch try profileChoice(parsed, commandLine: Array(arguments.dropFirst()), spec: spec, context: context) {
        case .none:
          break
        case .chosen(let environment):
          context.environment = environment
          parsed = try ArgumentParser.parse(Array(arguments.dropFirst()), spec: spec, environment: environment)
        case .pending(let pending):
          context.pendingProfile = pending
        }
      }
    } catch {
      context.stderr.write("Error: \(error.message)\n\(HelpFormatter.usage(for: spec))\n  See 'testbridge \(spec.name) --help'.\n")
      return ExitStatus.usage.rawValue
    }
    if parsed.helpRequested {
      context.stdout.write(HelpFormatter.help(for: spec))
      return ExitStatus.success.rawValue
    }
    do {
      let status = try await command.run(parsed, context: context)
      return status.rawValue
    } catch {
      let error = error as? CLIError ?? CLIError("\(error)")
      if error.exitStatus == .usage {
        context.stderr.write("Error: \(error.message)\n\(HelpFormatter.usage(for: spec))\n")
      } else {
        context.error(error.message)
      }
      return error.exitStatus.rawValue
    }
  }

  static func command(named name: String) -> (any Command.Type)? {
    commands.first { $0.spec.name == name }
  }

  static func rootHelp() -> String {
    HelpFormatter.rootHelp(
      executable: "testbridge", abstract: abstract, commands: commands.map { $0.spec }, discussion: nil,
      options: [OptionSpec.flag("version", help: "Show the version.")])
  }

  static func rootUsage() -> String {
    "USAGE: testbridge <command> [options]\n  See 'testbridge --help'.\n"
  }
}
