import BridgeCore
import Foundation
import Testomatio

/// Closing a sharded run once, from the merged results of its shards: the status over all
/// shards, the pipeline's wall-clock duration, then the Jira updates for the union. Used by
/// `testbridge finish --merge` and by the last shard to end (`--shards N`).
enum RunClosing {
  /// `fail` when a test failed, a shard is missing or a shard's command failed; else `pass`.
  static func status(_ merged: MergedShardResults) -> String { merged.shouldFail ? "fail" : "pass" }

  /// The pipeline's wall-clock time in seconds, to the millisecond.
  static func duration(_ merged: MergedShardResults) -> Double { (merged.wallClock * 1000).rounded() / 1000 }

  /// Sends the closing `PUT /api/reporter/{id}`.
  static func close(
    _ runID: String, status: String, duration: Double?, client: TestomatioClient
  ) async throws(CLIError) {
    do {
      try await client.finishRun(runID, FinishBody(apiKey: nil, statusEvent: status, duration: duration))
    } catch {
      throw CLIError(error.description)
    }
  }

  /// The Jira updates for every shard's results, made once, and told.
  static func updateJira(
    _ merged: MergedShardResults, run: RunInfo, step: JiraStep, context: CommandContext
  ) async {
    step.print(await updateJiraReport(merged, run: run, step: step), context: context)
  }

  /// The Jira updates for every shard's results, made once.
  static func updateJiraReport(_ merged: MergedShardResults, run: RunInfo, step: JiraStep) async -> JiraDeliveryReport {
    var streamed = StreamedReports()
    streamed.totals = merged.totals
    var index = step.emptyIndex
    for test in merged.tests { index.add(test) }
    streamed.jiraIndex = index
    return await step.deliver(streamed: streamed, run: run, finishedAt: Date())
  }

  /// Where the run lives when Testomat.io did not say: the reporter API does not, but with the
  /// project slug a link can point at it.
  static func runInfo(_ runID: String, url: String?, step: JiraStep?, client: TestomatioClient) -> RunInfo {
    let fallback = step?.settings.projectSlug.map {
      client.baseURL.appendingPathComponent("projects/\($0)/runs/\(runID)").absoluteString
    }
    return RunInfo(uid: runID, url: url ?? fallback)
  }

  /// The one-line account of a merge (`Merged 8 shard(s): …`), the totals table and the
  /// replaced attempts.
  static func printMerge(_ merged: MergedShardResults, context: CommandContext) {
    context.stdout.write(
      "Merged \(merged.shards.count) shard(s): \(SummaryRenderer.count(merged.totals.tests)) tests in "
        + "\(SummaryRenderer.duration(merged.wallClock)) of wall-clock time\n\n")
    context.stdout.write(SummaryRenderer.totalsTable(merged.totals))
    for replaced in merged.replacedAttempts {
      context.stdout.write("  shard \(replaced.id): attempt \(replaced.attempt) replaced by a later attempt\n")
    }
    if !merged.failedCommands.isEmpty {
      context.stdout.write("  shard(s) \(merged.failedCommands.joined(separator: ", ")): the test command failed\n")
    }
  }
}
