import BridgeCore
import BridgeTestSupport
import Foundation
import Sandbox
import Testing

/// `parse --format junit` writes one merged report; reading that report again must give the
/// same totals, for every report of the shared corpus (the real binary, real files).
@Suite struct JUnitRoundTripTests {
  /// The corpus reports, by path relative to the corpus folder (from its MANIFEST.tsv).
  static let reports: [String] = {
    let manifest = ProjectPaths.junitCorpus.appendingPathComponent("MANIFEST.tsv")
    guard let text = try? String(contentsOf: manifest, encoding: .utf8) else { return [] }
    return text.split(separator: "\n").dropFirst().compactMap { $0.split(separator: "\t").first.map(String.init) }
  }()

  @Test func theCorpusIsThere() {
    #expect(Self.reports.count == 80)
  }

  /// The `totals` object of `parse --format json`.
  static func totals(_ path: String, directory: URL) async throws -> [String: JSONValue] {
    let output = try await ChildProcess.testbridgeAsync(["parse", "--format", "json", path], directory: directory)
    let object = try #require(JSONValue.parse(Data(output.stdout.utf8))?.objectValue, "\(path): \(output.stderr)")
    return try #require(object["totals"]?.objectValue)
  }

  @Test(arguments: reports)
  func theMergedReportReadsBackWithTheSameTotals(_ report: String) async throws {
    let corpus = ProjectPaths.junitCorpus
    let scratch = try ProjectPaths.temporaryDirectory("roundtrip")
    defer { try? FileManager.default.removeItem(at: scratch) }
    let merged = try await ChildProcess.testbridgeAsync(["parse", "--format", "junit", report], directory: corpus)
    #expect(merged.stdout.hasPrefix("<?xml"), "\(report): \(merged.stderr)")
    let copy = scratch.appendingPathComponent("merged.xml")
    try Data(merged.stdout.utf8).write(to: copy)

    let original = try await Self.totals(report, directory: corpus)
    let again = try await Self.totals(copy.path, directory: scratch)
    for name in ["testcases", "tests", "passed", "failed", "errors", "skipped", "flaky"] {
      #expect(again[name] == original[name], "\(report): \(name)")
    }
    let before = original["duration"]?.doubleValue ?? -1
    let after = again["duration"]?.doubleValue ?? -2
    #expect(abs(before - after) < 0.001, "\(report): duration \(before) then \(after)")
    #expect(again["testcases"]?.intValue != nil)

    // And the merged report is a fixed point: writing it again gives the same bytes.
    let twice = try await ChildProcess.testbridgeAsync(["parse", "--format", "junit", copy.path], directory: scratch)
    #expect(twice.stdout == merged.stdout, "\(report): the merged report changes when merged again")
  }
}
