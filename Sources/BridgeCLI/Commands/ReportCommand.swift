import BridgeCore
import Foundation
import JUnit
import Testomatio

/// `testbridge report`: parse reports and deliver them to a Testomat.io run.
struct ReportCommand: Command {
  static let spec = CommandSpec(
    name: "report",
    abstract: "Send JUnit XML results to a Testomat.io run (created, or adopted with --run).",
    discussion: """
      Without an API key (TESTOMATIO) the reports are only read and summarised: nobody needs \
      an account to try it. Results that cannot be delivered after retries are kept in the spool \
      folder; 'testbridge flush' sends them later, exactly once.

      With JIRA_URL set, each Jira issue the tests cover gets a link to the report with its own \
      counts and a run history property (see the README's Jira section and 'testbridge doctor'). \
      Jira trouble never changes the exit status: updates that could not be made are spooled \
      for 'testbridge flush' too.

      Exit status: 1 when tests failed (whatever happened to the report), 4 when results were \
      spooled instead of delivered, 3 when a report was malformed, 0 otherwise; 64 for usage errors.

      With --config, a profile supplies the Testomat.io project, the Jira site and the names of \
      the variables holding their secrets: the one named by --profile, else the one owning the \
      Jira projects the tests link (one profile per report; tests without a key go with the \
      others, or to the profile named 'default').
      """,
    options: TestomatioOptions.connection + TestomatioOptions.run + TestomatioOptions.results + TestomatioOptions.shard
      + ReportOptions.specs + ProjectConfig.options,
    positionals: [PositionalSpec("PATH_OR_GLOB", help: "Report files, directories or globs (** allowed).", repeating: true)]
  )

  static func run(_ arguments: ParsedArguments, context: CommandContext) async throws -> ExitStatus {
    var arguments = arguments
    var context = context
    var reportOptions = try ReportOptions(arguments, context: context)
    let found = ReportFinder().find(arguments.positionals)
    if found.files.isEmpty {
      for problem in found.problems { context.error(problem.description) }
      return .reportProblem
    }
    if let pending = context.pendingProfile {
      let keys = ReportLoader(options: reportOptions.junit).jiraKeys(in: found.files)
      (arguments, context) = try pending.routing(jiraKeys: keys, context: context)
      reportOptions = try ReportOptions(arguments, context: context)
    }
    var delivery = try ResultsDelivery(arguments, context: context)
    let resultsOut = arguments.value("results-out")
    delivery.collectTests = resultsOut != nil
    let startedAt = Date()
    _ = await delivery.start()
    let outcome = await delivery.deliver(.files(found.files, problems: found.problems, options: reportOptions.junit))
    if let resultsOut {
      try await delivery.writeResults(outcome, to: resultsOut, arguments: arguments, startedAt: startedAt, exitCode: nil)
    }
    SummaryRenderer(heading: "testbridge report").render(outcome.streamed.loaded, to: context.stdout)
    let deliveryFailed = delivery.printOutcome(outcome)
    if delivery.isDryRun { return .success }
    return ExitPolicy.status(
      totals: outcome.streamed.totals, reportProblems: outcome.streamed.loaded.hasProblems,
      deliveryFailed: deliveryFailed)
  }
}

/// How a delivery is told to the user (shared by `report` and `run`).
enum DeliveryMessages {
  /// Prints the outcome; returns true when results were not all delivered.
  /// `flushCommand` is how the user resends what was spooled (``TestomatioOptions/flushCommand(_:)``).
  static func print(
    _ delivery: DeliveryReport, config: TestomatioConfig, flushCommand: String = "testbridge flush", context: CommandContext
  ) -> Bool {
    for problem in delivery.problems { context.warn(problem) }
    if delivery.lostResults > 0 {
      context.error("\(delivery.lostResults) results could neither be delivered nor saved to the spool: they are lost")
    }
    if let entry = delivery.spoolEntry {
      context.error(
        "\(delivery.spooledResults) results were not delivered and are kept in '\(entry.directory.path)'; "
          + "send them with: \(flushCommand)")
    }
    if let run = delivery.run {
      let state = delivery.finished ? "finished" : (config.proceed ? "left open (--proceed)" : "not finished")
      context.stdout.write("\nTestomat.io run \(run.uid) (\(delivery.deliveredResults) results delivered, \(state))\n")
      if let url = run.publicURL ?? run.url { context.stdout.write("\(url)\n") }
    }
    return !delivery.isComplete
  }
}
