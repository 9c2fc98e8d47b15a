import Foundation

/// Why a path or pattern given on the command line yielded no report.
public enum ReportFinderProblem: Sendable, Hashable, CustomStringConvertible {
  case noMatch(pattern: String)
  case notFound(path: String)
  case notRegularFile(path: String)

  public var description: String {
    switch self {
    case .noMatch(let pattern): return "no file matches '\(pattern)'"
    case .notFound(let path): return "'\(path)' does not exist"
    case .notRegularFile(let path): return "'\(path)' is not a regular file"
    }
  }
}

/// Expands report paths and globs into a deterministic list of files.
///
/// Each argument's matches are sorted byte-wise; arguments keep their order
/// and a file named twice is read once. A directory stands for every `.xml`
/// file below it. `**` walks real directories only: symbolic links to
/// directories are not followed, so a link loop cannot trap the walk. Globs
/// keep regular files (or links to them) and pass over devices, sockets and FIFOs.
public struct ReportFinder: Sendable {
  public struct Result: Sendable, Hashable {
    public var files: [String]
    public var problems: [ReportFinderProblem]
  }

  public init() {}

  public func find(_ arguments: [String]) -> Result {
    var files: [String] = []
    var seen = Set<String>()
    var problems: [ReportFinderProblem] = []
    for argument in arguments {
      let matches: [String]
      if GlobPattern.isPattern(argument) {
        matches = expand(GlobPattern(argument), absolute: argument.hasPrefix("/"))
        if matches.isEmpty { problems.append(.noMatch(pattern: argument)) }
      } else {
        switch kind(of: argument, followLinks: true) {
        case .none:
          problems.append(.notFound(path: argument))
          matches = []
        case .directory:
          let base = argument.hasSuffix("/") ? String(argument.dropLast()) : argument
          matches = expand(GlobPattern(base + "/**/*.xml"), absolute: argument.hasPrefix("/"))
          if matches.isEmpty { problems.append(.noMatch(pattern: base + "/**/*.xml")) }
        case .regular:
          matches = [argument]
        case .other:
          problems.append(.notRegularFile(path: argument))
          matches = []
        }
      }
      for match in matches where seen.insert(match).inserted { files.append(match) }
    }
    return Result(files: files, problems: problems)
  }

  // MARK: - Walking

  private enum Kind { case regular, directory, other }

  private func kind(of path: String, followLinks: Bool) -> Kind? {
    var info = stat()
    let status = followLinks ? stat(path, &info) : lstat(path, &info)
    guard status == 0 else { return nil }
    switch info.st_mode & S_IFMT {
    case S_IFREG: return .regular
    case S_IFDIR: return .directory
    default: return .other
    }
  }

  /// Sorted entries of a directory (names only), or empty when unreadable.
  private func entries(of directory: String) -> [String] {
    guard let handle = opendir(directory.isEmpty ? "." : directory) else { return [] }
    defer { closedir(handle) }
    var names: [String] = []
    while let entry = readdir(handle) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
      }
      if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
  }

  private func join(_ directory: String, _ name: String) -> String {
    if directory.isEmpty { return name }
    if directory == "/" { return "/" + name }
    return directory + "/" + name
  }

  private func expand(_ pattern: GlobPattern, absolute: Bool) -> [String] {
    var results: [String] = []
    walk(directory: absolute ? "/" : "", segments: pattern.segments[...], into: &results)
    return results.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
  }

  private func walk(directory: String, segments: ArraySlice<Substring>, into results: inout [String]) {
    guard let segment = segments.first else { return }
    let rest = segments.dropFirst()
    let isLast = rest.isEmpty
    if segment == "**" {
      // Zero directories...
      if isLast {
        collectAllFiles(under: directory, into: &results)
        return
      }
      walk(directory: directory, segments: rest, into: &results)
      // ...or one more real (non-link) directory, keeping `**` in front.
      for name in entries(of: directory) where !name.hasPrefix(".") {
        let path = join(directory, name)
        if kind(of: path, followLinks: false) == .directory {
          walk(directory: path, segments: segments, into: &results)
        }
      }
      return
    }
    if !GlobPattern.isPattern(String(segment)) {
      let path = join(directory, String(segment))
      if isLast {
        if kind(of: path, followLinks: true) == .regular { results.append(path) }
      } else if kind(of: path, followLinks: true) == .directory {
        walk(directory: path, segments: rest, into: &results)
      }
      return
    }
    for name in entries(of: directory) {
      // Like shells, `*` does not match hidden names unless the pattern starts with a dot.
      if name.hasPrefix("."), !segment.hasPrefix(".") { continue }
      guard GlobPattern.matchSegment(Substring(name), segment) else { continue }
      let path = join(directory, name)
      if isLast {
        if kind(of: path, followLinks: true) == .regular { results.append(path) }
      } else if kind(of: path, followLinks: true) == .directory {
        walk(directory: path, segments: rest, into: &results)
      }
    }
  }

  private func collectAllFiles(under directory: String, into results: inout [String]) {
    for name in entries(of: directory) where !name.hasPrefix(".") {
      let path = join(directory, name)
      switch kind(of: path, followLinks: false) {
      case .regular: results.append(path)
      case .directory: collectAllFiles(under: path, into: &results)
      default: if kind(of: path, followLinks: true) == .regular { results.append(path) }
      }
    }
  }
}
