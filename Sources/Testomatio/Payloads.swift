import BridgeCore
import Foundation

/// `POST /api/reporter` and the adopting `PUT /api/reporter/{uid}` body.
/// Absent fields are left out, as the official reporter drops falsy ones.
public struct RunRequestBody: Codable, Sendable, Hashable {
  public var apiKey: String?
  public var title: String?
  public var env: String?
  public var groupTitle: String?
  public var ciBuildURL: String?
  public var accessEvent: String?
  public var jiraID: String?
  public var label: String?
  public var sharedRun: Bool?
  public var sharedRunTimeout: Int?
  public var kind: String?

  public init(
    apiKey: String? = nil, title: String? = nil, env: String? = nil, groupTitle: String? = nil,
    ciBuildURL: String? = nil, accessEvent: String? = nil, jiraID: String? = nil, label: String? = nil,
    sharedRun: Bool? = nil, sharedRunTimeout: Int? = nil, kind: String? = nil
  ) {
    self.apiKey = apiKey
    self.title = title
    self.env = env
    self.groupTitle = groupTitle
    self.ciBuildURL = ciBuildURL
    self.accessEvent = accessEvent
    self.jiraID = jiraID
    self.label = label
    self.sharedRun = sharedRun
    self.sharedRunTimeout = sharedRunTimeout
    self.kind = kind
  }

  enum CodingKeys: String, CodingKey {
    case apiKey = "api_key", title, env, groupTitle = "group_title", ciBuildURL = "ci_build_url"
    case accessEvent = "access_event", jiraID = "jira_id", label, sharedRun = "shared_run"
    case sharedRunTimeout = "shared_run_timeout", kind
  }
}

/// One result as `POST /api/reporter/{uid}/testrun` takes it (the contract's TestData).
public struct TestResultPayload: Codable, Sendable, Hashable {
  public var status: String
  public var title: String
  public var suiteTitle: String?
  public var testID: String?
  public var file: String?
  public var message: String?
  public var stack: String?
  /// Milliseconds (see the README: the official JS reporter and JUnit import send ms).
  public var runTime: Double?
  /// Stable report id: `<run id>-<hash of the test's identity and environment>`; a re-sent result
  /// replaces, never doubles.
  public var rid: String
  public var create: Bool?
  public var meta: [String: String]?
  public var links: [[String: String]]?

  enum CodingKeys: String, CodingKey {
    case status, title, suiteTitle = "suite_title", testID = "test_id", file, message, stack
    case runTime = "run_time", rid, create, meta, links
  }
}

/// A batch upload: `{api_key, tests, batch_index}`.
public struct BatchBody: Codable, Sendable, Hashable {
  public var apiKey: String?
  public var tests: [TestResultPayload]
  public var batchIndex: Int

  public init(apiKey: String? = nil, tests: [TestResultPayload], batchIndex: Int) {
    self.apiKey = apiKey
    self.tests = tests
    self.batchIndex = batchIndex
  }

  enum CodingKeys: String, CodingKey {
    case apiKey = "api_key", tests, batchIndex = "batch_index"
  }
}

/// The closing `PUT /api/reporter/{uid}`.
public struct FinishBody: Codable, Sendable, Hashable {
  public var apiKey: String?
  public var statusEvent: String
  /// Run length in seconds.
  public var duration: Double?

  public init(apiKey: String? = nil, statusEvent: String, duration: Double? = nil) {
    self.apiKey = apiKey
    self.statusEvent = statusEvent
    self.duration = duration
  }

  enum CodingKeys: String, CodingKey {
    case apiKey = "api_key", statusEvent = "status_event", duration
  }
}

/// Pure mapping from the result model to Testomat.io payloads.
public enum Payloads {
  public static func run(_ config: TestomatioConfig) -> RunRequestBody {
    RunRequestBody(
      apiKey: config.apiKey, title: config.title.nonEmpty, env: config.environment.nonEmpty,
      groupTitle: config.groupTitle.nonEmpty,
      ciBuildURL: config.ciBuildURL.flatMap { $0.hasPrefix("http") ? $0 : nil },
      accessEvent: config.publish ? "publish" : nil, jiraID: config.jiraID.nonEmpty, label: config.label.nonEmpty,
      sharedRun: config.sharedRun ? true : nil, sharedRunTimeout: config.sharedRunTimeout,
      kind: config.kind.nonEmpty)
  }

  /// The Testomat.io status of an outcome. Flaky tests passed in the end: `passed`,
  /// with `meta.flaky` so the earlier failure is not lost.
  public static func status(_ outcome: TestOutcome) -> String {
    switch outcome {
    case .passed, .flaky: return "passed"
    case .failed, .error: return "failed"
    case .skipped: return "skipped"
    }
  }

  /// The stable part of a result's `rid`: a 64-bit FNV-1a hash of the test's identity and of
  /// the run's environment (`TESTOMATIO_ENV`).
  ///
  /// The environment is in the hash as the official reporters put it in theirs (pytestomatio
  /// sends `<env>-<test>-<id>`): matrix jobs joining one shared run with different environments
  /// report the same test twice, and each execution must keep its own result. It is read as a
  /// set (``normalisedEnvironment(_:)``: `Linux, Chrome` and `Chrome,Linux` hash alike); without
  /// one the hash is the identity's alone, as before environments were part of it.
  /// The test's Testomat.io id is left out: a retried attempt can lose it (Surefire reruns drop
  /// `system-out`, and its `tid://`), and must still replace the earlier attempt.
  public static func ridSuffix(for key: LogicalTestKey, environment: String? = nil) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    func mix(_ text: String) {
      for byte in text.utf8 {
        hash ^= UInt64(byte)
        hash = hash &* 0x0000_0100_0000_01B3
      }
      hash ^= 0x1F  // separator, so ("ab","c") and ("a","bc") differ
      hash = hash &* 0x0000_0100_0000_01B3
    }
    for suite in key.suitePath { mix(suite) }
    mix("\u{1E}")
    mix(key.classname)
    mix(key.name)
    if let environment = normalisedEnvironment(environment) {
      mix("\u{1D}")
      mix(environment)
    }
    let hex = String(hash, radix: 16)
    return String(repeating: "0", count: 16 - hex.count) + hex
  }

  /// The environments of `TESTOMATIO_ENV` as a set: split on commas, trimmed, empty ones
  /// dropped, sorted and de-duplicated; nil when none is left.
  public static func normalisedEnvironment(_ environment: String?) -> String? {
    guard let environment else { return nil }
    let names = Set(
      environment.split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty })
    return names.isEmpty ? nil : names.sorted().joined(separator: ",")
  }

  public static func rid(runID: String, suffix: String) -> String { "\(runID)-\(suffix)" }

  /// One logical test as a Testomat.io result (without the run prefix on `rid`).
  /// `outcome` overrides the test's own when the caller knows more (a streamed
  /// attempt whose earlier failed attempt was already sent).
  public static func result(_ test: LogicalTest, config: TestomatioConfig, outcome: TestOutcome? = nil)
    -> TestResultPayload
  {
    let final = test.final
    let outcome = outcome ?? test.outcome
    let explaining = outcome == .passed ? nil : test.explainingResult
    var meta: [String: String] = [:]
    if let classname = final.classname, !classname.isEmpty { meta["classname"] = cap(classname, 255) }
    if test.attempts.count > 1 { meta["attempts"] = String(test.attempts.count) }
    if outcome == .flaky { meta["flaky"] = "true" }
    if outcome == .error { meta["error"] = "true" }
    if test.attempts.contains(where: \.incomplete) { meta["incomplete"] = "true" }
    if final.isSuiteLevel { meta["suite_level"] = "true" }
    let suiteTitle = final.suitePath.last ?? final.classname
    return TestResultPayload(
      status: status(outcome),
      title: final.name.isEmpty ? (final.classname ?? "unnamed test") : final.name,
      suiteTitle: suiteTitle.nonEmpty,
      testID: test.testomatioID,
      file: final.file,
      message: explaining.flatMap { $0.message ?? $0.text.map(firstLine) },
      stack: stack(for: test, outcome: outcome, explaining: explaining, limit: config.stackLimit),
      runTime: finite((test.duration * 1000 * 1000).rounded() / 1000),
      rid: ridSuffix(for: test.key, environment: config.environment),
      create: config.createTests ? true : nil,
      meta: meta.isEmpty ? nil : meta,
      links: test.jiraKeys.isEmpty ? nil : test.jiraKeys.map { ["jira": $0] })
  }

  /// Failure text, then the test's own output, capped with a visible marker.
  static func stack(for test: LogicalTest, outcome: TestOutcome, explaining: ResultElement?, limit: Int) -> String? {
    var parts: [String] = []
    if let explaining {
      var header = explaining.type.map { "\($0): " } ?? ""
      if let message = explaining.message { header += message }
      if !header.isEmpty, explaining.text?.contains(header) != true { parts.append(header) }
      if let text = explaining.text { parts.append(text) }
    }
    if let out = test.final.systemOut, !out.isEmpty { parts.append("--- system-out ---\n" + out) }
    if let err = test.final.systemErr, !err.isEmpty { parts.append("--- system-err ---\n" + err) }
    guard !parts.isEmpty, outcome != .passed || explaining != nil else { return nil }
    var text = CappedText(limit: limit)
    text.append(parts.joined(separator: "\n"))
    return text.text
  }

  /// The closing request: `pass` or `fail`; for a shard, `finish_parallel` (one part of
  /// the run ended; the run stays open for the others and the final `finish`).
  public static func finish(apiKey: String?, totals: RunTotals, duration: Double?, shard: Bool = false) -> FinishBody {
    if shard { return FinishBody(apiKey: apiKey, statusEvent: "finish_parallel", duration: nil) }
    return FinishBody(apiKey: apiKey, statusEvent: totals.hasFailures ? "fail" : "pass", duration: duration.flatMap(finite))
  }

  /// JSON has no infinities or NaN: a body holding one cannot be encoded, sent or spooled.
  private static func finite(_ value: Double) -> Double? {
    value.isFinite ? value : nil
  }

  private static func firstLine(_ text: String) -> String {
    String(text.split(whereSeparator: \.isNewline).first ?? "")
  }

  private static func cap(_ text: String, _ limit: Int) -> String {
    text.count > limit ? String(text.prefix(limit)) : text
  }
}

extension Optional where Wrapped == String {
  var nonEmpty: String? {
    guard let value = self, !value.isEmpty else { return nil }
    return value
  }
}
