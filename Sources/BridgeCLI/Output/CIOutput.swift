import BridgeCore
import Foundation

/// Output for GitHub Actions: job summary Markdown, `::error` annotations, step outputs.
enum GitHubOutput {
  /// Markdown for `$GITHUB_STEP_SUMMARY`: totals, failures with messages, links.
  static func summary(title: String, totals: RunTotals, failing: [TestCaseResult], links: [(String, String)]) -> String {
    var text = "### \(totals.hasFailures ? "❌" : "✅") \(markdownEscape(title))\n\n"
    text += "| passed | failed | errors | skipped | flaky | total | time |\n"
    text += "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
    text += "| \(totals.passed) | \(totals.failed) | \(totals.errors) | \(totals.skipped) | \(totals.flaky) | \(totals.tests) | \(SummaryRenderer.duration(totals.duration)) |\n"
    if !failing.isEmpty {
      text += "\n<details open><summary>Failures (\(totals.failed + totals.errors))</summary>\n\n"
      for testcase in failing {
        let name = (testcase.suitePath.last.map { "\($0) › " } ?? "") + testcase.name
        var line = "- **\(markdownEscape(name))**"
        if let file = testcase.file { line += " `\(file)\(testcase.line.map { ":\($0)" } ?? "")`" }
        if let result = testcase.decidingResult, let message = result.message ?? result.text {
          line += ": " + markdownEscape(SummaryRenderer.firstLine(message, limit: 300))
        }
        text += line + "\n"
      }
      text += "\n</details>\n"
    }
    for (label, url) in links { text += "\n[\(markdownEscape(label))](\(url))" }
    return text + (links.isEmpty ? "" : "\n")
  }

  /// `::error file=…,line=…,title=…::message` lines for failing tests, at most `cap`.
  static func annotations(failing: [TestCaseResult], cap: Int = 50) -> [String] {
    failing.prefix(cap).map { testcase in
      var properties: [String] = []
      if let file = testcase.file { properties.append("file=\(escapeProperty(file))") }
      if let line = testcase.line { properties.append("line=\(line)") }
      let name = (testcase.suitePath.last.map { "\($0) › " } ?? "") + testcase.name
      properties.append("title=\(escapeProperty(name))")
      let result = testcase.decidingResult
      let message = result?.message ?? result?.text ?? "failed"
      return "::error \(properties.joined(separator: ","))::\(escapeData(message))"
    }
  }

  /// `name=value` lines for `$GITHUB_OUTPUT`.
  static func outputs(runURL: String?, totals: RunTotals) -> String {
    var lines = [
      "passed=\(totals.passed)", "failed=\(totals.failed + totals.errors)", "skipped=\(totals.skipped)",
      "flaky=\(totals.flaky)",
    ]
    lines.insert("run_url=\(runURL ?? "")", at: 0)
    return lines.joined(separator: "\n") + "\n"
  }

  /// Workflow-command escaping of a message.
  static func escapeData(_ text: String) -> String {
    text.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "\r", with: "%0D")
      .replacingOccurrences(of: "\n", with: "%0A")
  }

  /// Workflow-command escaping of a property value (also `:` and `,`).
  static func escapeProperty(_ text: String) -> String {
    escapeData(text).replacingOccurrences(of: ":", with: "%3A").replacingOccurrences(of: ",", with: "%2C")
  }

  static func markdownEscape(_ text: String) -> String {
    var result = ""
    for character in text {
      if "\\`*_{}[]<>|#".contains(character) { result.append("\\") }
      result.append(character == "\n" ? " " : character)
    }
    return result
  }
}

/// GitLab CI collapsible log sections.
enum GitLabOutput {
  static func sectionStart(_ name: String, header: String, collapsed: Bool, at time: Date) -> String {
    let stamp = Int(time.timeIntervalSince1970)
    return "\u{1B}[0Ksection_start:\(stamp):\(sanitized(name))\(collapsed ? "[collapsed=true]" : "")\r\u{1B}[0K\(header)\n"
  }

  static func sectionEnd(_ name: String, at time: Date) -> String {
    "\u{1B}[0Ksection_end:\(Int(time.timeIntervalSince1970)):\(sanitized(name))\r\u{1B}[0K\n"
  }

  private static func sanitized(_ name: String) -> String {
    String(name.map { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." || $0 == "-" ? $0 : "_" })
  }
}
