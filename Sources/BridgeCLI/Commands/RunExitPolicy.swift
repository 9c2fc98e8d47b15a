import BridgeCore
import Runner

/// Picks the exit status of `testbridge run` and `testbridge manual`.
///
/// The tests' outcome comes first: the command's own non-zero status passes
/// through (124 for a timeout, 127 for a missing command, 128+N for signal N);
/// when it exited 0 (or for `manual`, which has no command), failing or erroring
/// tests give 1. Then, only with `--strict`, reporting trouble gives 4: results not
/// delivered to Testomat.io (spooled), or a `--junit-out` / `--results-out` file
/// not written. Then a malformed report gives 3. Reporting trouble never hides a
/// red build, and never turns a green one red unless asked to: without `--strict`
/// it is a warning.
enum RunExitPolicy {
  /// The `--strict` flag of both commands.
  static let strictFlag = OptionSpec.flag(
    "strict",
    help: "Exit 4 when the tests passed but their results could not be delivered or written (otherwise a warning).")

  static func status(
    termination: ChildTermination = .exited(0), totals: RunTotals, reportProblems: Bool, reportingFailed: Bool,
    strict: Bool
  ) -> ExitStatus {
    let code = termination.exitCode
    if code != 0 { return ExitStatus(rawValue: code) }
    return ExitPolicy.status(totals: totals, reportProblems: reportProblems, deliveryFailed: strict && reportingFailed)
  }

  /// Says so when reporting failed but the exit status shows only the tests (green, no `--strict`).
  static func warnIfNotShown(reportingFailed: Bool, strict: Bool, status: ExitStatus, context: CommandContext) {
    guard reportingFailed, !strict, status == .success || status == .reportProblem else { return }
    context.warn("the exit status follows the tests, not the reporting (pass --strict to exit 4)")
  }
}

/// What `run` and `manual` share about the Testomat.io run they report into.
enum RunInputs {
  /// The run options, with Testomat.io's CI input `run` read after TESTOMATIO_RUN.
  static let runOptions: [OptionSpec] = TestomatioOptions.run.map { option in
    guard option.long == "run" else { return option }
    var adopted = option
    adopted.help = "Report into this existing run instead of creating one ('run' is Testomat.io's CI input)."
    adopted.environment.append("run")
    return adopted
  }

  /// The arguments with a default title for a new run: `name`, with the branch and commit
  /// when the CI names them. A run being adopted keeps its title, and a shared run is matched
  /// by the title its jobs agree on, so only a lone new run gets one.
  static func defaultingTitle(_ arguments: ParsedArguments, to name: String, ci: CIEnvironment) -> ParsedArguments {
    guard arguments.value("run") == nil, arguments.value("title") == nil, !arguments.flag("shared-run"),
      arguments.value("shared-run-timeout") == nil, !arguments.flag("run-from-ci")
    else { return arguments }
    return arguments.defaulting("title", to: CommandLineText.title(name, ci: ci))
  }
}
