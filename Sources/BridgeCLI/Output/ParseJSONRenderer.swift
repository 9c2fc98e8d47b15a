import BridgeCore
import JUnit

/// The `parse --format json` document (schema in the README):
/// `{"files": [...], "totals": {...}, "tests": [...]}`.
struct ParseJSONRenderer {
  func render(_ loaded: LoadedReports, to sink: any TextSink) {
    sink.write("{\n  \"files\": [")
    for (index, file) in loaded.files.enumerated() {
      sink.write(index == 0 ? "\n    " : ",\n    ")
      sink.write(fileObject(file))
    }
    sink.write(loaded.files.isEmpty ? "],\n" : "\n  ],\n")
    sink.write("  \"totals\": \(Self.totalsObject(loaded.totals)),\n")
    sink.write("  \"tests\": [")
    let tests = LogicalTest.group(loaded.testcases)
    for (index, test) in tests.enumerated() {
      sink.write(index == 0 ? "\n    " : ",\n    ")
      sink.write(testObject(test))
    }
    sink.write(tests.isEmpty ? "]\n}\n" : "\n  ]\n}\n")
  }

  static func totalsObject(_ totals: RunTotals) -> String {
    JSONText.object([
      ("testcases", String(totals.testcases)), ("tests", String(totals.tests)),
      ("passed", String(totals.passed)), ("failed", String(totals.failed)), ("errors", String(totals.errors)),
      ("skipped", String(totals.skipped)), ("flaky", String(totals.flaky)),
      ("duration", JSONText.number(totals.duration)),
    ])
  }

  private func fileObject(_ file: FileParseResult) -> String {
    var pairs = [("path", JSONText.string(file.path)), ("testcases", String(file.testcaseCount))]
    if let error = file.error {
      var errorPairs = [("message", JSONText.string(error.description))]
      if case .malformed(_, let line, let column, _) = error {
        errorPairs += [("line", String(line)), ("column", String(column))]
      } else if case .entitiesRefused(_, let line, let column, _) = error {
        errorPairs += [("line", String(line)), ("column", String(column))]
      }
      pairs.append(("error", JSONText.object(errorPairs)))
    }
    return JSONText.object(pairs)
  }

  private func testObject(_ test: LogicalTest) -> String {
    let final = test.final
    let explaining = test.explainingResult
    let skipped = final.results.first { $0.kind == .skipped }
    return JSONText.object([
      ("suite", JSONText.array(test.key.suitePath.map { JSONText.string($0) })),
      ("classname", JSONText.string(final.classname)),
      ("name", JSONText.string(final.name)),
      ("file", JSONText.string(final.file)),
      ("line", JSONText.number(final.line)),
      ("outcome", JSONText.string(test.outcome.rawValue)),
      ("duration", JSONText.number(test.duration)),
      ("attempts", JSONText.array(test.attempts.map { JSONText.string($0.status.rawValue) })),
      ("testomatio_id", JSONText.string(test.testomatioID)),
      ("jira", JSONText.array(test.jiraKeys.map { JSONText.string($0) })),
      ("message", JSONText.string(test.outcome == .skipped ? nil : explaining?.message)),
      ("type", JSONText.string(test.outcome == .skipped ? nil : explaining?.type)),
      ("text", JSONText.string(test.outcome == .skipped ? nil : explaining?.text)),
      ("skipped_message", JSONText.string(skipped?.message ?? skipped?.text)),
      ("system_out", JSONText.string(final.systemOut)),
      ("system_err", JSONText.string(final.systemErr)),
      ("properties", JSONText.array(final.properties.map {
        JSONText.object([("name", JSONText.string($0.name)), ("value", JSONText.string($0.value))])
      })),
      ("suite_level", final.isSuiteLevel ? "true" : "false"),
      ("incomplete", test.attempts.contains { $0.incomplete } ? "true" : "false"),
    ])
  }
}
