import BridgeCore
import BridgeTestSupport
import Foundation
import Runner
import Testing

@testable import BridgeCLI

/// `manual`'s interactive path in-process, with the tester's lines scripted:
/// quitting keeps the answers, and the same command resumes from the progress file.
@Suite(.serialized) struct ManualCommandTests {
  final class Lines: LineSource {
    private let lines: Locked<[String]>
    init(_ lines: [String]) { self.lines = Locked(lines) }
    func nextLine() async -> String? { lines.withLock { $0.isEmpty ? nil : $0.removeFirst() } }
  }

  struct Session {
    let directory: URL
    var progress: URL { directory.appendingPathComponent(".plan.md.progress.json") }

    static func make() throws -> Session {
      let directory = try ProjectPaths.temporaryDirectory("manual-cmd")
      try ManualEndToEndTests.plan.write(
        to: directory.appendingPathComponent("plan.md"), atomically: true, encoding: .utf8)
      return Session(directory: directory)
    }

    /// Runs `testbridge manual` in-process on a "terminal" that types `lines`.
    func manual(_ arguments: [String], typing lines: [String], isTerminal: Bool = true) async throws
      -> (status: Int32, stdout: String, stderr: String)
    {
      let stdout = MemorySink()
      let stderr = MemorySink()
      let context = CommandContext(
        environment: [:], workingDirectory: directory.path, stdout: stdout, stderr: stderr)
      let parsed = try ArgumentParser.parse(["plan.md"] + arguments, spec: ManualCommand.spec, environment: [:])
      let status = try await ManualCommand.run(parsed, context: context, input: Lines(lines), isTerminal: isTerminal)
      return (status.rawValue, stdout.text, stderr.text)
    }
  }

  @Test func quittingKeepsTheAnswersAndTheSameCommandResumes() async throws {
    let session = try Session.make()
    defer { try? FileManager.default.removeItem(at: session.directory) }

    let first = try await session.manual(["--junit-out", "out.xml"], typing: ["p", "q"])
    #expect(first.status == 0)
    #expect(first.stdout.contains("[1/3] Login works"))
    #expect(first.stdout.contains("[2/3] Checkout total"))
    #expect(first.stdout.contains("Stopped with 1 of 3 tests answered"))
    #expect(first.stdout.contains("Nothing was reported."))
    let saved = try #require(try ManualProgressFile.load(path: session.progress.path))
    #expect(saved.answers.map(\.outcome) == [.pass])
    #expect(!FileManager.default.fileExists(atPath: session.directory.appendingPathComponent("out.xml").path))

    let second = try await session.manual(["--junit-out", "out.xml"], typing: ["f total off by one", "s"])
    #expect(second.status == 1, "a failed verdict is a failed test")
    #expect(second.stdout.contains("Resuming 'Checkout release plan': 1 of 3 tests answered"))
    #expect(!second.stdout.contains("[1/3]"), "the answered test is not asked again")
    #expect(second.stdout.contains("[2/3] Checkout total"))
    #expect(second.stdout.contains("Testomat.io reporting is off"))
    let junit = try String(contentsOf: session.directory.appendingPathComponent("out.xml"), encoding: .utf8)
    #expect(junit.contains("name=\"Login works\""))
    #expect(junit.contains("<failure message=\"total off by one\""))
    #expect(junit.contains("<skipped"))
    #expect(!FileManager.default.fileExists(atPath: session.progress.path), "a finished session leaves no progress")
  }

  @Test func everyAnswerIsSavedAtOnce() async throws {
    let session = try Session.make()
    defer { try? FileManager.default.removeItem(at: session.directory) }
    // Input ends after two answers, as if the terminal closed: both are on disk.
    let result = try await session.manual(["--progress", "keep.json"], typing: ["p", "s not today"])
    #expect(result.status == 0)
    let saved = try #require(try ManualProgressFile.load(path: session.directory.appendingPathComponent("keep.json").path))
    #expect(saved.answers.map(\.outcome) == [.pass, .skip])
    #expect(saved.answers.last?.note == "not today")
  }

  @Test func stepCommandsRunInThePlanDirectoryAndShowTheirOutput() async throws {
    let session = try Session.make()
    defer { try? FileManager.default.removeItem(at: session.directory) }
    let plan = "## Seeded\n1. Seed: `$ echo seeded > seed.txt; echo shown`\n   Expected: ok\n"
    try plan.write(to: session.directory.appendingPathComponent("plan.md"), atomically: true, encoding: .utf8)
    let result = try await session.manual([], typing: ["p"])
    #expect(result.status == 0)
    #expect(result.stdout.contains("$ echo seeded > seed.txt; echo shown"))
    #expect(result.stdout.contains("shown\n"))
    #expect(result.stdout.contains("exited with status 0"))
    #expect(FileManager.default.fileExists(atPath: session.directory.appendingPathComponent("seed.txt").path))
  }

  @Test func stepCommandsStartWithDefaultSignalDispositions() async throws {
    let session = try Session.make()
    defer { try? FileManager.default.removeItem(at: session.directory) }
    // As testbridge's main used to: an ignored SIGPIPE must not reach the step's command.
    signal(SIGPIPE, SIG_IGN)
    let plan = "## Piped\n1. Pipe: `$ yes | head -1; grep SigIgn /proc/self/status`\n   Expected: quiet\n"
    try plan.write(to: session.directory.appendingPathComponent("plan.md"), atomically: true, encoding: .utf8)
    let result = try await session.manual([], typing: ["p"])
    #expect(result.status == 0)
    #expect(!result.stdout.contains("Broken pipe"), "\(result.stdout)")
    #expect(result.stdout.contains("y\n"))
    let ignored = try #require(RunEndToEndTests.ignoredSignals(in: result.stdout))
    for signal in [SIGPIPE, SIGINT, SIGTERM] {
      #expect(ignored & (1 << UInt64(signal - 1)) == 0, "signal \(signal) is ignored in the step's command")
    }
  }

  @Test func noTerminalAndNoAnswersIsAUsageError() async throws {
    let session = try Session.make()
    defer { try? FileManager.default.removeItem(at: session.directory) }
    do {
      _ = try await session.manual([], typing: ["p", "p", "p"], isTerminal: false)
      Issue.record("expected a usage error")
    } catch let error as CLIError {
      #expect(error.exitStatus.rawValue == 64)
      #expect(error.message.contains("no answers file was given"))
    }
  }
}
