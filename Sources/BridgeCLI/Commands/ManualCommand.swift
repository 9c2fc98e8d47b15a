import BridgeCore
import Foundation
import JUnit
import Runner
import Testomatio

/// `testbridge manual`: walk a tester through a Markdown plan (or take the
/// answers from a file) and report the verdicts like automated results.
struct ManualCommand: Command {
  static let spec = CommandSpec(
    name: "manual",
    abstract: "Run a manual test plan (Markdown) interactively or from an answers file, and report the verdicts.",
    discussion: """
      On a terminal each test is shown with its steps and answered p(ass), f(ail), s(kip), n(ote) or \
      q(uit); a step's '$ command' is run first and its output shown. Every answer is saved to the \
      progress file at once: quitting keeps the answers, and the same command resumes at the first \
      unanswered test. Results are reported once every test is answered.

      Without a terminal (CI) the answers come from --answers FILE (one line per test: pass|fail|skip, \
      then the title or @T id, then optionally 'note: …'); tests without an answer are reported as \
      skipped. Without a terminal and without answers, manual stops at once (exit 64).

      A new Testomat.io run is of kind manual, titled after the plan (with the branch and commit \
      when the CI names them); with --run / TESTOMATIO_RUN / run (Testomat.io's CI input) the \
      results join that run (for a mixed run: testbridge start --kind mixed, then run and manual \
      with --proceed, then finish).

      Exit status: 1 when a test failed (a dry run too); 4 with --strict when results were not \
      delivered (spooled) or --junit-out could not be written (a warning without it); 0 otherwise \
      (also after quitting midway); 64 for usage errors and when nobody can answer.
      See docs/manual-plans.md for the plan and answers formats.
      """,
    options: [
      OptionSpec("answers", valueName: "FILE", help: "Take the verdicts from this file instead of asking."),
      OptionSpec("junit-out", valueName: "FILE", help: "Also write the results as a JUnit file."),
      OptionSpec(
        "progress", valueName: "FILE",
        help: "Where answers are saved as they are given. (default: .PLAN.progress.json beside the plan)"),
      RunExitPolicy.strictFlag,
    ] + connectionOptions + RunInputs.runOptions + TestomatioOptions.results,
    positionals: [PositionalSpec("PLAN", help: "The Markdown test plan.")]
  )

  /// The connection options; a dry run exits with the verdicts, as `run` does.
  static let connectionOptions: [OptionSpec] = TestomatioOptions.connection.map { option in
    guard option.long == "dry-run" else { return option }
    var dryRun = option
    dryRun.help = "Print every request that would be sent and send nothing (the exit status still follows the verdicts)."
    return dryRun
  }

  static func run(_ arguments: ParsedArguments, context: CommandContext) async throws -> ExitStatus {
    try await run(
      arguments, context: context, input: StandardInputLines(), isTerminal: TerminalPrompt.standardInputIsTerminal)
  }

  /// The command with its input injected (tests script the tester).
  static func run(
    _ arguments: ParsedArguments, context: CommandContext, input: any LineSource, isTerminal: Bool
  ) async throws(CLIError) -> ExitStatus {
    let planPath = arguments.positional("PLAN").first ?? ""
    let plan = try loadPlan(planPath, context: context)
    let answersPath = arguments.value("answers")
    do {
      try TerminalPrompt.requireInteractive(isTTY: isTerminal, hasAnswers: answersPath != nil)
    } catch {
      throw CLIError(error.description, exitStatus: .usage)
    }
    // A new run is a manual one named after the plan; a run being joined keeps its own kind
    // (a mixed run stays mixed) and title.
    let delivery = try ResultsDelivery(
      RunInputs.defaultingTitle(arguments, to: plan.title, ci: CIEnvironment.detect(context.environment)),
      context: context, kind: arguments.value("run") == nil ? "manual" : nil)

    let session: ManualSession
    var sitting: TimeInterval?
    let progressPath = context.absolutePath(
      arguments.value("progress") ?? ManualProgressFile.defaultPath(forPlan: context.absolutePath(planPath)))
    if let answersPath {
      session = try answeredSession(plan, answersPath: answersPath, context: context)
    } else {
      let started = Date()
      let asked = try await interactiveSession(plan, progressPath: progressPath, input: input, context: context)
      guard asked.isComplete else {
        context.stdout.write(
          "\nStopped with \(asked.answeredCount) of \(plan.tests.count) tests answered; the answers are kept in "
            + "'\(progressPath)'. Run the same command to carry on. Nothing was reported.\n")
        return .success
      }
      session = asked
      sitting = Date().timeIntervalSince(started)
    }

    let results = ManualOutcomes.results(plan: plan, answers: session.givenAnswers)
    var reportingFailed = false
    if let path = arguments.value("junit-out") {
      reportingFailed = !RunCommand.writeJUnit(withIdentifiers(results), to: path, name: plan.title, context: context)
    }
    _ = await delivery.start()
    let outcome = await delivery.deliver(.testcases(results), wallClock: sitting)
    render(plan, outcome.streamed, to: context.stdout)
    if delivery.printOutcome(outcome), !delivery.isDryRun { reportingFailed = true }
    CIReporter(context: context).publish(
      CIReporter.Publication(
        title: arguments.value("title") ?? plan.title, totals: outcome.streamed.totals, failing: outcome.streamed.failing,
        runURL: outcome.delivery?.run.flatMap { $0.publicURL ?? $0.url }))
    if answersPath == nil { ManualProgressFile.remove(path: progressPath) }
    let strict = arguments.flag("strict")
    let status = RunExitPolicy.status(
      totals: outcome.streamed.totals, reportProblems: false, reportingFailed: reportingFailed, strict: strict)
    RunExitPolicy.warnIfNotShown(reportingFailed: reportingFailed, strict: strict, status: status, context: context)
    return status
  }

  // MARK: - Steps

  static func loadPlan(_ path: String, context: CommandContext) throws(CLIError) -> ManualPlan {
    let text: String
    do {
      text = try String(contentsOfFile: context.absolutePath(path), encoding: .utf8)
    } catch {
      throw CLIError("cannot read the plan '\(path)': \(Self.reason(error))")
    }
    do {
      return try ManualPlanParser.parse(text, path: path)
    } catch {
      throw CLIError(error.description)
    }
  }

  static func answeredSession(_ plan: ManualPlan, answersPath: String, context: CommandContext) throws(CLIError)
    -> ManualSession
  {
    let text: String
    do {
      text = try String(contentsOfFile: context.absolutePath(answersPath), encoding: .utf8)
    } catch {
      throw CLIError("cannot read the answers '\(answersPath)': \(Self.reason(error))")
    }
    let session: ManualSession
    do {
      session = try ManualSession(
        plan: plan, answers: AnswersFile.parse(text, path: answersPath), answersPath: answersPath)
    } catch {
      throw CLIError(error.description)
    }
    let missing = plan.tests.count - session.answeredCount
    if missing > 0 {
      context.warn(
        "\(missing) of \(plan.tests.count) tests have no answer in '\(answersPath)': they are reported as skipped")
    }
    return session
  }

  /// Asks the tester, resuming saved progress and saving after every answer.
  static func interactiveSession(
    _ plan: ManualPlan, progressPath: String, input: any LineSource, context: CommandContext
  ) async throws(CLIError) -> ManualSession {
    var session = ManualSession(plan: plan)
    do {
      if let progress = try ManualProgressFile.load(path: progressPath) {
        session = ManualSession(plan: plan, resuming: progress)
        context.stdout.write(
          "Resuming '\(plan.title)': \(session.answeredCount) of \(plan.tests.count) tests answered "
            + "(progress in '\(progressPath)')\n")
        for answer in session.discardedAnswers {
          context.warn("a saved answer for '\(answer.reference)' names no test of the plan any more; it is dropped")
        }
      } else {
        context.stdout.write("\(plan.title): \(plan.tests.count) \(plan.tests.count == 1 ? "test" : "tests")\n")
      }
    } catch {
      throw CLIError(error.description)
    }
    let stdout = context.stdout
    let prompt = TrackingPrompt(
      base: TerminalPrompt(input: input) { text in
        stdout.write(text)
        stdout.flush()
      })
    let runner = ProcessRunner(baseEnvironment: context.environment)
    let planDirectory = URL(fileURLWithPath: context.absolutePath(plan.path)).deletingLastPathComponent().path
    // While a step's command runs, Ctrl-C stops the command; at the prompt it stops testbridge
    // (every answer is already saved).
    let forwarder = SignalForwarder(runner: runner) { signal in
      guard !prompt.isRunningCommand else { return }
      stdout.write("\nInterrupted; the answers so far are kept in '\(progressPath)'.\n")
      stdout.flush()
      exit(128 + signal)
    }
    forwarder.start()
    defer { forwarder.stop() }
    let driver = ManualSessionDriver(
      prompt: prompt, commands: ManualCommandRunner(runner: runner, workingDirectory: planDirectory),
      save: { progress throws(ManualPlanError) in try ManualProgressFile.save(progress, path: progressPath) })
    do {
      return try await driver.run(session)
    } catch {
      throw CLIError(error.description)
    }
  }

  /// The results with their Testomat.io id and Jira keys as properties, so the JUnit file
  /// carries them (`testomatio`, `jira`: names every JUnit reader here understands).
  static func withIdentifiers(_ results: [TestCaseResult]) -> [TestCaseResult] {
    results.map { result in
      var result = result
      if let id = result.testomatioID { result.properties.append(Property(name: "testomatio", value: "@T\(id)")) }
      if !result.jiraKeys.isEmpty {
        result.properties.append(Property(name: "jira", value: result.jiraKeys.joined(separator: ", ")))
      }
      return result
    }
  }

  static func render(_ plan: ManualPlan, _ streamed: StreamedReports, to sink: any TextSink) {
    let totals = streamed.totals
    let noun = totals.tests == 1 ? "test" : "tests"
    sink.write("\ntestbridge manual: \(plan.title), \(SummaryRenderer.count(totals.tests)) \(noun)\n\n")
    sink.write(SummaryRenderer.totalsTable(totals))
    if !streamed.failing.isEmpty {
      sink.write("\nFailures:\n")
      for testcase in streamed.failing { sink.write(SummaryRenderer.failureLines(testcase)) }
    }
  }

  private static func reason(_ error: any Error) -> String {
    let nsError = error as NSError
    if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
      return String(cString: strerror(Int32(underlying.code))).lowercased()
    }
    if nsError.domain == NSCocoaErrorDomain, nsError.code == NSFileReadNoSuchFileError { return "no such file" }
    return nsError.localizedDescription
  }
}

/// Passes everything to the terminal prompt, and knows whether a step's command is running.
private final class TrackingPrompt: TesterPrompt {
  private let base: any TesterPrompt
  private let running = Locked(false)

  init(base: any TesterPrompt) {
    self.base = base
  }

  var isRunningCommand: Bool { running.withLock { $0 } }

  func show(_ test: ManualTest, index: Int, of count: Int) { base.show(test, index: index, of: count) }
  func ask() async -> PromptReply { await base.ask() }

  func commandStarted(_ command: String) {
    running.withLock { $0 = true }
    base.commandStarted(command)
  }

  func commandOutput(_ bytes: [UInt8], isError: Bool) { base.commandOutput(bytes, isError: isError) }

  func commandFinished(_ command: String, result: ChildResult) {
    base.commandFinished(command, result: result)
    running.withLock { $0 = false }
  }
}
