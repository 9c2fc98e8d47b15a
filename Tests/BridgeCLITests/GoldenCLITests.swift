import BridgeTestSupport
import Foundation
import Testing

/// One golden case: `Fixtures/cli/<name>/args.txt` (one argument per line) run in
/// `Fixtures/reports`, compared with `expected-stdout.txt`, `expected-stderr.txt`
/// and `exit-code.txt`. Set TESTBRIDGE_UPDATE_GOLDEN=1 to rewrite the expectations.
struct GoldenCase: Sendable, CustomStringConvertible {
  var name: String
  var description: String { name }

  static var root: URL { ProjectPaths.packageRoot.appendingPathComponent("Tests/BridgeCLITests/Fixtures") }

  static var all: [GoldenCase] {
    let directory = root.appendingPathComponent("cli")
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
    return names.sorted().map(GoldenCase.init(name:))
  }
}

@Suite struct GoldenCLITests {
  @Test func everyGoldenCaseIsFound() {
    #expect(GoldenCase.all.count >= 10)
  }

  @Test(arguments: GoldenCase.all)
  func matchesGoldenOutput(_ golden: GoldenCase) async throws {
    let directory = GoldenCase.root.appendingPathComponent("cli/\(golden.name)")
    let arguments = try String(contentsOf: directory.appendingPathComponent("args.txt"), encoding: .utf8)
      .split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
    let output = try await ChildProcess.testbridgeAsync(arguments, directory: GoldenCase.root.appendingPathComponent("reports"))
    let expectations: [(String, String)] = [
      ("expected-stdout.txt", output.stdout), ("expected-stderr.txt", output.stderr),
      ("exit-code.txt", "\(output.status)\n"),
    ]
    for (file, actual) in expectations {
      let url = directory.appendingPathComponent(file)
      if ProcessInfo.processInfo.environment["TESTBRIDGE_UPDATE_GOLDEN"] != nil {
        try actual.write(to: url, atomically: true, encoding: .utf8)
        continue
      }
      let expected = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
      #expect(actual == expected, "\(golden.name)/\(file) differs")
    }
  }
}
