import Foundation

/// How a delivery ended.
public struct DeliveryReport: Sendable {
  /// The run, when Testomat.io created or adopted one.
  public var run: RunInfo?
  public var deliveredResults = 0
  public var spooledResults = 0
  /// Results neither delivered nor saved (the spool itself failed). Always reported loudly.
  public var lostResults = 0
  /// The spool entry holding what is left to send.
  public var spoolEntry: Spool.Entry?
  /// The run was closed (false with `proceed`, or when the close was spooled).
  public var finished = false
  /// What went wrong, in order, for the user.
  public var problems: [String] = []

  /// True when everything reached Testomat.io.
  public var isComplete: Bool { spooledResults == 0 && lostResults == 0 && spoolEntry == nil }
}

/// Delivers a stream of result batches to one Testomat.io run, never losing one.
///
/// Starts by creating (or adopting) the run. Each batch is uploaded with the
/// transport's retries; the first batch that still fails switches the uploader
/// to spooling, and that batch and every later one (and the closing request)
/// are written to the spool for `testbridge flush`, instead of hammering a
/// service that is down. Result `rid`s travel without the run prefix until the
/// moment they are sent.
public actor ResultUploader {
  private let client: TestomatioClient
  private let config: TestomatioConfig
  private let spool: Spool
  private let onEvent: @Sendable (String) -> Void
  private var report = DeliveryReport()
  private var entry: Spool.Entry?
  private var manifest: SpoolManifest

  public init(
    client: TestomatioClient, config: TestomatioConfig, spool: Spool, onEvent: @escaping @Sendable (String) -> Void
  ) {
    self.client = client
    self.config = config
    self.spool = spool
    self.onEvent = onEvent
    self.manifest = SpoolManifest(
      baseURL: config.baseURL.absoluteString, runID: config.runID, runRequest: Payloads.run(config),
      adoptRunID: config.runID, finish: nil, createdAt: Date())
    manifest.runRequest.apiKey = nil
  }

  /// The run's id once created or adopted (or the id being adopted, even if that failed).
  public var runID: String? { report.run?.uid ?? config.runID }

  /// Creates or adopts the run. On failure the delivery carries on into the spool.
  public func start() async {
    do {
      let run: RunInfo
      if let runID = config.runID {
        run = try await client.updateRun(runID, Payloads.run(config))
      } else {
        run = try await client.createRun(Payloads.run(config))
      }
      report.run = run
      manifest.runID = run.uid
      onEvent("Testomat.io run \(run.uid)\(run.url.map { ": \($0)" } ?? "")")
    } catch {
      report.problems.append(error.description)
      openSpool(reason: error)
    }
  }

  public func submit(_ batch: BatchBody) async {
    if entry == nil, let run = report.run {
      do {
        try await client.uploadBatch(run.uid, Self.prefixed(batch, runID: run.uid))
        report.deliveredResults += batch.tests.count
        onEvent("uploaded batch \(batch.batchIndex): \(batch.tests.count) results (\(report.deliveredResults) in all)")
        return
      } catch {
        report.problems.append(error.description)
        openSpool(reason: error)
      }
    }
    save(batch)
  }

  /// Closes the run (unless `proceed`) and returns how the delivery went.
  public func finish(_ body: FinishBody?) async -> DeliveryReport {
    guard let body, !config.proceed else { return report }
    if entry == nil, let run = report.run {
      do {
        try await client.finishRun(run.uid, body)
        report.finished = true
        return report
      } catch {
        report.problems.append(error.description)
        openSpool(reason: error)
      }
    }
    manifest.finish = body
    manifest.finish?.apiKey = nil
    if let entry {
      do {
        try spool.writeManifest(manifest, to: entry)
      } catch {
        // The spooled batches cannot go into a closed run, so it stays open: say how to close it.
        report.problems.append(error.description)
        let run = report.run.map { "run '\($0.uid)'" } ?? "the run flush creates"
        let command = report.run.map { "testbridge finish --run \($0.uid) --status \(body.statusEvent)" } ?? "testbridge finish"
        report.problems.append(
          "closing \(run) could not be kept in the spool, so flush will leave it open; once flush has delivered the results, close it with: \(command)")
      }
    }
    return report
  }

  // MARK: - Spooling

  private func openSpool(reason: TestomatioError) {
    guard entry == nil else { return }
    do {
      entry = try spool.createEntry(manifest)
      report.spoolEntry = entry
      onEvent("Testomat.io is not taking results; keeping them in \(entry?.directory.path ?? spool.root.path)")
    } catch {
      report.problems.append(error.description)
    }
  }

  private func save(_ batch: BatchBody) {
    guard let entry else {
      report.lostResults += batch.tests.count
      return
    }
    do {
      try spool.addBatch(batch, to: entry)
      report.spooledResults += batch.tests.count
    } catch {
      report.lostResults += batch.tests.count
      report.problems.append(error.description)
    }
  }

  static func prefixed(_ batch: BatchBody, runID: String) -> BatchBody {
    var batch = batch
    for index in batch.tests.indices {
      batch.tests[index].rid = Payloads.rid(runID: runID, suffix: batch.tests[index].rid)
    }
    return batch
  }
}

/// Sends spooled deliveries: `testbridge flush`.
public struct SpoolFlusher: Sendable {
  public let spool: Spool
  public let apiKey: String
  public let makeClient: @Sendable (URL) -> TestomatioClient
  /// Send through the client but leave the spool as it is: no batch is removed, no manifest
  /// rewritten (a dry run, whose client only records the requests).
  public var keepsSpool: Bool

  public init(
    spool: Spool, apiKey: String, keepsSpool: Bool = false, makeClient: @escaping @Sendable (URL) -> TestomatioClient
  ) {
    self.spool = spool
    self.apiKey = apiKey
    self.keepsSpool = keepsSpool
    self.makeClient = makeClient
  }

  public struct Outcome: Sendable {
    public var entry: String
    public var runID: String?
    public var delivered: Int
    public var finished: Bool
    public var error: TestomatioError?
  }

  /// Delivers every entry in order; each batch file is removed once Testomat.io took it,
  /// so running flush again after an interruption sends only what is left (and any
  /// batch sent twice replaces itself, by `rid`).
  public func flushAll(onEvent: @Sendable (String) -> Void) async -> [Outcome] {
    var outcomes: [Outcome] = []
    for entry in spool.entries() {
      outcomes.append(await flush(entry, onEvent: onEvent))
    }
    return outcomes
  }

  public func flush(_ entry: Spool.Entry, onEvent: @Sendable (String) -> Void) async -> Outcome {
    var outcome = Outcome(entry: entry.name, runID: nil, delivered: 0, finished: false, error: nil)
    do {
      var manifest = try spool.manifest(of: entry)
      guard let baseURL = URL(string: manifest.baseURL) else {
        throw TestomatioError.spool(path: entry.directory.path, reason: "bad base URL '\(manifest.baseURL)'")
      }
      let client = makeClient(baseURL)
      if manifest.runID == nil {
        let run = try await client.createRun(manifest.runRequest)
        manifest.runID = run.uid
        if !keepsSpool { try spool.writeManifest(manifest, to: entry) }
        onEvent("created Testomat.io run \(run.uid)\(run.url.map { ": \($0)" } ?? "")")
      }
      guard let runID = manifest.runID else { return outcome }
      outcome.runID = runID
      for file in spool.batchFiles(of: entry) {
        let batch = try spool.batch(at: file)
        try await client.uploadBatch(runID, ResultUploader.prefixed(batch, runID: runID))
        if !keepsSpool { spool.remove(file) }
        outcome.delivered += batch.tests.count
        onEvent("sent \(batch.tests.count) results from \(entry.name)/\(file.lastPathComponent)")
      }
      if let finish = manifest.finish {
        try await client.finishRun(runID, finish)
        outcome.finished = true
      }
      if !keepsSpool { spool.remove(entry.directory) }
    } catch let error as TestomatioError {
      outcome.error = error
    } catch {
      outcome.error = .spool(path: entry.directory.path, reason: "\(error)")
    }
    return outcome
  }
}
