import BridgeCore
import BridgeTestSupport
import Foundation
import JUnit
import Testing

/// One row of the corpus manifest (figures computed independently by count.py).
struct ManifestRow: Sendable, CustomStringConvertible {
  var path: String
  var testcases: Int
  var failures: Int
  var errors: Int
  var skipped: Int
  var flaky: Int
  var totalTime: Double
  var malformed: Bool
  var description: String { path }

  static func load() throws -> [ManifestRow] {
    let url = ProjectPaths.junitCorpus.appendingPathComponent("MANIFEST.tsv")
    let text = try String(contentsOf: url, encoding: .utf8)
    return text.split(separator: "\n").dropFirst().map { line in
      let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
      return ManifestRow(
        path: fields[0], testcases: Int(fields[4]) ?? -1, failures: Int(fields[5]) ?? -1,
        errors: Int(fields[6]) ?? -1, skipped: Int(fields[7]) ?? -1, flaky: Int(fields[8]) ?? -1,
        totalTime: Double(fields[9]) ?? -1, malformed: fields[10] == "yes")
    }
  }
}

@Suite struct CorpusTests {
  /// count.py sums negative `time` values; testbridge counts a negative time as 0
  /// (a clock that went backwards), so these files differ by the negative part.
  static let negativeTimeInCorpus: [String: Double] = [
    "jenkins-junit-plugin/junit-report-bad-duration.xml": -345_345
  ]

  static let rows: [ManifestRow] = (try? ManifestRow.load()) ?? []

  @Test func manifestHasEveryReport() {
    #expect(Self.rows.count == 80)
  }

  @Test(arguments: rows)
  func reportMatchesManifest(_ row: ManifestRow) throws {
    let path = ProjectPaths.junitCorpus.appendingPathComponent(row.path).path
    let report = JUnitParser.parseFile(at: path)
    if row.malformed {
      #expect(report.error != nil, "expected \(row.path) to be rejected")
      #expect(report.testcases.allSatisfy { $0.incomplete })
      return
    }
    if row.path == "enricomi/non-junit.xml" {
      #expect(report.error == .notJUnit(path: path, rootElement: "suites"))
      return
    }
    #expect(report.error == nil, "\(String(describing: report.error))")
    let cases = report.testcases.filter { !$0.isSuiteLevel }
    func count(_ kinds: Set<ResultElement.Kind>) -> Int {
      cases.filter { $0.results.contains { kinds.contains($0.kind) } }.count
    }
    #expect(cases.count == row.testcases)
    #expect(count([.failure]) == row.failures)
    #expect(count([.error]) == row.errors)
    #expect(count([.skipped]) == row.skipped)
    #expect(count([.flakyFailure, .flakyError, .rerunFailure, .rerunError]) == row.flaky)
    let total = cases.reduce(0.0) { $0 + ($1.duration ?? 0) }
    let expected = row.totalTime - (Self.negativeTimeInCorpus[row.path] ?? 0)
    #expect(abs(total - expected) < 0.000_5, "total time \(total) vs \(expected)")
  }
}
