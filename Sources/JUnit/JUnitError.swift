/// Why a report could not be read completely. Every case names the file.
public enum JUnitError: Error, Sendable, Hashable, CustomStringConvertible {
  /// The file could not be opened or read.
  case unreadable(path: String, reason: String)
  /// The file is not well-formed XML (truncated, empty, not XML); line and column are 1-based.
  case malformed(path: String, line: Int, column: Int, reason: String)
  /// Well-formed XML whose root is not `<testsuites>` or `<testsuite>`.
  case notJUnit(path: String, rootElement: String)
  /// The report declares or references entities (XXE, billion laughs); refused unread.
  case entitiesRefused(path: String, line: Int, column: Int, detail: String)
  /// The file is larger than the configured limit.
  case tooLarge(path: String, bytes: Int64, limit: Int64)

  public var path: String {
    switch self {
    case .unreadable(let path, _), .malformed(let path, _, _, _), .notJUnit(let path, _),
      .entitiesRefused(let path, _, _, _), .tooLarge(let path, _, _):
      return path
    }
  }

  public var description: String {
    switch self {
    case .unreadable(let path, let reason):
      return "cannot read '\(path)': \(reason)"
    case .malformed(let path, let line, let column, let reason):
      return "\(path):\(line):\(column): malformed XML: \(reason)"
    case .notJUnit(let path, let root):
      return "'\(path)' is not a JUnit report: root element is <\(root)>, expected <testsuites> or <testsuite>"
    case .entitiesRefused(let path, let line, let column, let detail):
      return "\(path):\(line):\(column): refused: \(detail); JUnit reports never need entity declarations (XXE and entity-expansion protection)"
    case .tooLarge(let path, let bytes, let limit):
      return "'\(path)' is \(bytes) bytes, over the \(limit)-byte limit (raise it with --max-report-bytes)"
    }
  }
}
