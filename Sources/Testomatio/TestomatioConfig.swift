import Foundation

/// Everything that shapes a Testomat.io run, resolved from flags and the
/// reporter's environment variables by the CLI (flags win).
public struct TestomatioConfig: Sendable, Hashable {
  /// Project API key (`tstmt_…`). Never printed.
  public var apiKey: String
  public var baseURL: URL
  /// Report into this existing run instead of creating one (`TESTOMATIO_RUN`).
  public var runID: String?
  public var title: String?
  public var environment: String?
  public var groupTitle: String?
  public var sharedRun: Bool
  /// Minutes a shared run accepts joiners.
  public var sharedRunTimeout: Int?
  /// Ask the server to create tests it cannot match (the official JUnit import always does).
  public var createTests: Bool
  /// Leave the run open (`TESTOMATIO_PROCEED`): no finish request.
  public var proceed: Bool
  public var jiraID: String?
  public var label: String?
  /// Publish the report (`access_event: publish`), which gives a public URL.
  public var publish: Bool
  /// Leave skipped tests out of the report.
  public var excludeSkipped: Bool
  /// Per-request timeout in seconds.
  public var requestTimeout: TimeInterval
  public var ciBuildURL: String?
  /// `automated`, `manual` or `mixed`.
  public var kind: String?
  /// Largest number of results in one upload request.
  public var batchSize: Int
  /// Largest JSON body of one upload request, in bytes.
  public var batchBytes: Int
  /// Bytes kept of each result's `stack` (failure text plus output).
  public var stackLimit: Int
  /// This delivery is one shard of a run: it ends with `finish_parallel` (its part is
  /// done) instead of closing the run, which `testbridge finish` closes once.
  public var isShard: Bool = false

  public static let defaultURL = URL(string: "https://app.testomat.io")!

  public init(
    apiKey: String, baseURL: URL = TestomatioConfig.defaultURL, runID: String? = nil, title: String? = nil,
    environment: String? = nil, groupTitle: String? = nil, sharedRun: Bool = false, sharedRunTimeout: Int? = nil,
    createTests: Bool = true, proceed: Bool = false, jiraID: String? = nil, label: String? = nil,
    publish: Bool = false, excludeSkipped: Bool = false, requestTimeout: TimeInterval = 20,
    ciBuildURL: String? = nil, kind: String? = nil, batchSize: Int = 1_000, batchBytes: Int = 4 << 20,
    stackLimit: Int = 64 * 1024
  ) {
    self.apiKey = apiKey
    self.baseURL = baseURL
    self.runID = runID
    self.title = title
    self.environment = environment
    self.groupTitle = groupTitle
    self.sharedRun = sharedRun
    self.sharedRunTimeout = sharedRunTimeout
    self.createTests = createTests
    self.proceed = proceed
    self.jiraID = jiraID
    self.label = label
    self.publish = publish
    self.excludeSkipped = excludeSkipped
    self.requestTimeout = requestTimeout
    self.ciBuildURL = ciBuildURL
    self.kind = kind
    self.batchSize = max(1, batchSize)
    self.batchBytes = max(16 * 1024, batchBytes)
    self.stackLimit = stackLimit
  }
}
