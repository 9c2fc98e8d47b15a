import BridgeCore
import Foundation
import JUnit

/// `testbridge demo`: the main job on built-in sample data, with no account and no network.
struct DemoCommand: Command {
  static let spec = CommandSpec(
    name: "demo",
    abstract: "Run testbridge end to end on a bundled sample, locally, with no account.",
    discussion: "Writes a bundled pytest report to a temporary folder and reads it the way 'testbridge parse' does."
  )

  static func run(_ arguments: ParsedArguments, context: CommandContext) async throws -> ExitStatus {
    let directory = FileManager.default.temporaryDirectory
      .appendingPathComponent("testbridge-demo-\(ProcessInfo.processInfo.processIdentifier)")
    do {
      try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
      try Data(DemoSamples.pytestReport.utf8).write(to: directory.appendingPathComponent("pytest.xml"))
    } catch {
      throw CLIError("cannot write the demo report under '\(directory.path)': \(error.localizedDescription)")
    }
    defer { try? FileManager.default.removeItem(at: directory) }
    let reportPath = directory.appendingPathComponent("pytest.xml").path
    context.stdout.write("==> 1/1  reading a bundled pytest report (\(reportPath))\n\n")
    let loaded = ReportLoader(options: JUnitOptions(workspace: context.workingDirectory))
      .load([reportPath], keepTestcases: true)
    SummaryRenderer(heading: "testbridge demo").render(loaded, to: context.stdout)
    let tests = LogicalTest.group(loaded.testcases)
    let linked = tests.filter { $0.testomatioID != nil || !$0.jiraKeys.isEmpty }
    if !linked.isEmpty {
      context.stdout.write("\nLinks found in the report:\n")
      for test in linked {
        let id = test.testomatioID.map { "@T\($0)" } ?? "-"
        context.stdout.write("  \(test.key.name): Testomat.io \(id), Jira \(test.jiraKeys.isEmpty ? "-" : test.jiraKeys.joined(separator: ", "))\n")
      }
    }
    context.stdout.write("\nDemo finished: the failures above are the sample's own, not a problem with testbridge.\n")
    return loaded.hasProblems ? .reportProblem : .success
  }
}
