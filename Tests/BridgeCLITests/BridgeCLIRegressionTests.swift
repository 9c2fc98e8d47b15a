import BridgeTestSupport
import Foundation
import Sandbox
import Testing

/// Crashes and losses found while fuzzing and reviewing for RELIABILITY.md, kept fixed.
@Suite(.serialized) struct BridgeCLIRegressionTests {
  typealias Sandbox = ReportEndToEndTests.Sandbox

  /// A folder holding `absurd.xml`: passing testcases, two of them with times no clock measures.
  static func absurdTimes() throws -> URL {
    let directory = try ProjectPaths.temporaryDirectory("absurd")
    let xml = """
      <testsuite name="s"><testcase name="a" time="1e308"/><testcase name="b" time="1.5e308"/>\
      <testcase name="c" time="0.25"/></testsuite>
      """
    try Data(xml.utf8).write(to: directory.appendingPathComponent("absurd.xml"))
    return directory
  }

  /// `time="1e300"` crashed `testbridge parse` (converting the total to minutes).
  @Test func absurdTimesDoNotCrashTheSummary() async throws {
    let directory = try Self.absurdTimes()
    defer { try? FileManager.default.removeItem(at: directory) }
    for format in ["summary", "json", "junit"] {
      let output = try await ChildProcess.testbridgeAsync(["parse", "--format", format, "absurd.xml"], directory: directory)
      #expect(output.status == 0, "\(format): \(output.stderr)")
      #expect(!output.stdout.isEmpty)
    }
  }

  /// The same report made `report` lose its results: 10^308 s in milliseconds is
  /// infinite, JSON cannot carry it, so the batch could neither be sent nor spooled.
  @Test func absurdTimesAreDeliveredAsUnknownDurations() async throws {
    let sandbox = try await Sandbox.start()
    defer { Task { await sandbox.stop() } }
    let directory = try Self.absurdTimes()
    defer { try? FileManager.default.removeItem(at: directory) }
    let output = try await sandbox.testbridge(["report", directory.appendingPathComponent("absurd.xml").path])
    #expect(output.status == 0, "\(output.stderr)")
    #expect(!output.stderr.contains("lost") && !output.stderr.contains("kept in"))
    let run = try #require(await sandbox.server.emulator.state().runs.first)
    #expect(run.results.count == 3)
    #expect(run.finished)
    #expect(run.results.first { $0.title == "c" }?.test["run_time"]?.doubleValue == 250)
  }

  /// A report whose bytes do not match its declared encoding made libxml2 print its own
  /// "encoding error : input conversion failed…" and "I/O error : encoder error" lines on
  /// stderr: errors outside a parser context ignore XML_PARSE_NOERROR.
  @Test func encodingErrorsAreReportedOnceAndLibxml2PrintsNothing() async throws {
    let directory = try ProjectPaths.temporaryDirectory("encoding")
    defer { try? FileManager.default.removeItem(at: directory) }
    for (name, encoding) in [("utf7.xml", "UTF-7"), ("jis.xml", "ISO-2022-JP"), ("utf8.xml", "UTF-8")] {
      var bytes = Array("<?xml version=\"1.0\" encoding=\"\(encoding)\"?>\n<testsuite name=\"s\"><testcase name=\"a\"/>".utf8)
      bytes += [0xA4, 0xA4, 0xA4, 0xA4] + Array("</testsuite>".utf8)
      try Data(bytes).write(to: directory.appendingPathComponent(name))
      let output = try await ChildProcess.testbridgeAsync(["parse", name], directory: directory)
      #expect(output.status == 3, "\(name): \(output.stderr)")
      #expect(output.stdout.contains(name))
      for noise in ["encoding error", "I/O error", "xmlParseChunk"] {
        #expect(!output.stderr.contains(noise) && !output.stdout.contains(noise), "\(name): \(output.stderr)")
      }
    }
  }

  /// `--request-timeout inf` (or 1e20 ms) crashed converting the timeout to an integer.
  @Test func hugeRequestTimeoutsAreRefusedOrCapped() async throws {
    let sandbox = try await Sandbox.start()
    defer { Task { await sandbox.stop() } }
    for text in ["inf", "nan", "-1"] {
      let refused = try await sandbox.testbridge(["report", "--request-timeout", text, "pytest.xml"])
      #expect(refused.status == 64, "\(text): \(refused.stderr)")
      #expect(refused.stderr.contains("is invalid for '--request-timeout <MS>'"))
    }
    let capped = try await sandbox.testbridge(["report", "--request-timeout", "1e20", "pytest.xml"])
    #expect(capped.status == 1, "tests fail in pytest.xml: \(capped.stderr)")
    #expect(await sandbox.server.emulator.state().runs.first?.results.count == 8)
  }
}
