import Foundation

/// The compact results file one CI shard writes (`--results-out`) and the final
/// job merges (`testbridge finish --merge`). Documented in the README as
/// `testbridge-results/1`.
public struct ShardResults: Codable, Sendable, Hashable {
  public static let formatName = "testbridge-results/1"

  public struct Shard: Codable, Sendable, Hashable {
    /// The shard's name in its set, e.g. `3` (GitLab `CI_NODE_INDEX`) or a matrix value.
    public var id: String
    /// How many shards the set has, when known.
    public var total: Int?
    /// The CI attempt of this job; a higher attempt replaces a lower one of the same shard.
    public var attempt: Int

    public init(id: String, total: Int? = nil, attempt: Int = 1) {
      self.id = id
      self.total = total
      self.attempt = attempt
    }
  }

  /// One logical test's outcome in this shard.
  public struct Test: Codable, Sendable, Hashable {
    /// The stable part of the Testomat.io `rid`: identifies the test across shards and retries.
    public var rid: String
    public var suite: [String]
    public var classname: String?
    public var name: String
    public var outcome: TestOutcome
    public var duration: Double
    public var testomatioID: String?
    public var jira: [String]

    public init(
      rid: String, suite: [String], classname: String?, name: String, outcome: TestOutcome, duration: Double,
      testomatioID: String?, jira: [String]
    ) {
      self.rid = rid
      self.suite = suite
      self.classname = classname
      self.name = name
      self.outcome = outcome
      self.duration = duration
      self.testomatioID = testomatioID
      self.jira = jira
    }

    enum CodingKeys: String, CodingKey {
      case rid, suite, classname, name, outcome, duration, jira
      case testomatioID = "testomatio_id"
    }
  }

  public var format: String
  public var runID: String?
  public var title: String?
  /// The CI pipeline this shard belongs to (`github:org/app:424242`, `gitlab:group/app:9001`),
  /// when the CI names it. A later attempt of a job finds its pipeline's run by it.
  public var pipeline: String?
  public var shard: Shard
  /// When this shard's work began (the test command's start; for `report`, the command's own).
  public var startedAt: Date
  /// When the pipeline began, when the CI says (GitLab `CI_PIPELINE_CREATED_AT`,
  /// `TESTBRIDGE_PIPELINE_STARTED_AT`): the merged run's duration starts there.
  public var pipelineStartedAt: Date?
  public var endedAt: Date
  /// The test command's exit code, when a command was run.
  public var exitCode: Int32?
  /// False when some of this shard's results (or its part's end) wait in the spool:
  /// the run must not be closed before they are flushed. Nil when reporting was off.
  public var delivered: Bool?
  public var tests: [Test]

  public init(
    runID: String?, title: String?, pipeline: String? = nil, shard: Shard, startedAt: Date,
    pipelineStartedAt: Date? = nil, endedAt: Date, exitCode: Int32?, delivered: Bool? = nil, tests: [Test]
  ) {
    self.format = Self.formatName
    self.runID = runID
    self.title = title
    self.pipeline = pipeline
    self.shard = shard
    self.startedAt = startedAt
    self.pipelineStartedAt = pipelineStartedAt
    self.endedAt = endedAt
    self.exitCode = exitCode
    self.delivered = delivered
    self.tests = tests
  }

  enum CodingKeys: String, CodingKey {
    case format, title, pipeline, shard, tests, delivered
    case runID = "run_id", startedAt = "started_at", endedAt = "ended_at", exitCode = "exit_code"
    case pipelineStartedAt = "pipeline_started_at"
  }

  /// The file's encoder: sorted keys, times as ISO 8601 with milliseconds.
  public static func encoder() -> JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .custom { date, encoder in
      var container = encoder.singleValueContainer()
      try container.encode(ISO8601Time.string(date))
    }
    return encoder
  }

  /// The file's decoder: times with or without fractional seconds.
  public static func decoder() -> JSONDecoder {
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .custom { decoder in
      let container = try decoder.singleValueContainer()
      let text = try container.decode(String.self)
      guard let date = ISO8601Time.parse(text) else {
        throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text)' is not an ISO 8601 time")
      }
      return date
    }
    return decoder
  }

  public var totals: RunTotals {
    var totals = RunTotals()
    for test in tests {
      totals.add(outcome: test.outcome)
      totals.testcases += 1
      totals.duration += test.duration
    }
    return totals
  }
}

/// Shard files merged into one run's results (pure).
public struct MergedShardResults: Sendable, Hashable {
  /// One file per shard: the highest attempt of each.
  public var shards: [ShardResults]
  /// Files left out because a later attempt of the same shard replaced them.
  public var replacedAttempts: [ShardResults.Shard]
  /// Every test once; a test reported by several files keeps the latest report.
  public var tests: [ShardResults.Test]
  /// Shard ids `1...total` with no file, when the set's size is known.
  public var missingShards: [String]
  /// From the pipeline's start (when a file names it, else the first shard's start) to the
  /// last shard's end: the pipeline's wall-clock time, never the sum of the shards.
  public var wallClock: TimeInterval
  public var totals: RunTotals
  /// Run ids the files name (more than one means shards reported into different runs).
  public var runIDs: [String]
  /// Shards whose test command failed (non-zero exit): the run is marked failed even when
  /// their reports hold no failure (a crash before the report was complete).
  public var failedCommands: [String]
  /// Shards whose results (or end) were spooled instead of delivered.
  public var undelivered: [String]

  /// Merges shard files. `expectedShards` (from `--shards`) wins over the files' own totals.
  public init(_ files: [ShardResults], expectedShards: Int? = nil) {
    var latest: [String: ShardResults] = [:]
    var replaced: [ShardResults.Shard] = []
    for file in files {
      guard let current = latest[file.shard.id] else {
        latest[file.shard.id] = file
        continue
      }
      let newer = (file.shard.attempt, file.endedAt) > (current.shard.attempt, current.endedAt)
      replaced.append(newer ? current.shard : file.shard)
      if newer { latest[file.shard.id] = file }
    }
    shards = latest.values.sorted { Self.shardOrder($0.shard.id, $1.shard.id) }
    replacedAttempts = replaced
    var byRID: [String: (test: ShardResults.Test, at: Date)] = [:]
    var order: [String] = []
    for file in shards {
      for test in file.tests {
        if let existing = byRID[test.rid] {
          if file.endedAt >= existing.at { byRID[test.rid] = (test, file.endedAt) }
        } else {
          byRID[test.rid] = (test, file.endedAt)
          order.append(test.rid)
        }
      }
    }
    tests = order.compactMap { byRID[$0]?.test }
    let total = expectedShards ?? shards.compactMap(\.shard.total).max()
    if let total {
      let present = Set(shards.map(\.shard.id))
      missingShards = (1...max(1, total)).map(String.init).filter { !present.contains($0) }
    } else {
      missingShards = []
    }
    let start = (shards.map(\.startedAt) + shards.compactMap(\.pipelineStartedAt)).min()
    let end = shards.map(\.endedAt).max()
    wallClock = start.flatMap { start in end.map { max(0, $0.timeIntervalSince(start)) } } ?? 0
    var totals = RunTotals()
    for test in tests {
      totals.add(outcome: test.outcome)
      totals.testcases += 1
      totals.duration += test.duration
    }
    self.totals = totals
    runIDs = Array(Set(shards.compactMap(\.runID))).sorted()
    failedCommands = shards.filter { ($0.exitCode ?? 0) != 0 }.map(\.shard.id)
    undelivered = shards.filter { $0.delivered == false }.map(\.shard.id)
  }

  /// Names the set of shard attempts merged here, e.g. `1:1,2:1,3:2`: concurrent shards that
  /// see the same complete set agree on it, and a later attempt of any shard changes it.
  public var attemptSet: String {
    shards.map { "\($0.shard.id):\($0.shard.attempt)" }.joined(separator: ",")
  }

  /// Numeric shard ids in numeric order, others after them by name.
  private static func shardOrder(_ left: String, _ right: String) -> Bool {
    switch (Int(left), Int(right)) {
    case (let a?, let b?): return a < b
    case (.some, nil): return true
    case (nil, .some): return false
    default: return left < right
    }
  }

  /// True when the run must be marked failed: failing tests, shards that never reported,
  /// or shards whose command failed.
  public var shouldFail: Bool { totals.hasFailures || !missingShards.isEmpty || !failedCommands.isEmpty }

  /// Per Jira key, the counts of the tests carrying it.
  public var jiraCounts: [String: RunTotals] {
    var counts: [String: RunTotals] = [:]
    for test in tests {
      for key in test.jira {
        counts[key, default: RunTotals()].add(outcome: test.outcome)
      }
    }
    return counts
  }
}

/// ISO 8601 times as the results file writes them (UTC, milliseconds) and reads them
/// (with or without fractional seconds, any offset).
public enum ISO8601Time {
  public static func string(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.string(from: date)
  }

  public static func parse(_ text: String) -> Date? {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    if let date = formatter.date(from: text) { return date }
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.date(from: text)
  }
}
