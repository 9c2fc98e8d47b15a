/// A manual test plan read from Markdown (see ``ManualPlanParser`` for the format).
public struct ManualPlan: Sendable, Hashable {
  /// Where the plan was read from, as given (used in messages and as the results' `file`).
  public var path: String
  /// The `#` heading, or the file name without extension when there is none.
  public var title: String
  /// Text between the title and the first test.
  public var description: String
  /// The `##` sections, in file order.
  public var tests: [ManualTest]

  /// A plan as the parser builds it (public for tests and other front ends).
  public init(path: String, title: String, description: String = "", tests: [ManualTest]) {
    self.path = path
    self.title = title
    self.description = description
    self.tests = tests
  }

  /// Index of the test a reference names: by Testomat.io id, or by exact title
  /// (with or without the heading's tags).
  public func index(of reference: TestReference) -> Int? {
    switch reference {
    case .id(let id): return tests.firstIndex { $0.testomatioID == id }
    case .title(let title): return tests.firstIndex { $0.title == title || $0.heading == title }
    }
  }
}

/// One `##` section of a plan.
public struct ManualTest: Sendable, Hashable {
  /// The heading without its `@T…` id and `@KEY-1` tags.
  public var title: String
  /// The heading as written.
  public var heading: String
  /// The 8 characters after `@T`, if the heading carries an id.
  public var testomatioID: String?
  /// Jira keys tagged in the heading (`@PROJ-123`), in order.
  public var jiraKeys: [String]
  /// Text before the first step.
  public var description: String
  /// The numbered and `$` steps, in order.
  public var steps: [ManualStep]
  /// Line of the heading (1-based).
  public var line: Int

  /// A test; `heading` defaults to the title.
  public init(
    title: String, heading: String? = nil, testomatioID: String? = nil, jiraKeys: [String] = [],
    description: String = "", steps: [ManualStep] = [], line: Int
  ) {
    self.title = title
    self.heading = heading ?? title
    self.testomatioID = testomatioID
    self.jiraKeys = jiraKeys
    self.description = description
    self.steps = steps
    self.line = line
  }

  /// The reference answers and progress files use for this test: its id when it has one.
  public var reference: TestReference {
    testomatioID.map(TestReference.id) ?? .title(title)
  }
}

/// A numbered step (or a `$ command` line) of a test.
public struct ManualStep: Sendable, Hashable {
  /// What the tester does, as written (continuation lines joined with newlines).
  public var text: String
  /// The step's `Expected:` text.
  public var expected: String?
  /// A shell command line testbridge runs for the tester (`` `$ make seed` `` or a `$ ` line).
  public var command: String?
  /// Line where the step starts (1-based).
  public var line: Int

  /// A step as the parser builds it.
  public init(text: String, expected: String? = nil, command: String? = nil, line: Int) {
    self.text = text
    self.expected = expected
    self.command = command
    self.line = line
  }
}

/// How an answer names its test.
public enum TestReference: Sendable, Hashable, Codable, CustomStringConvertible {
  /// A Testomat.io id without the `@T` prefix.
  case id(String)
  /// An exact title.
  case title(String)

  public var description: String {
    switch self {
    case .id(let id): return "@T\(id)"
    case .title(let title): return title
    }
  }
}

/// What the tester decided.
public enum ManualOutcome: String, Sendable, Hashable, Codable, CaseIterable {
  case pass, fail, skip
}

/// The tester's verdict on one test.
public struct ManualAnswer: Sendable, Hashable, Codable {
  /// The test answered.
  public var reference: TestReference
  /// The verdict.
  public var outcome: ManualOutcome
  /// Why (for a failure: what went wrong); becomes the result's message.
  public var note: String?
  /// Line in the answers file it came from; `nil` for answers given at the prompt.
  public var line: Int?

  /// An answer; `line` is set by ``AnswersFile/parse(_:path:)``.
  public init(reference: TestReference, outcome: ManualOutcome, note: String? = nil, line: Int? = nil) {
    self.reference = reference
    self.outcome = outcome
    self.note = note
    self.line = line
  }
}
