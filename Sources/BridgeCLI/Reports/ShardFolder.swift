import BridgeCore
import Foundation

/// The results files (`testbridge-results/1`) of a set of shards, read and written where
/// every shard (and the final job) can see them.
///
/// Files are written to a hidden temporary name, synced and renamed, so a reader sees a
/// shard's file whole or not at all. Closing a run once without a coordinator rests on two
/// properties of that folder: a rename is seen by every later listing, and creating a file
/// with `O_CREAT | O_EXCL` succeeds for exactly one of several writers (local file systems,
/// NFSv3 and later).
enum ShardFolder {
  /// A results file and where it was read from.
  struct Entry: Sendable {
    var path: String
    var file: ShardResults
  }

  /// Reads results files; anything else is named in `problems` and skipped.
  static func read(_ paths: [String], context: CommandContext) -> (entries: [Entry], problems: [String]) {
    let decoder = ShardResults.decoder()
    var entries: [Entry] = []
    var problems: [String] = []
    for path in paths {
      do {
        let file = try decoder.decode(ShardResults.self, from: Data(contentsOf: URL(fileURLWithPath: context.absolutePath(path))))
        guard file.format == ShardResults.formatName else {
          problems.append("'\(path)' is '\(file.format)', not \(ShardResults.formatName): skipped")
          continue
        }
        entries.append(Entry(path: path, file: file))
      } catch {
        problems.append("'\(path)' is not a testbridge results file: skipped")
      }
    }
    return (entries, problems)
  }

  /// The results files in `directory` (its `*.json` files that are results files; others are
  /// ignored without a word, as the folder may hold anything).
  static func entries(in directory: String, context: CommandContext) -> [Entry] {
    let absolute = context.absolutePath(directory)
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: absolute) else { return [] }
    let paths = names.filter { !$0.hasPrefix(".") && $0.hasSuffix(".json") }.sorted()
      .map { (absolute as NSString).appendingPathComponent($0) }
    return read(paths, context: context).entries
  }

  /// The folder a `--results-out` file lives in.
  static func directory(of path: String, context: CommandContext) -> String {
    (context.absolutePath(path) as NSString).deletingLastPathComponent
  }

  /// The run an earlier job of `pipeline` reported into, from the results files in `directory`:
  /// the run most files name (ties: the one reported first), with the other runs named.
  static func earlierRun(of pipeline: String, in directory: String, context: CommandContext)
    -> (runID: String, files: Int, others: [String])?
  {
    let named = entries(in: directory, context: context).filter { $0.file.pipeline == pipeline && $0.file.runID != nil }
    var counts: [String: (files: Int, first: Date)] = [:]
    for entry in named {
      guard let run = entry.file.runID else { continue }
      let current = counts[run] ?? (0, entry.file.startedAt)
      counts[run] = (current.files + 1, min(current.first, entry.file.startedAt))
    }
    let ranked = counts.sorted { ($0.value.files, $1.value.first) > ($1.value.files, $0.value.first) }
    guard let best = ranked.first else { return nil }
    return (best.key, best.value.files, ranked.dropFirst().map(\.key))
  }

  /// Writes a results file: temporary hidden name in the same folder, fsync, rename.
  static func write(_ file: ShardResults, to path: String, context: CommandContext) throws(CLIError) {
    let url = URL(fileURLWithPath: context.absolutePath(path))
    let data: Data
    do {
      data = try ShardResults.encoder().encode(file)
    } catch {
      throw CLIError("cannot write the results file '\(path)': \(error.localizedDescription)")
    }
    let temporary = url.deletingLastPathComponent()
      .appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
    let failure = data.withUnsafeBytes {
      FileDescriptorIO.writeAtomically($0, to: url.path, temporary: temporary.path, mode: 0o644)
    }
    if let failure { throw CLIError("cannot write the results file '\(path)': \(failure)") }
  }

  /// The marker that says who closed `runID` for this set of shard attempts.
  static func claimPath(in directory: String, runID: String, attemptSet: String) -> String {
    let safeRun = String(runID.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in attemptSet.utf8 {
      hash ^= UInt64(byte)
      hash = hash &* 0x0000_0100_0000_01B3
    }
    return (directory as NSString).appendingPathComponent(".testbridge-closed-\(safeRun)-\(String(hash, radix: 16))")
  }

  /// Claims the close of `runID` for `attemptSet`: true for exactly one caller (the marker is
  /// created with `O_EXCL`); false when someone already holds it.
  static func claim(in directory: String, runID: String, attemptSet: String, by closer: String) throws(CLIError) -> Bool {
    let path = claimPath(in: directory, runID: runID, attemptSet: attemptSet)
    let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    if descriptor < 0 {
      if errno == EEXIST { return false }
      throw CLIError("cannot claim the close of run '\(runID)' in '\(directory)': \(String(cString: strerror(errno)))")
    }
    let text = "{\"run_id\": \(JSONText.string(runID)), \"attempts\": \(JSONText.string(attemptSet)), \"closed_by\": \(JSONText.string(closer))}\n"
    _ = Array(text.utf8).withUnsafeBytes { FileDescriptorIO.writeAll(descriptor, $0) }
    close(descriptor)
    return true
  }

  /// Gives a claim back (the close it stood for failed), so a later attempt can close.
  static func release(in directory: String, runID: String, attemptSet: String) {
    unlink(claimPath(in: directory, runID: runID, attemptSet: attemptSet))
  }

  /// Who claimed the close of `runID` for `attemptSet` in `directory`, when someone did.
  static func claimant(in directory: String, runID: String, attemptSet: String) -> String? {
    let path = claimPath(in: directory, runID: runID, attemptSet: attemptSet)
    guard let data = FileManager.default.contents(atPath: path) else { return nil }
    let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    return (object?["closed_by"] as? String) ?? "another job"
  }
}
