import BridgeCore
import Runner

/// Picks the exit status of `testbridge run`.
///
/// The command's own verdict comes first: a non-zero status passes through
/// (124 for a timeout, 127 for a missing command, 128+N for signal N). When it
/// exited 0, failing or erroring tests in its reports give 1; then, only with
/// `--strict`, undelivered results give 4; then a malformed report gives 3.
/// Reporting trouble never hides a red build, and never turns a green one red
/// unless asked to.
enum RunExitPolicy {
  static func status(
    termination: ChildTermination, totals: RunTotals, reportProblems: Bool, deliveryFailed: Bool, strict: Bool
  ) -> ExitStatus {
    let code = termination.exitCode
    if code != 0 { return ExitStatus(rawValue: code) }
    return ExitPolicy.status(totals: totals, reportProblems: reportProblems, deliveryFailed: strict && deliveryFailed)
  }
}
