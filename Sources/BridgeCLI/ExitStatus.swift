/// The exit codes testbridge uses (documented in the README).
///
/// A struct rather than an enum: `run` passes its command's own status through
/// (any code, 124 for a timeout, 127 for a missing command, 128+N for signal N).
public struct ExitStatus: RawRepresentable, Sendable, Hashable {
  public var rawValue: Int32

  public init(rawValue: Int32) {
    self.rawValue = rawValue
  }

  /// Everything worked and no test failed.
  public static let success = ExitStatus(rawValue: 0)
  /// Tests failed or errored, or testbridge itself failed.
  public static let failure = ExitStatus(rawValue: 1)
  /// A report was malformed or unreadable (the rest were still used).
  public static let reportProblem = ExitStatus(rawValue: 3)
  /// Results could not be delivered and were spooled for `testbridge flush`.
  public static let deliveryFailed = ExitStatus(rawValue: 4)
  /// The command line was wrong.
  public static let usage = ExitStatus(rawValue: 64)
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
