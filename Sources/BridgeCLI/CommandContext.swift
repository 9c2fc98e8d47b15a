import Foundation

/// Everything a command may touch of the outside world, built once by the composition root.
public struct CommandContext: Sendable {
  public var environment: [String: String]
  public var workingDirectory: String
  public var stdout: any TextSink
  public var stderr: any TextSink
  /// True when stdout is a terminal (progress and colour are for people only).
  public var stdoutIsTerminal: Bool
  /// Set when `--config` has several profiles and the command chooses one itself (from its
  /// results, or per webhook).
  var pendingProfile: PendingProfile?

  public init(
    environment: [String: String], workingDirectory: String, stdout: any TextSink, stderr: any TextSink,
    stdoutIsTerminal: Bool = false
  ) {
    self.environment = environment
    self.workingDirectory = workingDirectory
    self.stdout = stdout
    self.stderr = stderr
    self.stdoutIsTerminal = stdoutIsTerminal
  }

  /// Prints `warning: …` on stderr.
  public func warn(_ message: String) { stderr.write("warning: \(message)\n") }

  /// Prints `error: …` on stderr.
  public func error(_ message: String) { stderr.write("error: \(message)\n") }

  /// Makes a relative path absolute against the working directory.
  public func absolutePath(_ path: String) -> String {
    path.hasPrefix("/") ? path : (workingDirectory as NSString).appendingPathComponent(path)
  }
}

/// A subcommand: its spec (options, help) and what it does.
public protocol Command: Sendable {
  static var spec: CommandSpec { get }
  /// Runs the command; returns the exit status or throws a ``CLIError``.
  /// (Untyped `throws`: typed throws through this existential crashed the 6.3 compiler.)
  static func run(_ arguments: ParsedArguments, context: CommandContext) async throws -> ExitStatus
}
