import BridgeCore

/// Picks the exit status of a command that reads reports and may deliver them.
///
/// Test failures win (1): reporting trouble never hides a red build. Then
/// undelivered results (4), then unreadable reports (3), then success (0).
enum ExitPolicy {
  static func status(totals: RunTotals, reportProblems: Bool, deliveryFailed: Bool) -> ExitStatus {
    if totals.hasFailures { return .failure }
    if deliveryFailed { return .deliveryFailed }
    if reportProblems { return .reportProblem }
    return .success
  }
}
