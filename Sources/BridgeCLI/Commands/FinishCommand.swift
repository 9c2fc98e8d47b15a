import BridgeCore
import Foundation
import Testomatio

/// `testbridge finish`: close a run once, optionally merging the shards' results first.
struct FinishCommand: Command {
  static let spec = CommandSpec(
    name: "finish",
    abstract: "Close a Testomat.io run once; with --merge, after merging the results files its shards wrote.",
    discussion: """
      With --merge, the run (named by the files, or --run) is closed with the status of all \
      shards together and the pipeline's wall-clock duration (first shard's start to last \
      shard's end, not the sum). A retried shard's later attempt replaces its earlier one. \
      Shards that never reported (with --shards N) are named and the run is marked failed.

      Exit status: 0 when closed; 1 when shards are missing, or the run could not be closed.
      """,
    options: TestomatioOptions.connection + JiraOptions.specs + [
      OptionSpec("run", valueName: "ID", help: "The run to close. (default: the run the --merge files name)", environment: ["TESTOMATIO_RUN"]),
      OptionSpec(
        "status", valueName: "STATUS",
        help: "finish (Testomat.io works the status out from the results), pass or fail. With --merge: from the merged results.",
        allowedValues: ["finish", "pass", "fail"]),
      OptionSpec("duration", valueName: "SECONDS", help: "Run length to record. With --merge: the pipeline's wall-clock time."),
      OptionSpec("merge", kind: .repeatable, valueName: "GLOB", help: "Results files written by the shards with --results-out."),
      OptionSpec("shards", valueName: "N", help: "How many shards should have reported (missing ones fail the run)."),
    ] + ProjectConfig.options
  )

  static func run(_ arguments: ParsedArguments, context: CommandContext) async throws -> ExitStatus {
    var merged: MergedShardResults?
    if !arguments.values("merge").isEmpty {
      merged = try mergeResults(arguments, context: context)
    }
    guard let runID = arguments.value("run").flatMap({ $0.isEmpty ? nil : $0 }) ?? merged?.runIDs.first else {
      throw CLIError("no run to finish: set TESTOMATIO_RUN, pass --run ID, or --merge results files that name it")
    }
    if let merged, merged.runIDs.count > 1 {
      context.warn("the results files name \(merged.runIDs.count) runs (\(merged.runIDs.joined(separator: ", "))); closing '\(runID)'")
    }
    let (client, services) = try TestomatioOptions.client(arguments, context: context)
    var duration = merged.map { ($0.wallClock * 1000).rounded() / 1000 }
    if let text = arguments.value("duration") {
      guard let seconds = Double(text), seconds >= 0, seconds.isFinite else {
        throw CLIError("The value '\(text)' is invalid for '--duration <SECONDS>': expected seconds", exitStatus: .usage)
      }
      duration = seconds
    }
    let status = arguments.value("status") ?? merged.map { $0.shouldFail ? "fail" : "pass" } ?? "finish"
    do {
      try await client.finishRun(runID, FinishBody(apiKey: nil, statusEvent: status, duration: duration))
    } catch {
      throw CLIError(error.description)
    }
    services.printDryRun(to: context.stdout)
    if services.dryRun == nil { context.stdout.write("Testomat.io run \(runID) finished (\(status))\n") }
    // The shards left Jira alone: it is updated once, here, for the union of their results.
    if let merged, let settings = try JiraSettings.parse(arguments, context: context) {
      let step = try JiraStep(settings: settings, arguments: arguments, context: context, testomatio: client)
      var streamed = StreamedReports()
      streamed.totals = merged.totals
      var index = step.emptyIndex
      for test in merged.tests { index.add(test) }
      streamed.jiraIndex = index
      // The reporter API does not say where a run lives; with the project slug the link can point at it.
      let url = settings.projectSlug.map {
        client.baseURL.appendingPathComponent("projects/\($0)/runs/\(runID)").absoluteString
      }
      let report = await step.deliver(streamed: streamed, run: RunInfo(uid: runID, url: url), finishedAt: Date())
      step.print(report, context: context)
    }
    if let merged, !merged.missingShards.isEmpty { return .failure }
    return .success
  }

  /// Reads and merges the shards' files, printing what was found.
  static func mergeResults(_ arguments: ParsedArguments, context: CommandContext) throws(CLIError) -> MergedShardResults {
    let found = ReportFinder().find(arguments.values("merge"))
    for problem in found.problems { context.warn(problem.description) }
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    var files: [ShardResults] = []
    for path in found.files {
      do {
        let file = try decoder.decode(ShardResults.self, from: Data(contentsOf: URL(fileURLWithPath: context.absolutePath(path))))
        guard file.format == ShardResults.formatName else {
          context.warn("'\(path)' is '\(file.format)', not \(ShardResults.formatName): skipped")
          continue
        }
        files.append(file)
      } catch {
        context.warn("'\(path)' is not a testbridge results file: skipped")
      }
    }
    var expected: Int?
    if let text = arguments.value("shards") {
      guard let count = Int(text), count > 0 else {
        throw CLIError("The value '\(text)' is invalid for '--shards <N>': expected a positive number", exitStatus: .usage)
      }
      expected = count
    }
    let merged = MergedShardResults(files, expectedShards: expected)
    context.stdout.write(
      "Merged \(merged.shards.count) shard(s): \(SummaryRenderer.count(merged.totals.tests)) tests in "
        + "\(SummaryRenderer.duration(merged.wallClock)) of wall-clock time\n\n")
    context.stdout.write(SummaryRenderer.totalsTable(merged.totals))
    for replaced in merged.replacedAttempts {
      context.stdout.write("  shard \(replaced.id): attempt \(replaced.attempt) replaced by a later attempt\n")
    }
    if !merged.missingShards.isEmpty {
      context.error("shard(s) \(merged.missingShards.joined(separator: ", ")) never reported: the run is marked failed")
    }
    return merged
  }
}
