/// Finds where a failure happened from the stack text a runner printed.
///
/// Used when a testcase has no `file`/`line` attributes: the first frame that
/// points into the workspace names the test's source file. Recognised frames:
/// Python (`File "/ws/a.py", line 12`), JavaScript and most compilers
/// (`/ws/a.js:12:5`, `(/ws/a.js:12)`), and Go's workspace-relative
/// `a_test.go:12:` at the start of a line.
public enum SourceLocator {
  public struct Location: Sendable, Hashable {
    public var file: String
    public var line: Int
  }

  public static func firstWorkspaceFrame(in text: String, workspace: String) -> Location? {
    guard !text.isEmpty else { return nil }
    let bytes = Array(text.utf8)
    var root = Array(workspace.utf8)
    while root.count > 1, root.last == UInt8(ascii: "/") { root.removeLast() }
    if root.count > 1, let found = scanAbsolute(bytes, root: root + [UInt8(ascii: "/")]) { return found }
    return scanRelativeLineStart(bytes)
  }

  /// Makes an absolute path under the workspace relative to it; other paths stay as they are.
  public static func relativeToWorkspace(_ path: String, workspace: String) -> String {
    var root = workspace
    while root.count > 1, root.hasSuffix("/") { root.removeLast() }
    guard root.count > 1, path.hasPrefix(root + "/") else { return path }
    return String(path.dropFirst(root.count + 1))
  }

  private static func isPathTerminator(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "\""), UInt8(ascii: "'"), UInt8(ascii: ":"), UInt8(ascii: "("),
      UInt8(ascii: ")"), UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"),
      UInt8(ascii: "\t"), UInt8(ascii: ","):
      return true
    default: return false
    }
  }

  private static func readNumber(_ bytes: [UInt8], at start: Int) -> (value: Int, end: Int)? {
    var index = start
    var value = 0
    while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39, index - start < 9 {
      value = value * 10 + Int(bytes[index] - 0x30)
      index += 1
    }
    return index > start && value > 0 ? (value, index) : nil
  }

  private static func scanAbsolute(_ bytes: [UInt8], root: [UInt8]) -> Location? {
    var index = 0
    while index + root.count < bytes.count {
      guard bytes[index] == root[0], bytes[index..<index + root.count].elementsEqual(root) else {
        index += 1
        continue
      }
      var end = index + root.count
      while end < bytes.count, !isPathTerminator(bytes[end]) { end += 1 }
      let relative = String(decoding: bytes[(index + root.count)..<end], as: UTF8.self)
      if !relative.isEmpty, relative.contains(".") {
        if end < bytes.count, bytes[end] == UInt8(ascii: ":"), let number = readNumber(bytes, at: end + 1) {
          return Location(file: relative, line: number.value)
        }
        // Python: File "/ws/a.py", line 12
        let pythonMarker = Array("\", line ".utf8)
        if end + pythonMarker.count < bytes.count,
          bytes[end..<end + pythonMarker.count].elementsEqual(pythonMarker),
          let number = readNumber(bytes, at: end + pythonMarker.count)
        {
          return Location(file: relative, line: number.value)
        }
      }
      index = end
    }
    return nil
  }

  /// Go's `    foo_test.go:12: message`: a relative source path opening a line.
  private static func scanRelativeLineStart(_ bytes: [UInt8]) -> Location? {
    var lineStart = 0
    while lineStart < bytes.count {
      var index = lineStart
      while index < bytes.count, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") {
        index += 1
      }
      var end = index
      while end < bytes.count, !isPathTerminator(bytes[end]) { end += 1 }
      if end > index, end < bytes.count, bytes[end] == UInt8(ascii: ":"), bytes[index] != UInt8(ascii: "/") {
        let path = String(decoding: bytes[index..<end], as: UTF8.self)
        if path.contains("."), !path.contains("://"), let number = readNumber(bytes, at: end + 1),
          number.end < bytes.count, bytes[number.end] == UInt8(ascii: ":")
        {
          return Location(file: path, line: number.value)
        }
      }
      guard let newline = bytes[lineStart...].firstIndex(of: UInt8(ascii: "\n")) else { break }
      lineStart = newline + 1
    }
    return nil
  }
}
