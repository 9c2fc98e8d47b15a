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
    var writer = JSONWriter(reservingCapacity: 128 * 1024)
    for (index, test) in tests.enumerated() {
      writer.raw(index == 0 ? "\n    " : ",\n    ")
      write(test, to: &writer)
      if writer.bytes.count > 64 * 1024 { writer.drain(to: sink) }
    }
    writer.drain(to: sink)
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

  private func write(_ test: LogicalTest, to json: inout JSONWriter) {
    let final = test.final
    let outcome = test.outcome
    let explaining = outcome == .skipped ? nil : test.explainingResult
    let skipped = final.results.first { $0.kind == .skipped }
    json.raw("{")
    json.key("suite", first: true)
    json.stringArray(test.key.suitePath)
    json.key("classname")
    json.string(final.classname)
    json.key("name")
    json.string(final.name)
    json.key("file")
    json.string(final.file)
    json.key("line")
    json.number(final.line)
    json.key("outcome")
    json.string(outcome.rawValue)
    json.key("duration")
    json.number(test.duration)
    json.key("attempts")
    json.stringArray(test.attempts.map(\.status.rawValue))
    json.key("testomatio_id")
    json.string(test.testomatioID)
    json.key("jira")
    json.stringArray(test.jiraKeys)
    json.key("message")
    json.string(explaining?.message)
    json.key("type")
    json.string(explaining?.type)
    json.key("text")
    json.string(explaining?.text)
    json.key("skipped_message")
    json.string(skipped?.message ?? skipped?.text)
    json.key("system_out")
    json.string(final.systemOut)
    json.key("system_err")
    json.string(final.systemErr)
    json.key("properties")
    json.raw("[")
    for (index, property) in final.properties.enumerated() {
      json.raw(index == 0 ? "{\"name\": " : ", {\"name\": ")
      json.string(property.name)
      json.raw(", \"value\": ")
      json.string(property.value)
      json.raw("}")
    }
    json.raw("]")
    json.key("suite_level")
    json.bool(final.isSuiteLevel)
    json.key("incomplete")
    json.bool(test.attempts.contains { $0.incomplete })
    json.raw("}")
  }
}
