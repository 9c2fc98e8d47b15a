/// One `<testcase>` element as read from a report (one attempt of a test).
///
/// The model keeps what the report says (its result elements, output,
/// properties); derived facts such as ``status`` are computed by pure rules so
/// every consumer agrees on them.
public struct TestCaseResult: Sendable, Hashable, Codable {
  /// Names of the enclosing `<testsuite>` elements, outermost first.
  public var suitePath: [String]
  public var classname: String?
  public var name: String
  /// Source file, from the `file` attribute or the first workspace frame of the failure text.
  public var file: String?
  public var line: Int?
  /// Duration in seconds; `nil` when the report gave none or an unreadable one.
  public var duration: Double?
  /// The testcase's `timestamp` attribute as written (formats vary by tool).
  public var timestamp: String?
  /// The `status` attribute some tools write (`run`, `disabled`, `failed`...), lowercased.
  public var statusAttribute: String?
  /// Result children in document order: failure, error, skipped and Surefire rerun elements.
  public var results: [ResultElement]
  /// `<system-out>` (capped; see ``CappedText``).
  public var systemOut: String?
  /// `<system-err>` (capped).
  public var systemErr: String?
  /// `<properties>` of the testcase in document order, duplicates kept.
  public var properties: [Property]
  /// Testomat.io test id: the 8 characters after `@T` (no prefix).
  public var testomatioID: String?
  /// Jira issue keys such as `PROJ-123`, deduplicated, in order of appearance.
  public var jiraKeys: [String]
  /// True for a result synthesised from a `<failure>`/`<error>` on a `<testsuite>` itself.
  public var isSuiteLevel: Bool
  /// True when the report broke off (truncated or malformed) after this testcase.
  public var incomplete: Bool

  public init(
    suitePath: [String] = [], classname: String? = nil, name: String, file: String? = nil,
    line: Int? = nil, duration: Double? = nil, timestamp: String? = nil,
    statusAttribute: String? = nil, results: [ResultElement] = [], systemOut: String? = nil,
    systemErr: String? = nil, properties: [Property] = [], testomatioID: String? = nil,
    jiraKeys: [String] = [], isSuiteLevel: Bool = false, incomplete: Bool = false
  ) {
    self.suitePath = suitePath
    self.classname = classname
    self.name = name
    self.file = file
    self.line = line
    self.duration = duration
    self.timestamp = timestamp
    self.statusAttribute = statusAttribute
    self.results = results
    self.systemOut = systemOut
    self.systemErr = systemErr
    self.properties = properties
    self.testomatioID = testomatioID
    self.jiraKeys = jiraKeys
    self.isSuiteLevel = isSuiteLevel
    self.incomplete = incomplete
  }

  /// The status of this attempt under the documented rules (error > failure > skipped > passed).
  public var status: TestStatus { StatusRules.status(of: self) }

  /// The element that decided ``status`` (the first error, else failure, else skipped).
  public var decidingResult: ResultElement? { StatusRules.decidingResult(of: self) }

  /// Key that identifies the logical test: suite path, classname and name.
  public var logicalKey: LogicalTestKey {
    LogicalTestKey(suitePath: suitePath, classname: classname ?? "", name: name)
  }
}

/// A `<property name= value=>` pair (or a property whose value is its text).
public struct Property: Sendable, Hashable, Codable {
  public var name: String
  public var value: String

  public init(name: String, value: String) {
    self.name = name
    self.value = value
  }
}

/// A result child of a testcase: `<failure>`, `<error>`, `<skipped>` or a Surefire rerun element.
public struct ResultElement: Sendable, Hashable, Codable {
  public enum Kind: String, Sendable, Codable, CaseIterable {
    case failure, error, skipped
    case flakyFailure, flakyError, rerunFailure, rerunError

    /// Surefire's elements for earlier or repeated attempts of the same testcase.
    public var isRerun: Bool {
      switch self {
      case .flakyFailure, .flakyError, .rerunFailure, .rerunError: return true
      case .failure, .error, .skipped: return false
      }
    }
  }

  public var kind: Kind
  public var message: String?
  public var type: String?
  /// Body text (or Surefire's `<stackTrace>` child), capped.
  public var text: String?

  public init(kind: Kind, message: String? = nil, type: String? = nil, text: String? = nil) {
    self.kind = kind
    self.message = message
    self.type = type
    self.text = text
  }
}

/// Status of one attempt.
public enum TestStatus: String, Sendable, Codable, CaseIterable {
  case passed, failed, error, skipped
}

/// Final outcome of a logical test (its attempts taken together).
public enum TestOutcome: String, Sendable, Codable, CaseIterable {
  case passed, failed, error, skipped, flaky

  /// True for outcomes that make a run red.
  public var isFailing: Bool { self == .failed || self == .error }
}

/// Identity of a logical test across retries.
public struct LogicalTestKey: Sendable, Hashable, Codable {
  public var suitePath: [String]
  public var classname: String
  public var name: String

  public init(suitePath: [String], classname: String, name: String) {
    self.suitePath = suitePath
    self.classname = classname
    self.name = name
  }
}
