import BridgeCore
import Foundation
import Runner
import Testing

/// A prompt that answers from a script and records what it was shown.
final class ScriptedPrompt: TesterPrompt {
  private let replies: Locked<[PromptReply]>
  private let events = Locked<[String]>([])
  private let output = Locked<[UInt8]>([])

  init(_ replies: [PromptReply]) {
    self.replies = Locked(replies)
  }

  func show(_ test: ManualTest, index: Int, of count: Int) {
    events.withLock { $0.append("show \(index + 1)/\(count) \(test.title)") }
  }

  func ask() async -> PromptReply {
    replies.withLock { $0.isEmpty ? .quit : $0.removeFirst() }
  }

  func commandStarted(_ command: String) {
    events.withLock { $0.append("run \(command)") }
  }

  func commandOutput(_ bytes: [UInt8], isError: Bool) {
    output.withLock { $0 += bytes }
  }

  func commandFinished(_ command: String, result: ChildResult) {
    events.withLock { $0.append("exit \(result.exitCode)") }
  }

  var shown: [String] { events.withLock { $0 } }
  var commandText: String { output.withLock { String(decoding: $0, as: UTF8.self) } }
}

final class SavedProgress: Sendable {
  private let storage = Locked<[ManualProgress]>([])
  func append(_ progress: ManualProgress) { storage.withLock { $0.append(progress) } }
  var all: [ManualProgress] { storage.withLock { $0 } }
}

@Suite struct ManualSessionTests {
  static let plan = ManualPlan(
    path: "plan.md", title: "Checkout",
    tests: [
      ManualTest(title: "Login works", testomatioID: "1a2b3c4d", jiraKeys: ["SHOP-12"], line: 3),
      ManualTest(title: "Checkout total", line: 7),
      ManualTest(title: "Refunds", line: 11),
    ])

  @Test func asksTheFirstUnansweredTestAndRecords() {
    var session = ManualSession(plan: Self.plan)
    #expect(session.nextIndex == 0)
    session.record(.pass, at: 0)
    session.record(.skip, note: "  ", at: 2)
    #expect(session.nextTest?.title == "Checkout total")
    #expect(session.answers[2]?.note == nil)  // a blank note is no note
    session.record(.fail, note: " off by one ", at: 1)
    #expect(session.isComplete)
    #expect(session.answeredCount == 3)
    #expect(session.givenAnswers.map(\.reference) == [.id("1a2b3c4d"), .title("Checkout total"), .title("Refunds")])
    #expect(session.answers[1]?.note == "off by one")
  }

  @Test func answersFilePreFillsTheSession() throws {
    let answers = try AnswersFile.parse("pass @T1a2b3c4d\nfail Refunds note: no button\n", path: "a.txt")
    let session = try ManualSession(plan: Self.plan, answers: answers, answersPath: "a.txt")
    #expect(session.nextTest?.title == "Checkout total")
    #expect(session.answers[2]?.note == "no button")
  }

  @Test func quittingMidwayAndResumingFromTheProgressFile() async throws {
    let directory = try ProcessProbe.temporaryDirectory()
    let progressPath = ManualProgressFile.defaultPath(forPlan: directory.appendingPathComponent("plan.md").path)
    #expect(progressPath == directory.appendingPathComponent(".plan.md.progress.json").path)
    #expect(try ManualProgressFile.load(path: progressPath) == nil)
    let fixedDate = Date(timeIntervalSince1970: 1_800_000_000)
    let save: @Sendable (ManualProgress) throws(ManualPlanError) -> Void = { progress throws(ManualPlanError) in
      try ManualProgressFile.save(progress, path: progressPath)
    }

    // First sitting: one answer, then quit.
    let first = ScriptedPrompt([.answer(.fail, note: "wrong password message"), .quit])
    let afterFirst = try await ManualSessionDriver(prompt: first, commands: nil, save: save, now: { fixedDate })
      .run(ManualSession(plan: Self.plan))
    #expect(!afterFirst.isComplete)
    #expect(first.shown == ["show 1/3 Login works", "show 2/3 Checkout total"])

    // Second sitting: the same command resumes at the second test.
    let saved = try #require(try ManualProgressFile.load(path: progressPath))
    #expect(saved.answers == [ManualAnswer(reference: .id("1a2b3c4d"), outcome: .fail, note: "wrong password message")])
    #expect(saved.updatedAt == fixedDate)
    let resumed = ManualSession(plan: Self.plan, resuming: saved)
    #expect(resumed.nextIndex == 1)
    let second = ScriptedPrompt([.answer(.pass, note: nil), .answer(.skip, note: "no refunds on staging")])
    let done = try await ManualSessionDriver(prompt: second, commands: nil, save: save).run(resumed)
    #expect(done.isComplete)
    #expect(second.shown == ["show 2/3 Checkout total", "show 3/3 Refunds"])
    #expect(try ManualProgressFile.load(path: progressPath)?.answers.count == 3)

    ManualProgressFile.remove(path: progressPath)
    #expect(try ManualProgressFile.load(path: progressPath) == nil)
  }

  @Test func resumeDropsAnswersForTestsNoLongerInThePlan() {
    let progress = ManualProgress(
      planPath: "plan.md", planTitle: "Checkout",
      answers: [
        ManualAnswer(reference: .title("Removed test"), outcome: .pass),
        ManualAnswer(reference: .title("Refunds"), outcome: .skip),
      ], updatedAt: Date())
    let session = ManualSession(plan: Self.plan, resuming: progress)
    #expect(session.answers[2]?.outcome == .skip)
    #expect(session.discardedAnswers.map(\.reference) == [.title("Removed test")])
  }

  @Test func progressFileRoundTripsAndRejectsGarbage() throws {
    let progress = ManualProgress(
      planPath: "plan.md", planTitle: "Checkout",
      answers: [ManualAnswer(reference: .id("1a2b3c4d"), outcome: .fail, note: "n")],
      updatedAt: Date(timeIntervalSince1970: 1_800_000_000))
    let data = ManualProgressFile.encode(progress)
    #expect(try ManualProgressFile.decode(data, path: "p.json") == progress)
    #expect(throws: ManualPlanError.file(path: "p.json", reason: "not a testbridge progress file (delete it to start over)")) {
      try ManualProgressFile.decode(Data("{\"answers\": 3}".utf8), path: "p.json")
    }
  }

  @Test func saveFailureStopsTheSessionWithTheError() async {
    let prompt = ScriptedPrompt([.answer(.pass, note: nil)])
    let driver = ManualSessionDriver(prompt: prompt, commands: nil) { _ throws(ManualPlanError) in
      throw .file(path: "/nope/p.json", reason: "cannot write the progress file")
    }
    await #expect(throws: ManualPlanError.file(path: "/nope/p.json", reason: "cannot write the progress file")) {
      _ = try await driver.run(ManualSession(plan: Self.plan))
    }
  }

  @Test func commandStepsRunThroughProcessRunnerAndShowOutputAndStatus() async throws {
    let directory = try ProcessProbe.temporaryDirectory()
    let plan = try ManualPlanParser.parse(
      """
      ## Health check
      1. Check the service: `$ echo "service $GREETING"; echo warn >&2`
         Expected: prints service ok
      $ pwd; exit 3
      """, path: "plan.md")
    let prompt = ScriptedPrompt([.answer(.pass, note: nil)])
    let commands = ManualCommandRunner(
      runner: ProcessRunner(), workingDirectory: directory.path, environment: ["GREETING": "ok"])
    let session = try await ManualSessionDriver(prompt: prompt, commands: commands) { _ throws(ManualPlanError) in }
      .run(ManualSession(plan: plan))
    #expect(session.isComplete)
    #expect(prompt.shown == [
      "show 1/1 Health check",
      "run echo \"service $GREETING\"; echo warn >&2", "exit 0",
      "run pwd; exit 3", "exit 3",
    ])
    #expect(prompt.commandText.contains("service ok\n"))
    #expect(prompt.commandText.contains("warn\n"))
    #expect(prompt.commandText.contains(directory.lastPathComponent))
  }
}

@Suite struct ManualOutcomesTests {
  @Test func answersBecomeResultsWithStatuses() {
    let plan = ManualSessionTests.plan
    let answers = [
      ManualAnswer(reference: .id("1a2b3c4d"), outcome: .fail, note: "wrong message"),
      ManualAnswer(reference: .title("Checkout total"), outcome: .skip, note: "blocked by SHOP-1"),
      ManualAnswer(reference: .title("Not in plan"), outcome: .pass),
      ManualAnswer(reference: .id("1a2b3c4d"), outcome: .pass),  // a later answer for the same test is ignored
    ]
    let results = ManualOutcomes.results(plan: plan, answers: answers)
    #expect(results.map(\.status) == [.failed, .skipped, .skipped])
    #expect(results.map(\.name) == ["Login works", "Checkout total", "Refunds"])
    #expect(results.allSatisfy { $0.suitePath == ["Checkout"] && $0.classname == "manual" && $0.file == "plan.md" })
    #expect(results[0].results == [ResultElement(kind: .failure, message: "wrong message")])
    #expect(results[0].testomatioID == "1a2b3c4d")
    #expect(results[0].jiraKeys == ["SHOP-12"])
    #expect(results[0].line == 3)
    #expect(results[1].decidingResult?.message == "blocked by SHOP-1")
    #expect(results[2].decidingResult?.message == "not answered")
  }

  @Test func passIsPassed() {
    let results = ManualOutcomes.results(
      plan: ManualSessionTests.plan, answers: [ManualAnswer(reference: .title("Refunds"), outcome: .pass)])
    #expect(results[2].status == .passed)
    #expect(results[2].results.isEmpty)
  }
}
