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
      shards together and the pipeline's wall-clock duration (the pipeline's start when a file \
      names it, else the first shard's start, to the last shard's end; not the sum). A retried \
      shard's later attempt replaces its earlier one. Shards that never reported (with --shards N) \
      are named and the run is marked failed. Files naming more than one run are an error \
      unless --run picks one (the others' files are then left out).

      Exit status: 0 when closed (and for --dry-run); 1 when shards are missing, or the run could not be closed.
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
    let chosenRun = arguments.value("run").flatMap { $0.isEmpty ? nil : $0 }
    var merge: Merge?
    if !arguments.values("merge").isEmpty {
      merge = try mergeResults(arguments, run: chosenRun, context: context)
    }
    let merged = merge?.results
    guard let runID = chosenRun ?? merged?.runIDs.first else {
      throw CLIError("no run to finish: set TESTOMATIO_RUN, pass --run ID, or --merge results files that name it")
    }
    let (client, services) = try TestomatioOptions.client(arguments, context: context)
    var duration = merged.map(RunClosing.duration)
    if let text = arguments.value("duration") {
      guard let seconds = Double(text), seconds >= 0, seconds.isFinite else {
        throw CLIError("The value '\(text)' is invalid for '--duration <SECONDS>': expected seconds", exitStatus: .usage)
      }
      duration = seconds
    }
    let status = arguments.value("status") ?? merged.map(RunClosing.status) ?? "finish"
    if let merged, !merged.undelivered.isEmpty {
      context.warn(
        "shard(s) \(merged.undelivered.joined(separator: ", ")) left results in their spool: "
          + "the run is closed without them unless they are flushed first")
    }
    // When the last shard (--shards N) closes runs in the same folder, the two never both close.
    var claim: (folder: String, attempts: String)?
    if let merged, let folder = merge?.folder, merged.missingShards.isEmpty, services.dryRun == nil {
      claim = (folder, merged.attemptSet)
      guard try ShardFolder.claim(in: folder, runID: runID, attemptSet: merged.attemptSet, by: "testbridge finish") else {
        let closer = ShardFolder.claimant(in: folder, runID: runID, attemptSet: merged.attemptSet) ?? "another job"
        context.stdout.write("Testomat.io run \(runID) was already closed for these shard attempts by \(closer): not closed again\n")
        return .success
      }
    }
    do {
      try await RunClosing.close(runID, status: status, duration: duration, client: client)
    } catch {
      if let claim { ShardFolder.release(in: claim.folder, runID: runID, attemptSet: claim.attempts) }
      throw error
    }
    services.printDryRun(to: context.stdout)
    if services.dryRun == nil { context.stdout.write("Testomat.io run \(runID) finished (\(status))\n") }
    // The shards left Jira alone: it is updated once, here, for the union of their results.
    if let merged, let settings = try JiraSettings.parse(arguments, context: context) {
      let step = try JiraStep(settings: settings, arguments: arguments, context: context, testomatio: client)
      await RunClosing.updateJira(
        merged, run: RunClosing.runInfo(runID, url: nil, step: step, client: client), step: step, context: context)
    }
    // A dry run shows the missing shards and the failed close it would send, and sends nothing.
    if let merged, !merged.missingShards.isEmpty, services.dryRun == nil { return .failure }
    return .success
  }

  /// The merged results and the one folder they were read from (nil when several).
  struct Merge {
    var results: MergedShardResults
    var folder: String?
  }

  /// Reads and merges the shards' files, printing what was found. With `run`, files naming
  /// another run are left out; without it, files naming more than one run are an error.
  static func mergeResults(_ arguments: ParsedArguments, run: String?, context: CommandContext) throws(CLIError) -> Merge {
    let found = ReportFinder().find(arguments.values("merge"))
    for problem in found.problems { context.warn(problem.description) }
    let read = ShardFolder.read(found.files, context: context)
    for problem in read.problems { context.warn(problem) }
    var entries = read.entries
    if let run {
      let others = entries.filter { $0.file.runID != nil && $0.file.runID != run }
      if !others.isEmpty {
        context.warn(
          "left out \(others.count) results file(s) of other runs (--run \(run)): "
            + others.map { "'\($0.path)' (\($0.file.runID ?? "?"))" }.joined(separator: ", "))
        entries.removeAll { $0.file.runID != nil && $0.file.runID != run }
      }
    }
    var expected: Int?
    if let text = arguments.value("shards") {
      guard let count = Int(text), count > 0 else {
        throw CLIError("The value '\(text)' is invalid for '--shards <N>': expected a positive number", exitStatus: .usage)
      }
      expected = count
    }
    let runs = Set(entries.compactMap(\.file.runID)).sorted()
    if run == nil, runs.count > 1 {
      let byRun = runs.map { id in
        "\(id) (\(entries.filter { $0.file.runID == id }.map { "'\($0.path)'" }.joined(separator: ", ")))"
      }
      throw CLIError(
        "the results files name \(runs.count) runs: \(byRun.joined(separator: "; ")). "
          + "Pass --run ID to close one of them; the files of the others are then left out")
    }
    let merged = MergedShardResults(entries.map(\.file), expectedShards: expected)
    RunClosing.printMerge(merged, context: context)
    if !merged.missingShards.isEmpty {
      context.error("shard(s) \(merged.missingShards.joined(separator: ", ")) never reported: the run is marked failed")
    }
    let folders = Set(entries.map { ShardFolder.directory(of: $0.path, context: context) })
    return Merge(results: merged, folder: folders.count == 1 ? folders.first : nil)
  }
}
