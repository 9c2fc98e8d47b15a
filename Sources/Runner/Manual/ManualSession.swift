import Foundation

/// Where a `manual` session stands: the plan and the answers so far.
///
/// A pure state machine: it picks the next unanswered test, records answers and
/// converts to and from ``ManualProgress`` (what is saved after every answer, so
/// quitting midway and running the same command again resumes). Asking and
/// saving happen in ``ManualSessionDriver``.
public struct ManualSession: Sendable, Hashable {
  /// The plan being walked through.
  public let plan: ManualPlan
  /// One slot per test of the plan, in plan order.
  public private(set) var answers: [ManualAnswer?]
  /// Saved answers that name no test of the (since edited) plan; dropped on resume.
  public private(set) var discardedAnswers: [ManualAnswer]

  /// A session with nothing answered yet.
  public init(plan: ManualPlan) {
    self.plan = plan
    self.answers = Array(repeating: nil, count: plan.tests.count)
    self.discardedAnswers = []
  }

  /// A session pre-filled from an answers file.
  ///
  /// - Throws: an error naming the answers file and line for an unknown test or a second answer.
  public init(plan: ManualPlan, answers: [ManualAnswer], answersPath: String) throws(ManualPlanError) {
    self.init(plan: plan)
    for (index, answer) in try AnswersFile.match(answers, to: plan, path: answersPath) {
      self.answers[index] = answer
    }
  }

  /// A session resumed from saved progress. Answers for tests no longer in the plan
  /// go to ``discardedAnswers``; for a test answered twice the later answer wins.
  public init(plan: ManualPlan, resuming progress: ManualProgress) {
    self.init(plan: plan)
    for answer in progress.answers {
      if let index = plan.index(of: answer.reference) {
        answers[index] = answer
      } else {
        discardedAnswers.append(answer)
      }
    }
  }

  /// Index of the first unanswered test, or `nil` when all are answered.
  public var nextIndex: Int? { answers.firstIndex { $0 == nil } }

  /// The first unanswered test.
  public var nextTest: ManualTest? { nextIndex.map { plan.tests[$0] } }

  /// How many tests have an answer.
  public var answeredCount: Int { answers.count { $0 != nil } }

  /// True when every test has an answer.
  public var isComplete: Bool { nextIndex == nil }

  /// Records (or replaces) the answer for the test at `index`.
  public mutating func record(_ outcome: ManualOutcome, note: String? = nil, at index: Int) {
    precondition(plan.tests.indices.contains(index), "test index out of range")
    let trimmed = note?.trimmingCharacters(in: .whitespacesAndNewlines)
    answers[index] = ManualAnswer(
      reference: plan.tests[index].reference, outcome: outcome, note: trimmed?.isEmpty == false ? trimmed : nil)
  }

  /// The answers given so far, in plan order.
  public var givenAnswers: [ManualAnswer] { answers.compactMap { $0 } }

  /// What to save so the session can be resumed.
  public func progress(updatedAt: Date) -> ManualProgress {
    ManualProgress(planPath: plan.path, planTitle: plan.title, answers: givenAnswers, updatedAt: updatedAt)
  }
}

/// The saved state of a `manual` session (a small JSON file).
public struct ManualProgress: Sendable, Hashable, Codable {
  /// Format version; 1 so far.
  public var version: Int
  /// The plan's path when the progress was saved.
  public var planPath: String
  /// The plan's title when the progress was saved.
  public var planTitle: String
  /// Answers given so far, in plan order.
  public var answers: [ManualAnswer]
  /// When the last answer was saved.
  public var updatedAt: Date

  /// Progress in the current format version.
  public init(planPath: String, planTitle: String, answers: [ManualAnswer], updatedAt: Date) {
    self.version = 1
    self.planPath = planPath
    self.planTitle = planTitle
    self.answers = answers
    self.updatedAt = updatedAt
  }
}

/// Reads and writes ``ManualProgress`` files.
public enum ManualProgressFile {
  /// The default progress file of a plan: `.NAME.progress.json` beside `plan/NAME`.
  public static func defaultPath(forPlan planPath: String) -> String {
    let plan = URL(fileURLWithPath: planPath)
    return plan.deletingLastPathComponent().appendingPathComponent(".\(plan.lastPathComponent).progress.json").path
  }

  /// The saved progress, or `nil` when there is no file.
  public static func load(path: String) throws(ManualPlanError) -> ManualProgress? {
    guard FileManager.default.fileExists(atPath: path) else { return nil }
    let data: Data
    do {
      data = try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
      throw .file(path: path, reason: "cannot read the progress file: \(error.localizedDescription)")
    }
    return try decode(data, path: path)
  }

  /// Decodes a progress file's contents.
  public static func decode(_ data: Data, path: String) throws(ManualPlanError) -> ManualProgress {
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    let progress: ManualProgress
    do {
      progress = try decoder.decode(ManualProgress.self, from: data)
    } catch {
      throw .file(path: path, reason: "not a testbridge progress file (delete it to start over)")
    }
    guard progress.version == 1 else {
      throw .file(path: path, reason: "progress file version \(progress.version) is not supported")
    }
    return progress
  }

  /// The JSON written for `progress` (sorted keys, ISO 8601 dates).
  public static func encode(_ progress: ManualProgress) -> Data {
    let encoder = JSONEncoder()
    encoder.dateEncodingStrategy = .iso8601
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    // Encoding plain strings, numbers and dates cannot fail.
    return (try? encoder.encode(progress)) ?? Data()
  }

  /// Writes `progress` atomically (a crash never leaves half a file).
  public static func save(_ progress: ManualProgress, path: String) throws(ManualPlanError) {
    do {
      try encode(progress).write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
      throw .file(path: path, reason: "cannot write the progress file: \(error.localizedDescription)")
    }
  }

  /// Deletes the progress file (after a finished session); a missing file is fine.
  public static func remove(path: String) {
    try? FileManager.default.removeItem(atPath: path)
  }
}
