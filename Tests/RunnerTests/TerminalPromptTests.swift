import BridgeCore
import Foundation
import Runner
import Testing

final class ScriptedLines: LineSource {
  private let lines: Locked<[String]>
  init(_ lines: [String]) { self.lines = Locked(lines) }
  func nextLine() async -> String? { lines.withLock { $0.isEmpty ? nil : $0.removeFirst() } }
}

final class TextCollector: Sendable {
  private let storage = Locked("")
  func write(_ text: String) { storage.withLock { $0 += text } }
  var text: String { storage.withLock { $0 } }
}

@Suite struct TerminalPromptTests {
  func prompt(_ lines: [String]) -> (TerminalPrompt, TextCollector) {
    let output = TextCollector()
    return (TerminalPrompt(input: ScriptedLines(lines)) { output.write($0) }, output)
  }

  @Test(arguments: [
    (["p"], PromptReply.answer(.pass, note: nil)),
    (["pass  looks fine"], .answer(.pass, note: "looks fine")),
    (["S"], .answer(.skip, note: nil)),
    (["f total off by one"], .answer(.fail, note: "total off by one")),
    (["f", "total off by one"], .answer(.fail, note: "total off by one")),
    (["f", ""], .answer(.fail, note: nil)),
    (["n", "seen on Firefox only", "f"], .answer(.fail, note: "seen on Firefox only")),
    (["note flaky network", "s"], .answer(.skip, note: "flaky network")),
    (["what", "", "q"], .quit),
    ([], .quit),
  ] as [([String], PromptReply)])
  func readsReplies(lines: [String], reply: PromptReply) async {
    let (prompt, _) = prompt(lines)
    #expect(await prompt.ask() == reply)
  }

  @Test func unknownInputIsExplained() async {
    let (prompt, output) = prompt(["maybe", "p"])
    _ = await prompt.ask()
    #expect(output.text.contains("please answer p, f, s, n or q"))
  }

  @Test func showsTheTestWithStepsAndExpectations() {
    let (prompt, output) = prompt([])
    let test = ManualTest(
      title: "Login works", testomatioID: "1a2b3c4d", jiraKeys: ["SHOP-12"], description: "Use the demo account.",
      steps: [
        ManualStep(text: "Open the page\nand wait", expected: "the form is shown", line: 2),
        ManualStep(text: "$ make seed", command: "make seed", line: 4),
      ], line: 1)
    prompt.show(test, index: 1, of: 4)
    #expect(
      output.text == """

        [2/4] Login works  (@T1a2b3c4d, SHOP-12)
        Use the demo account.
          1. Open the page
             and wait
             Expected: the form is shown
          2. $ make seed

        """)
  }

  @Test func commandOutputKeepsSplitUTF8Together() {
    let (prompt, output) = prompt([])
    let bytes = Array("grüße\n".utf8)
    prompt.commandStarted("echo grüße")
    prompt.commandOutput(Array(bytes[0..<3]), isError: false)  // ends inside "ü"
    prompt.commandOutput(Array(bytes[3...]), isError: false)
    prompt.commandFinished(
      "echo grüße", result: ChildResult(termination: .exited(3), startedAt: Date(), duration: 0.1))
    #expect(output.text == "  $ echo grüße\ngrüße\n  -> exited with status 3 (exit 3)\n")
  }

  @Test func refusesToRunWithoutTerminalOrAnswers() throws {
    #expect(throws: ManualPlanError.notInteractive) {
      try TerminalPrompt.requireInteractive(isTTY: false, hasAnswers: false)
    }
    try TerminalPrompt.requireInteractive(isTTY: false, hasAnswers: true)
    try TerminalPrompt.requireInteractive(isTTY: true, hasAnswers: false)
    #expect(ManualPlanError.notInteractive.description.contains("--answers"))
  }
}
