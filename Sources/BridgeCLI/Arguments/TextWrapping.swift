/// Word wrapping for help text.
enum TextWrapping {
  /// Wraps `text` word by word so that no line is wider than `width`, unless
  /// a single word is.
  ///
  /// The first line starts with `prefix` (a label padded to the text
  /// column, or nothing); later lines start with `indent` spaces. Line
  /// breaks in `text` are kept, and each broken-off line starts again at
  /// `indent`. Trailing spaces are removed.
  static func wrap(_ text: String, width: Int, prefix: String = "", indent: Int) -> [String] {
    let padding = String(repeating: " ", count: indent)
    var lines: [String] = []
    for (number, paragraph) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      var line = number == 0 ? prefix : padding
      var lineHasWord = false
      for word in paragraph.split(separator: " ") {
        if lineHasWord, line.count + 1 + word.count > width {
          lines.append(line)
          line = padding + word
        } else {
          line += (lineHasWord ? " " : "") + word
        }
        lineHasWord = true
      }
      lines.append(line)
    }
    return lines.map(trimmingTrailingSpaces)
  }

  /// Wraps free text such as a discussion: each line keeps its own leading
  /// spaces, also on the lines it is broken into, so indented examples stay
  /// indented.
  static func wrapPreservingIndentation(_ text: String, width: Int) -> [String] {
    var lines: [String] = []
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
      let indent = line.prefix { $0 == " " }.count
      let body = String(line.dropFirst(indent))
      lines += wrap(body, width: width, prefix: String(repeating: " ", count: indent), indent: indent)
    }
    return lines
  }

  static func trimmingTrailingSpaces(_ line: String) -> String {
    var line = Substring(line)
    while line.last == " " { line.removeLast() }
    return String(line)
  }
}
