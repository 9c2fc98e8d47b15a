/// A problem with the command line, worded as swift-argument-parser words it.
///
/// The CLI prints it as `Error: <message>` followed by the command's usage
/// line on stderr, and exits with `EX_USAGE` (64).
public struct UsageError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The message without the `Error: ` prefix, for example
  /// `Unknown option '--frmat'. Did you mean '--format'?`.
  public var message: String
  /// The subcommand whose arguments were wrong, so the caller can print the
  /// right usage line.
  public var commandName: String

  /// Creates a usage error; also used by commands' own validation.
  public init(message: String, commandName: String) {
    self.message = message
    self.commandName = commandName
  }

  /// The message, without any prefix.
  public var description: String {
    message
  }
}
