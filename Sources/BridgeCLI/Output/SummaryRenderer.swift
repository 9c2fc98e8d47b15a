import BridgeCore
import JUnit

/// The human summary: totals table, failing tests, and report problems.
struct SummaryRenderer {
  /// Shown before the totals, e.g. "3 reports".
  var heading: String

  func render(_ loaded: LoadedReports, to sink: any TextSink) {
    let totals = loaded.totals
    let fileWord = loaded.files.count == 1 ? "report" : "reports"
    sink.write("\(heading): \(loaded.files.count) \(fileWord), \(Self.count(totals.testcases)) testcases, \(Self.count(totals.tests)) tests\n\n")
    sink.write(Self.totalsTable(totals))
    if !loaded.failing.isEmpty {
      let failingCount = totals.failed + totals.errors
      let more = failingCount > loaded.failing.count ? " (first \(loaded.failing.count) of \(failingCount))" : ""
      sink.write("\nFailures\(more):\n")
      for testcase in loaded.failing { sink.write(Self.failureLines(testcase)) }
    }
    let problems = loaded.finderProblems.map(\.description)
      + loaded.brokenFiles.map { file in
        let kept = file.testcaseCount > 0 ? " (\(file.testcaseCount) \(file.testcaseCount == 1 ? "testcase" : "testcases") before the break kept, marked incomplete)" : ""
        return (file.error?.description ?? file.path) + kept
      }
    if !problems.isEmpty {
      sink.write("\nProblems:\n")
      for problem in problems { sink.write("  ! \(problem)\n") }
    }
  }

  static func totalsTable(_ totals: RunTotals) -> String {
    let rows: [(String, Int)] = [
      ("passed", totals.passed), ("failed", totals.failed), ("errors", totals.errors),
      ("skipped", totals.skipped), ("flaky", totals.flaky),
    ]
    let width = max(5, rows.map { count($0.1).count }.max() ?? 1, count(totals.tests).count)
    var text = ""
    for (label, value) in rows {
      text += "  " + label.padding(9) + pad(count(value), width) + "\n"
    }
    text += "  " + "total".padding(9) + pad(count(totals.tests), width) + "   in " + duration(totals.duration) + "\n"
    return text
  }

  static func failureLines(_ testcase: TestCaseResult) -> String {
    var title = (testcase.suitePath.last.map { [$0] } ?? []) + [testcase.name]
    if testcase.isSuiteLevel { title = testcase.suitePath + ["(suite)"] }
    var line = "  ✘ " + title.joined(separator: " › ")
    if let file = testcase.file { line += "  (\(file)\(testcase.line.map { ":\($0)" } ?? ""))" }
    line += "\n"
    if let result = testcase.decidingResult {
      let message = result.message ?? result.text.map { firstLine($0) } ?? result.type ?? ""
      if !message.isEmpty { line += "      " + firstLine(message, limit: 200) + "\n" }
    }
    return line
  }

  static func firstLine(_ text: String, limit: Int = 200) -> String {
    let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
    return line.count > limit ? String(line.prefix(limit)) + "…" : line
  }

  static func count(_ value: Int) -> String {
    let digits = String(value)
    var result = ""
    for (index, character) in digits.enumerated() {
      if index > 0, (digits.count - index) % 3 == 0 { result += "," }
      result.append(character)
    }
    return result
  }

  static func duration(_ seconds: Double) -> String {
    // No run lasts 10^17 s; shown as it is, as the integer arithmetic below would overflow further out.
    guard seconds.isFinite, seconds < 1e17 else { return "\(seconds)s" }
    if seconds < 60 { return String(format3(seconds)) + "s" }
    let minutes = Int(seconds / 60)
    let rest = seconds - Double(minutes * 60)
    if minutes < 60 { return "\(minutes)m \(format1(rest))s" }
    return "\(minutes / 60)h \(minutes % 60)m \(format1(rest))s"
  }

  private static func format3(_ value: Double) -> String {
    let thousandths = Int((value * 1000).rounded())
    let fraction = String(thousandths % 1000)
    return "\(thousandths / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
  }

  private static func format1(_ value: Double) -> String {
    let tenths = Int((value * 10).rounded())
    return "\(tenths / 10).\(tenths % 10)"
  }

  private static func pad(_ text: String, _ width: Int) -> String {
    String(repeating: " ", count: max(0, width - text.count)) + text
  }
}

extension String {
  fileprivate func padding(_ width: Int) -> String {
    self + String(repeating: " ", count: max(0, width - count))
  }
}
