import BridgeCore
/// Everything the Testomat.io emulator has seen, as served by `GET /_sandbox/state`.
///
/// API keys never appear here: `api_key` members are removed from stored bodies,
/// and the key's value is replaced by `[REDACTED]` wherever else it shows up.
public struct SandboxState: Sendable, Hashable, Codable {
  /// Runs in creation order.
  public var runs: [SandboxRun]
  /// Reporter API requests in arrival order, the most recent 10,000 (control routes under `/_sandbox/` excluded).
  public var requests: [SandboxRequestRecord]
  /// Seeded `test_grep` answers: type → id → test IDs.
  public var testGrep: [String: [String: [String]]]
  /// Fault rules with uses left.
  public var faults: [SandboxFault]

  public init(
    runs: [SandboxRun] = [], requests: [SandboxRequestRecord] = [],
    testGrep: [String: [String: [String]]] = [:], faults: [SandboxFault] = []
  ) {
    self.runs = runs
    self.requests = requests
    self.testGrep = testGrep
    self.faults = faults
  }

  /// The run with `uid`, or nil.
  public func run(_ uid: String) -> SandboxRun? {
    runs.first { $0.uid == uid }
  }

  enum CodingKeys: String, CodingKey {
    case runs
    case requests
    case testGrep = "test_grep"
    case faults
  }
}

/// One run and what was reported into it.
public struct SandboxRun: Sendable, Hashable, Codable {
  /// The 8-hex-digit run ID used in paths.
  public var uid: String
  public var url: String
  public var publicURL: String?
  /// `created` (POST), `seeded` (pre-created like a run scheduled from CI).
  public var origin: String
  /// `scheduled`, `running`, `passed` or `failed`.
  public var status: String
  public var title: String?
  public var env: String?
  public var groupTitle: String?
  /// The run label(s) as sent (a string, or an array of strings).
  public var label: JSONValue?
  public var jiraID: String?
  public var sharedRun: Bool
  public var parallel: Bool?
  public var kind: String?
  public var ciBuildURL: String?
  public var accessEvent: String?
  /// Every accepted `status_event`, in order.
  public var statusEvents: [String]
  /// Whether a closing event (finish, pass, fail) was accepted.
  public var finished: Bool
  /// How many closing events were accepted (more than 1 means the client finished twice).
  public var finishCount: Int
  /// How many `_parallel` events were accepted.
  public var parallelFinishCount: Int
  /// How many times adopting the finished run opened it again.
  public var reopenCount: Int
  /// The `duration` of the last finishing update, in seconds.
  public var duration: Double?
  /// The `detach` value of the finishing update.
  public var detach: JSONValue?
  /// PUT updates without `status_event` (adopting a run, e.g. `TESTOMATIO_RUN`).
  public var updateCount: Int
  /// Create requests answered with this run because `shared_run` matched its title.
  public var sharedJoins: Int
  /// `batch_index` values received, in order.
  public var batchIndexes: [Int]
  /// Every run field received (create and updates merged), `api_key` removed.
  public var attributes: [String: JSONValue]
  /// Stored results in first-arrival order; a re-sent `rid` replaces its earlier result in place.
  public var results: [SandboxResult]
  /// How many times each `rid` was received (faulted requests not counted).
  public var ridCounts: [String: Int]

  enum CodingKeys: String, CodingKey {
    case uid, url
    case publicURL = "public_url"
    case origin, status, title, env
    case groupTitle = "group_title"
    case label
    case jiraID = "jira_id"
    case sharedRun = "shared_run"
    case parallel, kind
    case ciBuildURL = "ci_build_url"
    case accessEvent = "access_event"
    case statusEvents = "status_events"
    case finished
    case finishCount = "finish_count"
    case parallelFinishCount = "parallel_finish_count"
    case reopenCount = "reopen_count"
    case duration, detach
    case updateCount = "update_count"
    case sharedJoins = "shared_joins"
    case batchIndexes = "batch_indexes"
    case attributes, results
    case ridCounts = "rid_counts"
  }

  /// Results whose `status` is `status`.
  public func results(withStatus status: String) -> [SandboxResult] {
    results.filter { $0.status == status }
  }
}

/// One stored test result.
public struct SandboxResult: Sendable, Hashable, Codable {
  /// The result's `rid`, when it had one.
  public var rid: String?
  /// How it arrived: `single` (one test per POST), `batch` (`tests[]` POST) or `finish` (`tests` in the PUT).
  public var via: String
  /// The test object as received, `api_key` removed.
  public var test: JSONValue

  public var status: String? { test["status"]?.stringValue }
  public var title: String? { test["title"]?.stringValue }
  public var testID: String? { test["test_id"]?.stringValue }

  enum CodingKeys: String, CodingKey {
    case rid, via, test
  }
}

/// One logged request: never a body, and query credentials redacted.
public struct SandboxRequestRecord: Sendable, Hashable, Codable {
  public var method: String
  public var path: String
  /// The query with `api_key` (and other credential-like names) redacted, or nil when empty.
  public var query: String?
  /// The status answered; 0 when the connection was dropped.
  public var status: Int
  /// Whether a fault rule produced (or delayed) the answer.
  public var fault: Bool
}
