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

  /// Writes a shard's `testbridge-results/1` file (`--results-out`).
  func writeResults(
    _ outcome: Outcome, to path: String, arguments: ParsedArguments, startedAt: Date, exitCode: Int32?
  ) throws(CLIError) {
    let ci = CIEnvironment.detect(context.environment)
    let spec = try ShardSpec(arguments, ci: ci) ?? ShardSpec(id: "1", total: nil, attempt: ci.attempt ?? 1)
    let file = ShardResults(
      runID: outcome.delivery?.run?.uid ?? config?.runID, title: config?.title,
      shard: .init(id: spec.id, total: spec.total, attempt: spec.attempt), startedAt: startedAt, endedAt: Date(),
      exitCode: exitCode, tests: outcome.streamed.tests)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    do {
      try encoder.encode(file).write(to: URL(fileURLWithPath: context.absolutePath(path)), options: .atomic)
    } catch {
      throw CLIError("cannot write the results file '\(path)': \(error.localizedDescription)")
    }
  }

  /// Prints what happened to the delivery (after the summary); returns true when
  /// results were not all delivered to Testomat.io (Jira trouble is only warned about). Prints
  /// the dry-run request lists instead in a dry run.
  func printOutcome(_ outcome: Outcome) -> Bool {
    let failed = printTestomatioOutcome(outcome)
    if let jira, let report = outcome.jira { jira.print(report, context: context) }
    return failed
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
