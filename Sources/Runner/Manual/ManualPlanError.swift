/// What went wrong reading a manual plan, an answers file or a progress file, or running `manual`.
public enum ManualPlanError: Error, Sendable, Equatable, CustomStringConvertible {
  /// A plan or answers file breaks a rule at a line.
  case invalid(path: String, line: Int, message: String)
  /// A file could not be read or written, or is not what it should be.
  case file(path: String, reason: String)
  /// There is nobody to ask: standard input is not a terminal and no answers were given.
  case notInteractive

  public var description: String {
    switch self {
    case .invalid(let path, let line, let message): return "\(path):\(line): \(message)"
    case .file(let path, let reason): return "'\(path)': \(reason)"
    case .notInteractive:
      return "standard input is not a terminal and no answers file was given: "
        + "run 'testbridge manual' in a terminal or pass the answers with '--answers FILE'"
    }
  }
}
