/// Bounds that keep hostile or runaway reports from exhausting memory.
public struct JUnitLimits: Sendable, Hashable {
  /// Bytes kept of each `<system-out>` / `<system-err>`; the rest is counted in a marker.
  public var maxOutputBytes: Int
  /// Bytes kept of each failure, error or skipped body text.
  public var maxResultTextBytes: Int
  /// Characters kept of a `message` attribute.
  public var maxMessageCharacters: Int
  /// Deepest element nesting accepted (libxml2's push parser does not enforce one).
  public var maxDepth: Int
  /// Reports larger than this are refused unread; `nil` means no limit (parsing streams).
  public var maxFileBytes: Int64?

  public init(
    maxOutputBytes: Int = 64 * 1024, maxResultTextBytes: Int = 64 * 1024,
    maxMessageCharacters: Int = 4 * 1024, maxDepth: Int = 256, maxFileBytes: Int64? = nil
  ) {
    self.maxDepth = maxDepth
    self.maxOutputBytes = maxOutputBytes
    self.maxResultTextBytes = maxResultTextBytes
    self.maxMessageCharacters = maxMessageCharacters
    self.maxFileBytes = maxFileBytes
  }

  public static let `default` = JUnitLimits()
}

/// How a report is read.
public struct JUnitOptions: Sendable, Hashable {
  public var limits: JUnitLimits
  /// Absolute path of the workspace; frames under it give a testcase its file and line.
  public var workspace: String?
  /// Threads that may read reports at once (several files, or the two halves
  /// of a large one); nil for every core. 1 reads everything on one thread.
  public var threads: Int?

  public init(limits: JUnitLimits = .default, workspace: String? = nil, threads: Int? = nil) {
    self.limits = limits
    self.workspace = workspace
    self.threads = threads.map { max(1, $0) }
  }
}
