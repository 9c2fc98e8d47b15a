import Foundation

/// One run as remembered on an issue.
public struct RunSummary: Sendable, Hashable, Codable {
  /// The Testomat.io run id (or another stable run identifier).
  public var runID: String
  public var title: String?
  /// The report link.
  public var url: String?
  /// `passed` or `failed` (free text; testbridge writes one of those two).
  public var status: String
  public var passed: Int
  public var failed: Int
  public var skipped: Int
  public var flaky: Int
  /// When the run finished, ISO 8601 in UTC (`2026-03-01T10:00:00Z`).
  public var at: String

  public init(
    runID: String, title: String?, url: String?, status: String, passed: Int, failed: Int, skipped: Int, flaky: Int,
    at: String
  ) {
    self.runID = runID
    self.title = title
    self.url = url
    self.status = status
    self.passed = passed
    self.failed = failed
    self.skipped = skipped
    self.flaky = flaky
    self.at = at
  }

  /// A summary from counts, with `at` formatted from `date`.
  public init(runID: String, title: String?, url: String?, status: String, counts: JiraRunCounts, at date: Date) {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    self.init(
      runID: runID, title: title, url: url, status: status, passed: counts.passed, failed: counts.failed,
      skipped: counts.skipped, flaky: counts.flaky, at: formatter.string(from: date))
  }

  public var counts: JiraRunCounts {
    JiraRunCounts(passed: passed, failed: failed, skipped: skipped, flaky: flaky)
  }

  enum CodingKeys: String, CodingKey {
    case runID = "run_id"
    case title, url, status, passed, failed, skipped, flaky, at
  }
}

/// The `testbridge.runs` issue property: the latest runs that touched an issue, newest first.
///
/// Shape (version 1):
/// ```json
/// {"version": 1,
///  "runs": [{"run_id": "a1b2c3d4", "title": "Nightly", "url": "https://app.testomat.io/…",
///            "status": "failed", "passed": 12, "failed": 1, "skipped": 0, "flaky": 1,
///            "at": "2026-03-01T10:00:00Z"}]}
/// ```
/// The history keeps at most ``defaultMaxEntries`` runs and stays under ``maxBytes`` of JSON
/// (below Jira's 32,768-character property limit) by dropping the oldest runs. Long titles and
/// URLs are cut when recorded, so one run always fits.
public struct RunHistoryProperty: Sendable, Hashable, Codable {
  /// The issue property key.
  public static let key = "testbridge.runs"
  /// The shape version written.
  public static let currentVersion = 1
  /// Runs kept at most.
  public static let defaultMaxEntries = 50
  /// The largest encoded size kept, in bytes: Jira's limit less a margin.
  public static let maxBytes = JiraLimits.maxPropertyBytes - 768

  public var version: Int
  /// Newest first.
  public var runs: [RunSummary]

  public init(runs: [RunSummary] = []) {
    self.version = Self.currentVersion
    self.runs = runs
  }

  /// Reads a stored value leniently: entries that do not decode are skipped, and anything that
  /// is not a history object (or nil) gives an empty history.
  public static func decode(_ json: Data?) -> RunHistoryProperty {
    guard let json, let object = try? JSONSerialization.jsonObject(with: json) as? [String: Any],
      let list = object["runs"] as? [Any]
    else { return RunHistoryProperty() }
    let decoder = JSONDecoder()
    let runs = list.compactMap { item -> RunSummary? in
      guard JSONSerialization.isValidJSONObject(item), let data = try? JSONSerialization.data(withJSONObject: item)
      else { return nil }
      return try? decoder.decode(RunSummary.self, from: data)
    }
    return RunHistoryProperty(runs: runs)
  }

  /// Puts `run` first (replacing an entry with the same run id), then drops the oldest runs
  /// beyond `maxEntries` or beyond ``maxBytes`` of encoded JSON.
  public mutating func record(_ run: RunSummary, maxEntries: Int = RunHistoryProperty.defaultMaxEntries) {
    var run = run
    run.runID = Self.clip(run.runID, 128)
    run.title = run.title.map { Self.clip($0, 500) }
    run.url = run.url.map { Self.clip($0, 2048) }
    run.status = Self.clip(run.status, 32)
    run.at = Self.clip(run.at, 64)
    version = Self.currentVersion
    runs.removeAll { $0.runID == run.runID }
    runs.insert(run, at: 0)
    if runs.count > max(1, maxEntries) { runs.removeLast(runs.count - max(1, maxEntries)) }
    while runs.count > 1, encoded().count > Self.maxBytes { runs.removeLast() }
  }

  /// The value as compact JSON with sorted keys, ready for ``JiraClient/setProperty(issue:key:json:)``.
  public func encoded() -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return (try? encoder.encode(self)) ?? Data(#"{"runs":[],"version":1}"#.utf8)
  }

  private static func clip(_ text: String, _ limit: Int) -> String {
    text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
  }
}
