import BridgeCore
import Foundation

/// The reports a `run` command left behind: what `--junit` matched, minus the
/// files older than the command (left over from an earlier run).
struct RunReports: Sendable, Hashable {
  /// Reports to read, in `ReportFinder` order.
  var files: [String] = []
  /// Reports skipped because they were last written before the command started.
  var stale: [String] = []
  /// Patterns that matched nothing, paths that do not exist.
  var problems: [ReportFinderProblem] = []

  /// Expands `patterns` and drops stale files unless `includeStale`.
  ///
  /// A file is stale when it was last modified before the second the command
  /// started in: filesystems that keep whole seconds (or less) must not make a
  /// report written right after the start look old.
  static func collect(
    _ patterns: [String], startedAt: Date, includeStale: Bool,
    modificationDate: (String) -> Date? = RunReports.modificationDate
  ) -> RunReports {
    let found = ReportFinder().find(patterns)
    var reports = RunReports(problems: found.problems)
    let cutoff = startedAt.timeIntervalSince1970.rounded(.down)
    for file in found.files {
      if !includeStale, let modified = modificationDate(file), modified.timeIntervalSince1970 < cutoff {
        reports.stale.append(file)
      } else {
        reports.files.append(file)
      }
    }
    return reports
  }

  static func modificationDate(_ path: String) -> Date? {
    (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
  }
}
