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

  /// A file's modification time as the file system keeps it.
  struct FileTime: Sendable, Hashable {
    var seconds: Int
    var nanoseconds: Int

    /// True when the time has no fraction of a second: the file system may keep whole seconds only.
    var isWholeSecond: Bool { nanoseconds == 0 }
  }

  /// How much earlier than the start a sub-second modification time may be and still
  /// count as fresh: Linux stamps files from a clock read at the last timer tick (up to
  /// 10 ms behind the precise clock the start is taken from).
  static let clockTolerance: TimeInterval = 0.01

  /// Expands `patterns` and drops stale files unless `includeStale`.
  ///
  /// A file is stale when its modification time, at full resolution, is before the
  /// start by more than ``clockTolerance``. A whole-second modification time (from a
  /// file system that keeps only seconds, or truncated to them) is compared with the
  /// start's own second instead, so a report written just after the start is not
  /// taken for an old one.
  static func collect(
    _ patterns: [String], startedAt: Date, includeStale: Bool,
    modificationTime: (String) -> FileTime? = RunReports.modificationTime
  ) -> RunReports {
    let found = ReportFinder().find(patterns)
    var reports = RunReports(problems: found.problems)
    for file in found.files {
      if !includeStale, let modified = modificationTime(file), isStale(modified, startedAt: startedAt) {
        reports.stale.append(file)
      } else {
        reports.files.append(file)
      }
    }
    return reports
  }

  static func isStale(_ modified: FileTime, startedAt: Date) -> Bool {
    let start = startedAt.timeIntervalSince1970
    if modified.isWholeSecond { return Double(modified.seconds) < start.rounded(.down) }
    // Compared in whole seconds first: a Date carries ~0.1 µs at today's epoch, plenty for the remainder.
    let startSecond = start.rounded(.down)
    let difference = (Double(modified.seconds) - startSecond) + (Double(modified.nanoseconds) / 1e9 - (start - startSecond))
    return difference < -clockTolerance
  }

  static func modificationTime(_ path: String) -> FileTime? {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil }
    return FileTime(seconds: Int(info.st_mtim.tv_sec), nanoseconds: Int(info.st_mtim.tv_nsec))
  }
}
