import BridgeCore
import Foundation
import JUnit
import Runner
import Testomatio

/// `testbridge run`: run a test command, stream its output, collect the JUnit XML
/// it wrote and report it; exit with the command's own verdict.
struct RunCommand: Command {
  static let commandOptions: [OptionSpec] = [
    OptionSpec(
      "junit", kind: .repeatable, valueName: "GLOB",
      help: "JUnit XML the command writes: a file, directory or glob (** allowed; quote it). Repeatable."),
    .flag("include-stale", help: "Also read reports last written before the command started (skipped and named otherwise)."),
    OptionSpec(
      "junit-out", valueName: "FILE",
      help: "Also write every result as one merged JUnit file (GitLab: artifacts:reports:junit)."),
    OptionSpec(
      "timeout", valueName: "SECONDS",
      help: "Stop the command after this long: SIGTERM to its process group, SIGKILL after --grace; exit 124."),
    OptionSpec(
      "grace", valueName: "SECONDS", help: "Time between SIGTERM and SIGKILL when the command is stopped.",
      defaultValue: "10"),
    RunExitPolicy.strictFlag,
    OptionSpec(
      "filter", valueName: "FILTER",
      help: "Run only the tests Testomat.io links to a Jira issue, tag, plan or label: testomatio:jira=KEY, "
        + "testomatio:tag=NAME, testomatio:plan=ID or testomatio:label=NAME."),
    OptionSpec(
      "grep", valueName: "IDS",
      help: "Run only these tests, in Testomat.io's grep form (T1a2b3c4d|T5e6f7a8b); 'grep' is Testomat.io's CI input.",
      environment: ["TESTBRIDGE_GREP", "grep"]),
  ]

  /// The connection options; a dry run still runs the command, and exits with its verdict.
  static let connectionOptions: [OptionSpec] = TestomatioOptions.connection.map { option in
    guard option.long == "dry-run" else { return option }
    var dryRun = option
    dryRun.help = "Print every request that would be sent and send nothing (the command still runs)."
    return dryRun
  }

  static let spec = CommandSpec(
    name: "run",
    abstract: "Run a test command, stream its output, and report the JUnit XML it writes to Testomat.io.",
    discussion: """
      The command runs without a shell (write 'sh -c "…"' for one), with its output streamed as it \
      comes. Ctrl-C and SIGTERM reach its whole process group. Before it starts, the Testomat.io run \
      is created (or adopted) and its id is handed to it as TESTOMATIO_RUN. A selection (--filter, \
      --grep) reaches it as TESTBRIDGE_GREP and grep in its environment, and replaces {grep} in its \
      arguments. Reports older than the command's start are skipped and named. Without an API key \
      (TESTOMATIO) the results are only shown.

      On GitHub Actions a job summary, ::error annotations and step outputs (run_url, passed, failed, \
      skipped, flaky) are written; on GitLab CI the command's log is a collapsible section.

      Exit status: the command's own when non-zero (124 timed out, 127 not found, 128+N killed by \
      signal N); otherwise 1 when its reports hold failures or errors, 4 with --strict when results \
      were not delivered or --junit-out / --results-out could not be written (a warning without it), \
      3 when a report was malformed, 0; 64 for usage errors.

      With --config, a profile supplies the Testomat.io project, the Jira site and the names of \
      the variables holding their secrets: the one named by --profile, else the one owning the \
      Jira project of --filter testomatio:jira=KEY. With several profiles and neither, the \
      command runs first and the Jira projects its tests link choose the profile, as for \
      'report'; the run is then created after the command, which gets no TESTOMATIO_RUN.
      """,
    options: commandOptions + connectionOptions + RunInputs.runOptions + TestomatioOptions.results + TestomatioOptions.shard
      + ReportOptions.specs + ProjectConfig.options,
    trailingCommand: "COMMAND [ARGS...]"
  )

  static func run(_ arguments: ParsedArguments, context: CommandContext) async throws -> ExitStatus {
    var arguments = arguments
    var context = context
    guard !arguments.trailing.isEmpty else {
      throw CLIError(
        "missing the command to run: put it after '--', e.g. testbridge run --junit 'reports/*.xml' -- npm test",
        exitStatus: .usage)
    }
    let settings = try RunSettings(arguments)
    let reportOptions = try ReportOptions(arguments, context: context)
    let ci = CIReporter(context: context)
    let display = CommandLineText.display(arguments.trailing)
    if context.pendingProfile != nil, let filter = settings.filter {
      throw CLIError(
        "--filter testomatio:\(filter.type)=… does not say which profile of the config to ask: pass --profile",
        exitStatus: .usage)
    }

    let grep = try await selection(arguments, settings: settings, context: context)

    // The run exists (and shows as running) before the command starts, unless the results
    // are still to choose the profile of --config.
    var prepared: PreparedDelivery?
    if let pending = context.pendingProfile {
      context.stderr.write(
        "testbridge: \(pending.path) has several profiles: the Jira projects the results link choose one after the command\n")
    } else {
      prepared = try await startDelivery(arguments, display: display, ci: ci, context: context)
    }

    let words = RunSelection.substitute(arguments.trailing, grep: grep)
    let command = ChildCommand(
      words[0], arguments: Array(words.dropFirst()),
      environment: RunSelection.childEnvironment(
        runID: prepared.flatMap { $0.delivery.isDryRun ? nil : $0.runID }, grep: grep),
      workingDirectory: context.workingDirectory)
    let result = await execute(
      command, display: CommandLineText.display(words), settings: settings, ci: ci, context: context)
    report(result.termination, settings: settings, context: context)

    // Reports: only those the command wrote, unless told otherwise.
    let reports = RunReports.collect(settings.junit, startedAt: result.startedAt, includeStale: settings.includeStale)
    let notes = warnAbout(reports, settings: settings, context: context)

    if let pending = context.pendingProfile {
      do {
        (arguments, context) = try pending.routing(
          jiraKeys: ReportLoader(options: reportOptions.junit).jiraKeys(in: reports.files), context: context)
      } catch {
        context.error("the results were not delivered: \(error.message)")
        context.stderr.write(
          "  report them with: testbridge report --config \(pending.path) --profile NAME \(settings.junit.joined(separator: " "))\n")
        // The tests' outcome still decides the exit status; only a green one becomes a usage error.
        let totals = ReportLoader(options: reportOptions.junit).load(reports.files, keepTestcases: false).totals
        let status = RunExitPolicy.status(
          termination: result.termination, totals: totals, reportProblems: false, reportingFailed: false, strict: false)
        return status == .success ? .usage : status
      }
      prepared = try await startDelivery(arguments, display: display, ci: ci, context: context)
    }
    guard let prepared else { return .usage }
    let delivery = prepared.delivery
    let deliveryArguments = prepared.arguments

    let commandFailed = result.exitCode != 0
    let resultsOut = arguments.value("results-out")
    let outcome = await delivery.deliver(
      .files(reports.files, problems: [], options: reportOptions.junit), wallClock: result.duration,
      failRun: commandFailed)
    var reportingFailed = false
    if let resultsOut {
      do {
        try await delivery.writeResults(
          outcome, to: resultsOut, arguments: deliveryArguments, startedAt: result.startedAt, exitCode: result.exitCode)
      } catch {
        context.warn(error.message)
        reportingFailed = true
      }
    }
    context.stdout.write("\n")
    if !reports.files.isEmpty {
      SummaryRenderer(heading: "testbridge run").render(outcome.streamed.loaded, to: context.stdout)
      context.stdout.write("\n")
    }
    context.stdout.write(
      "Command: \(display)\n  \(verdict(result.termination)) after \(SummaryRenderer.duration(result.duration))\n")
    if delivery.printOutcome(outcome), !delivery.isDryRun { reportingFailed = true }

    // Per-test outputs need the results again: up to 50 failures for annotations, all for --junit-out.
    var failing = outcome.streamed.failing
    let needsMoreFailures = ci.isGitHub && failing.count < outcome.streamed.totals.failed + outcome.streamed.totals.errors
    if settings.junitOut != nil || needsMoreFailures {
      let loaded = ReportLoader(options: reportOptions.junit).load(
        reports.files, keepTestcases: settings.junitOut != nil, failureLimit: CIReporter.annotationCap)
      failing = loaded.failing
      if let path = settings.junitOut {
        if !writeJUnit(loaded.testcases, to: path, name: "testbridge run", context: context) { reportingFailed = true }
      }
    }
    ci.publish(
      CIReporter.Publication(
        title: arguments.value("title") ?? display, totals: outcome.streamed.totals, failing: failing,
        runURL: outcome.delivery?.run.flatMap { $0.publicURL ?? $0.url },
        failureNote: commandFailed ? "\(display): \(verdict(result.termination))" : nil,
        notes: notes))

    let status = RunExitPolicy.status(
      termination: result.termination, totals: outcome.streamed.totals,
      reportProblems: outcome.streamed.loaded.hasProblems, reportingFailed: reportingFailed, strict: settings.strict)
    RunExitPolicy.warnIfNotShown(reportingFailed: reportingFailed, strict: settings.strict, status: status, context: context)
    return status
  }

  // MARK: - Steps

  /// A delivery whose run was created (or adopted), with the arguments it was built from.
  struct PreparedDelivery {
    var delivery: ResultsDelivery
    var arguments: ParsedArguments
    var runID: String?
  }

  /// Creates (or adopts) the Testomat.io run; a lone new run is named after its command.
  static func startDelivery(
    _ arguments: ParsedArguments, display: String, ci: CIReporter, context: CommandContext
  ) async throws -> PreparedDelivery {
    let deliveryArguments = RunInputs.defaultingTitle(arguments, to: display, ci: ci.ci)
    var delivery = try ResultsDelivery(deliveryArguments, context: context)
    delivery.collectTests = arguments.value("results-out") != nil
    let runID = await delivery.start()
    return PreparedDelivery(delivery: delivery, arguments: deliveryArguments, runID: runID)
  }

  /// The grep string handed to the command: from `--filter` (asked of Testomat.io), else `--grep` / its variables.
  static func selection(
    _ arguments: ParsedArguments, settings: RunSettings, context: CommandContext
  ) async throws(CLIError) -> String? {
    guard let filter = settings.filter else {
      guard let grep = arguments.value("grep")?.trimmingCharacters(in: .whitespaces), !grep.isEmpty else { return nil }
      return grep
    }
    if arguments.source("grep") == .flag {
      throw CLIError("give --filter or --grep, not both", exitStatus: .usage)
    }
    let (client, services) = try TestomatioOptions.client(arguments, context: context)
    let ids: [String]
    do {
      ids = try await client.testGrep(type: filter.type, id: filter.id).map(LinkedTests.normalise)
    } catch {
      throw CLIError("\(error.description); the command was not run")
    }
    services.printDryRun(to: context.stderr)
    guard !ids.isEmpty else {
      throw CLIError("Testomat.io links no tests to \(filter.type) '\(filter.id)': nothing to run")
    }
    let grep = LinkedTests.grep(ids)
    context.stderr.write("testbridge: \(ids.count) \(ids.count == 1 ? "test" : "tests") linked to \(filter.type) '\(filter.id)': \(grep)\n")
    return grep
  }

  /// Runs the command with its output streamed, signals forwarded and, on a terminal, a heartbeat.
  static func execute(
    _ command: ChildCommand, display: String, settings: RunSettings, ci: CIReporter, context: CommandContext
  ) async -> ChildResult {
    let runner = ProcessRunner(baseEnvironment: context.environment)
    let stderr = context.stderr
    context.stdout.flush()
    stderr.flush()
    ci.commandStarting(display)
    let relay = ChildOutputRelay(stdout: context.stdout, stderr: stderr)
    let forwarder = SignalForwarder(runner: runner) { signal in
      stderr.write("testbridge: passing \(SignalNames.name(signal)) to the command\n")
      stderr.flush()
    }
    forwarder.start()
    let started = ContinuousClock.now
    let heartbeat: Task<Void, Never>? =
      context.stdoutIsTerminal
      ? Task {
        var beat = Heartbeat()
        while !Task.isCancelled {
          do { try await Task.sleep(for: .seconds(1)) } catch { return }
          if let line = beat.tick(now: .now, started: started, lastOutput: relay.lastOutput) {
            stderr.write(line)
            stderr.flush()
          }
        }
      } : nil
    let result = await runner.run(
      command, options: RunOptions(timeout: settings.timeout, gracePeriod: settings.grace), output: relay)
    heartbeat?.cancel()
    forwarder.stop()
    relay.finish()
    ci.commandFinished()
    return result
  }

  /// `exited with status 3`, `killed by SIGTERM (exit 143)`, `command not found: 'x' (exit 127)`.
  static func verdict(_ termination: ChildTermination) -> String {
    if case .exited = termination { return termination.description }
    return "\(termination) (exit \(termination.exitCode))"
  }

  /// Says why the command did not simply exit.
  static func report(_ termination: ChildTermination, settings: RunSettings, context: CommandContext) {
    switch termination {
    case .exited:
      break
    case .notFound(let message), .failedToStart(let message):
      context.error(message)
    case .timedOut(let signal):
      let limit = settings.timeoutText ?? "its timeout"
      context.error("the command timed out after \(limit) and was stopped with \(SignalNames.name(signal)) (exit 124)")
    case .signaled(let signal):
      context.error("the command was killed by \(SignalNames.name(signal)) (exit \(termination.exitCode))")
    }
  }

  /// Warns about stale and missing reports; returns the same facts as notes for the CI summary.
  static func warnAbout(_ reports: RunReports, settings: RunSettings, context: CommandContext) -> [String] {
    var notes: [String] = []
    if !reports.stale.isEmpty {
      let shown = reports.stale.prefix(10).map { "'\($0)'" }.joined(separator: ", ")
      let more = reports.stale.count > 10 ? " and \(reports.stale.count - 10) more" : ""
      let message =
        "skipped \(reports.stale.count) stale \(reports.stale.count == 1 ? "report" : "reports") "
        + "(last written before the command started; --include-stale reads them): \(shown)\(more)"
      context.warn(message)
      notes.append(message)
    }
    for problem in reports.problems { context.warn(problem.description) }
    if reports.files.isEmpty {
      let message =
        settings.junit.isEmpty
        ? "no --junit given: the run is reported by the command's exit status only"
        : "no JUnit report found: the run is reported by the command's exit status only"
      context.warn(message)
      notes.append(message)
    }
    return notes
  }

  /// Writes `testcases` as one JUnit document; false (after a warning) when it cannot.
  static func writeJUnit(_ testcases: [TestCaseResult], to path: String, name: String, context: CommandContext) -> Bool {
    do {
      let sink = try FileDescriptorSink(path: context.absolutePath(path))
      var stream = SinkStream(sink)
      JUnitWriter(name: name).write(testcases, to: &stream)
      sink.flush()
      return true
    } catch {
      context.warn(error.message)
      return false
    }
  }
}

/// The `run` options that are not about Testomat.io, checked before anything starts.
struct RunSettings {
  var junit: [String]
  var includeStale: Bool
  var junitOut: String?
  var timeout: Duration?
  var timeoutText: String?
  var grace: Duration
  var strict: Bool
  var filter: RunSelection.Filter?

  init(_ arguments: ParsedArguments) throws(CLIError) {
    junit = arguments.values("junit")
    includeStale = arguments.flag("include-stale")
    junitOut = arguments.value("junit-out")
    strict = arguments.flag("strict")
    if let text = arguments.value("timeout") {
      timeout = try Self.seconds(text, option: "--timeout <SECONDS>", allowZero: false)
      timeoutText = Self.secondsText(text)
    }
    grace = try Self.seconds(arguments.value("grace") ?? "10", option: "--grace <SECONDS>", allowZero: true)
    filter = try arguments.value("filter").map(RunSelection.parseFilter)
  }

  static func seconds(_ text: String, option: String, allowZero: Bool) throws(CLIError) -> Duration {
    guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value.isFinite,
      allowZero ? value >= 0 : value > 0
    else {
      throw CLIError(
        "The value '\(text)' is invalid for '\(option)': expected \(allowZero ? "" : "positive ")seconds",
        exitStatus: .usage)
    }
    return .milliseconds(Int64((value * 1000).rounded()))
  }

  /// `30s`, `1.5s`, as the user wrote it.
  static func secondsText(_ text: String) -> String {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    if let value = Double(trimmed), value == value.rounded() { return "\(Int(value))s" }
    return trimmed + "s"
  }
}

/// How a command line is shown to people and used as a run title.
enum CommandLineText {
  /// The words as a shell would need them: plain words as they are, others single-quoted.
  static func display(_ words: [String]) -> String {
    words.map { word in
      if word.isEmpty { return "''" }
      if word.allSatisfy({ $0.isLetter || $0.isNumber || "-_./=:@%+,{}".contains($0) }) { return word }
      return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }.joined(separator: " ")
  }

  /// The default run title: the command, with the branch and commit when the CI names them.
  static func title(_ display: String, ci: CIEnvironment) -> String {
    var title = display.count > 80 ? String(display.prefix(79)) + "…" : display
    let place = [ci.branch, ci.commit.map { String($0.prefix(7)) }].compactMap { $0 }.joined(separator: " @ ")
    if !place.isEmpty { title += " (\(place))" }
    return title
  }
}
