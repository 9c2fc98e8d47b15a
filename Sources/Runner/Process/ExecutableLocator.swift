import Foundation

/// Finds the file a ``ChildCommand`` names, the way a shell would, but without one.
enum ExecutableLocator {
  /// Used when the environment has no `PATH` (the usual default of `sh`).
  static let defaultSearchPath = "/usr/local/bin:/usr/bin:/bin"

  /// The absolute path to execute, or the termination to report instead.
  static func locate(
    _ executable: String, searchPath: String?, workingDirectory: String?
  ) -> Result<String, LocateFailure> {
    guard !executable.isEmpty else { return .failure(.init(.notFound("command not found: ''"))) }
    let base = workingDirectory ?? FileManager.default.currentDirectoryPath
    if executable.contains("/") {
      let path = absolute(executable, base: base)
      switch check(path) {
      case .executable: return .success(path)
      case .missing: return .failure(.init(.notFound("no such file or directory: '\(executable)'")))
      case .notExecutable: return .failure(.init(.failedToStart("permission denied: '\(executable)'")))
      }
    }
    var sawNotExecutable = false
    for entry in (searchPath ?? defaultSearchPath).split(separator: ":", omittingEmptySubsequences: false) {
      // An empty entry means the current directory, as in POSIX `sh`.
      let directory = entry.isEmpty ? base : absolute(String(entry), base: base)
      let candidate = directory.hasSuffix("/") ? directory + executable : directory + "/" + executable
      switch check(candidate) {
      case .executable: return .success(candidate)
      case .notExecutable: sawNotExecutable = true
      case .missing: continue
      }
    }
    if sawNotExecutable { return .failure(.init(.failedToStart("permission denied: '\(executable)'"))) }
    return .failure(.init(.notFound("command not found: '\(executable)'")))
  }

  struct LocateFailure: Error {
    var termination: ChildTermination
    init(_ termination: ChildTermination) { self.termination = termination }
  }

  private enum Check { case executable, notExecutable, missing }

  private static func check(_ path: String) -> Check {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return .missing }
    if isDirectory.boolValue { return .notExecutable }
    return access(path, X_OK) == 0 ? .executable : .notExecutable
  }

  private static func absolute(_ path: String, base: String) -> String {
    if path.hasPrefix("/") { return path }
    return base.hasSuffix("/") ? base + path : base + "/" + path
  }
}
