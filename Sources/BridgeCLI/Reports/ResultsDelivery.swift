import BridgeCore
import Foundation
import JUnit
import Testomatio

/// Delivering one set of results: to Testomat.io when an API key is set,
/// otherwise only counted and shown. Shared by `report`, `run` and `manual`.
struct ResultsDelivery {
  let context: CommandContext
  /// Nil when reporting is off (no API key and no dry run).
  let config: TestomatioConfig?
  let services: HTTPServices?
  private let uploader: ResultUploader?
  /// Nil when Jira is off (no `JIRA_URL`).
  let jira: JiraStep?
  /// How the user resends spooled results (names `--spool-dir` when it is not the default).
  let flushCommand: String

  init(_ arguments: ParsedArguments, context: CommandContext, kind: String? = nil) throws(CLIError) {
    self.context = context
    self.flushCommand = TestomatioOptions.flushCommand(arguments)
    let dryRun = arguments.flag("dry-run")
    let jiraSettings = try JiraSettings.parse(arguments, context: context)
    guard let apiKey = TestomatioOptions.apiKey(arguments) ?? (dryRun ? "tstmt_dry_run" : nil) else {
      config = nil
      services = nil
      uploader = nil
      jira = try jiraSettings.map { settings throws(CLIError) in
        try JiraStep(settings: settings, arguments: arguments, context: context, testomatio: nil)
      }
      return
    }
    var config = try TestomatioOptions.config(arguments, apiKey: apiKey, context: context)
    if config.kind == nil { config.kind = kind }
    let services = try HTTPServices(arguments, context: context)
    let client = TestomatioClient(
      transport: services.transport, baseURL: config.baseURL, apiKey: apiKey, timeout: config.requestTimeout)
    let stderr = context.stderr
    self.config = config
    self.services = services
    self.uploader = ResultUploader(
      client: client, config: config, spool: TestomatioOptions.spool(arguments, context: context),
      onEvent: { message in if !dryRun { stderr.write("testbridge: \(message)\n") } })
    self.jira = try jiraSettings.map { settings throws(CLIError) in
      try JiraStep(settings: settings, arguments: arguments, context: context, testomatio: client)
    }
  }

  /// Keep a record per test (the command writes a shard results file).
  var collectTests = false

  var isReporting: Bool { uploader != nil }
  var isDryRun: Bool { services?.dryRun != nil }

  /// Creates or adopts the run (before tests start, so it shows as running).
  /// Returns the run id when one is known.
  func start() async -> String? {
    guard let uploader else { return nil }
    await uploader.start()
    return await uploader.runID
  }

  /// What happened to a set of results.
  struct Outcome {
    var streamed: StreamedReports
    var delivery: DeliveryReport?
    /// What the Jira step did, when Jira is on.
    var jira: JiraDeliveryReport?
  }

  /// Reads (or takes) the results, delivers them when reporting is on, and closes the run.
  /// `wallClock` is the run's duration when known (the command's own run time).
  /// `failRun` closes the run as failed whatever the results say (`run`: the command itself failed).
  func deliver(_ source: ReportStreamer.Source, wallClock: TimeInterval? = nil, failRun: Bool = false) async -> Outcome {
    guard let uploader, let config else {
      let streamed = await ReportStreamer(
        source: source, config: TestomatioConfig(apiKey: ""), collectTests: collectTests, jiraIndex: jira?.emptyIndex
      ).run { _ in }
      let jiraReport = await jira?.deliver(streamed: streamed, run: nil, finishedAt: Date())
      return Outcome(streamed: streamed, delivery: nil, jira: jiraReport)
    }
    let started = Date()
    // A shard's Jira updates are made once for the whole run, by `finish --merge`.
    let jiraStep = config.isShard ? nil : jira
    let streamed = await ReportStreamer(
      source: source, config: config, collectTests: collectTests, jiraIndex: jiraStep?.emptyIndex
    ).run { batch in await uploader.submit(batch) }
    let elapsed = wallClock ?? (streamed.totals.duration > 0 ? streamed.totals.duration : Date().timeIntervalSince(started))
    let duration = (elapsed * 1000).rounded() / 1000
    var finish = Payloads.finish(apiKey: nil, totals: streamed.totals, duration: duration, shard: config.isShard)
    if failRun, !config.isShard { finish.statusEvent = "fail" }
    let delivery = await uploader.finish(finish)
    // Jira comes after Testomat.io: its links point at the run, and its trouble cannot hold the report back.
    let jiraReport = await jiraStep?.deliver(streamed: streamed, run: delivery.run, finishedAt: Date())
    return Outcome(streamed: streamed, delivery: delivery, jira: jiraReport)
  }

  /// Writes a shard's `testbridge-results/1` file (`--results-out`). With `--shards N`, the
  /// shard then reads the other shards' files beside it and, when it is the last of the set to
  /// end, closes the run once and makes the Jira updates for all of them (told by `printOutcome`).
  func writeResults(
    _ outcome: Outcome, to path: String, arguments: ParsedArguments, startedAt: Date, exitCode: Int32?
  ) async throws(CLIError) {
    let ci = CIEnvironment.detect(context.environment)
    let spec = try ShardSpec(arguments, ci: ci) ?? ShardSpec(id: "1", total: nil, attempt: ci.attempt ?? 1)
    let closingShards = try TestomatioOptions.closingShards(arguments)
    let delivered = outcome.delivery.map { $0.isComplete && ($0.finished || config?.proceed == true) }
    let file = ShardResults(
      runID: outcome.delivery?.run?.uid ?? config?.runID, title: config?.title, pipeline: ci.pipelineIdentity,
      shard: .init(id: spec.id, total: closingShards ?? spec.total, attempt: spec.attempt), startedAt: startedAt,
      pipelineStartedAt: ci.pipelineStartedAt, endedAt: Date(), exitCode: exitCode, delivered: delivered,
      tests: outcome.streamed.tests)
    try ShardFolder.write(file, to: path, context: context)
    if let closingShards, !isDryRun {
      await closeIfLast(file, shards: closingShards, folder: ShardFolder.directory(of: path, context: context), outcome: outcome)
    }
  }

  /// `--shards N`: closes the run when every shard of the set has written its file and this
  /// shard wins the claim for that set of attempts.
  private func closeIfLast(_ own: ShardResults, shards: Int, folder: String, outcome: Outcome) async {
    guard let config, let services, let runID = own.runID else {
      shardEnding.note("not closing the run: this shard reported into none (reporting is off, or creating the run failed)")
      return
    }
    guard own.delivered == true else {
      shardEnding.fail(
        "this shard's results wait in the spool, so it does not close run \(runID): after 'testbridge flush', "
          + "close it with 'testbridge finish --merge'")
      return
    }
    let files = ShardFolder.entries(in: folder, context: context).map(\.file).filter { $0.runID == runID }
    let merged = MergedShardResults(files, expectedShards: shards)
    guard merged.missingShards.isEmpty else {
      shardEnding.note(
        "shard \(own.shard.id) of \(shards) ended; the run stays open for shard(s) "
          + "\(merged.missingShards.joined(separator: ", ")) (the last to end closes it)")
      return
    }
    guard merged.undelivered.isEmpty else {
      shardEnding.fail(
        "every shard ended, but shard(s) \(merged.undelivered.joined(separator: ", ")) left results in their spool: "
          + "run \(runID) stays open; after 'testbridge flush', close it with 'testbridge finish --merge'")
      return
    }
    let closer = "shard \(own.shard.id) (attempt \(own.shard.attempt))"
    let claimed: Bool
    do {
      claimed = try ShardFolder.claim(in: folder, runID: runID, attemptSet: merged.attemptSet, by: closer)
    } catch {
      shardEnding.fail(error.message)
      return
    }
    guard claimed else {
      shardEnding.note("every shard ended; \(ShardFolder.claimant(in: folder, runID: runID, attemptSet: merged.attemptSet) ?? "another shard") closes run \(runID)")
      return
    }
    let client = TestomatioClient(
      transport: services.transport, baseURL: config.baseURL, apiKey: config.apiKey, timeout: config.requestTimeout)
    let status = RunClosing.status(merged)
    do {
      try await RunClosing.close(runID, status: status, duration: RunClosing.duration(merged), client: client)
    } catch {
      ShardFolder.release(in: folder, runID: runID, attemptSet: merged.attemptSet)
      shardEnding.fail("this shard ended last but could not close run \(runID): \(error.message); close it with 'testbridge finish --merge'")
      return
    }
    shardEnding.closed(merged, runID: runID, status: status)
    if let jira {
      let run = RunClosing.runInfo(runID, url: outcome.delivery?.run?.url, step: jira, client: client)
      await shardEnding.jira(jira, RunClosing.updateJiraReport(merged, run: run, step: jira))
    }
  }

  /// What the end of a shard set did (`--shards N`), told after the delivery.
  let shardEnding = ShardEnding()

  /// Prints what happened to the delivery (after the summary); returns true when
  /// results were not all delivered to Testomat.io (Jira trouble is only warned about). Prints
  /// the dry-run request lists instead in a dry run.
  func printOutcome(_ outcome: Outcome) -> Bool {
    let failed = printTestomatioOutcome(outcome)
    if let jira, let report = outcome.jira { jira.print(report, context: context) }
    let endingFailed = shardEnding.print(context: context)
    return failed || endingFailed
  }

  private func printTestomatioOutcome(_ outcome: Outcome) -> Bool {
    guard let config, let delivery = outcome.delivery else {
      context.stdout.write("\nTestomat.io reporting is off: set TESTOMATIO to a project API key to send these results.\n")
      return false
    }
    if let services, services.dryRun != nil {
      services.printDryRun(to: context.stdout)
      return false
    }
    return DeliveryMessages.print(delivery, config: config, flushCommand: flushCommand, context: context)
  }
}

/// What `--shards N` did at the end of a shard, kept until the delivery is told.
final class ShardEnding: @unchecked Sendable {
  private let lock = NSLock()
  private var notes: [String] = []
  private var errors: [String] = []
  private var merged: (MergedShardResults, runID: String, status: String)?
  private var jiraReport: (JiraStep, JiraDeliveryReport)?

  func note(_ text: String) { lock.withLock { notes.append(text) } }
  func fail(_ text: String) { lock.withLock { errors.append(text) } }
  func closed(_ merged: MergedShardResults, runID: String, status: String) {
    lock.withLock { self.merged = (merged, runID, status) }
  }
  func jira(_ step: JiraStep, _ report: JiraDeliveryReport) { lock.withLock { jiraReport = (step, report) } }

  /// Prints what happened; true when the run should have been closed here and was not.
  func print(context: CommandContext) -> Bool {
    let (notes, errors, merged, jiraReport) = lock.withLock { (self.notes, self.errors, self.merged, self.jiraReport) }
    for note in notes { context.stdout.write("testbridge: \(note)\n") }
    for error in errors { context.error(error) }
    if let (results, runID, status) = merged {
      context.stdout.write("\nThis shard ended last: Testomat.io run \(runID) finished (\(status)) for all shards\n")
      RunClosing.printMerge(results, context: context)
    }
    if let (step, report) = jiraReport { step.print(report, context: context) }
    return !errors.isEmpty
  }
}
