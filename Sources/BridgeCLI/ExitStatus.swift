/// The exit codes testbridge uses (documented in the README).
public enum ExitStatus: Int32, Sendable {
  /// Everything worked and no test failed.
  case success = 0
  /// Tests failed or errored, or testbridge itself failed.
  case failure = 1
  /// A report was malformed or unreadable (the rest were still used).
  case reportProblem = 3
  /// Results could not be delivered and were spooled for `testbridge flush`.
  case deliveryFailed = 4
  /// The command line was wrong.
  case usage = 64
}

/// The CLI's error: a message for stderr and the exit status it leads to.
public struct CLIError: Error, Sendable, CustomStringConvertible {
  public var message: String
  public var exitStatus: ExitStatus

  public init(_ message: String, exitStatus: ExitStatus = .failure) {
    self.message = message
    self.exitStatus = exitStatus
  }

  public var description: String { message }
}
