import Foundation

/// What the tester answered at the prompt.
public enum PromptReply: Sendable, Hashable {
  case answer(ManualOutcome, note: String?)
  /// Stop now; answers so far are kept.
  case quit
}

/// Shows tests to the tester and asks for verdicts (a terminal, or a script in tests).
public protocol TesterPrompt: Sendable {
  /// Shows the test about to be asked (1-based position: `index + 1` of `count`).
  func show(_ test: ManualTest, index: Int, of count: Int)
  /// Waits for the tester's verdict.
  func ask() async -> PromptReply
  /// A step's command is about to run.
  func commandStarted(_ command: String)
  /// A chunk of the running command's output.
  func commandOutput(_ bytes: [UInt8], isError: Bool)
  /// The command ended.
  func commandFinished(_ command: String, result: ChildResult)
}

extension TesterPrompt {
  public func commandStarted(_ command: String) {}
  public func commandOutput(_ bytes: [UInt8], isError: Bool) {}
  public func commandFinished(_ command: String, result: ChildResult) {}
}

/// Runs a plan step's `$ command` for the tester, showing its output and exit status.
public struct ManualCommandRunner: Sendable {
  /// Runs the commands (share the one the signal forwarder watches).
  public var runner: ProcessRunner
  /// Directory commands run in (the plan's directory is a good choice); `nil` keeps ours.
  public var workingDirectory: String?
  /// Variables set for the commands on top of the runner's environment.
  public var environment: [String: String]
  /// Timeout and grace period; 10 minutes by default.
  public var options: RunOptions

  /// A command runner for plan steps.
  public init(
    runner: ProcessRunner, workingDirectory: String? = nil, environment: [String: String] = [:],
    options: RunOptions = RunOptions(timeout: .seconds(600))
  ) {
    self.runner = runner
    self.workingDirectory = workingDirectory
    self.environment = environment
    self.options = options
  }

  /// Runs `command` through `/bin/sh -c` (the plan author wrote a shell line), streaming to `prompt`.
  @discardableResult
  public func run(_ command: String, showingTo prompt: any TesterPrompt) async -> ChildResult {
    prompt.commandStarted(command)
    let result = await runner.run(
      .shell(command, environment: environment, workingDirectory: workingDirectory), options: options,
      output: PromptOutput(prompt: prompt))
    prompt.commandFinished(command, result: result)
    return result
  }

  private struct PromptOutput: OutputHandler {
    let prompt: any TesterPrompt
    func stdout(_ bytes: [UInt8]) { prompt.commandOutput(bytes, isError: false) }
    func stderr(_ bytes: [UInt8]) { prompt.commandOutput(bytes, isError: true) }
  }
}

/// Walks the tester through the unanswered tests of a session.
public struct ManualSessionDriver: Sendable {
  /// Who is shown the tests and asked.
  public var prompt: any TesterPrompt
  /// Runs steps' commands before asking; `nil` only shows them.
  public var commands: ManualCommandRunner?
  /// Called after every answer with the progress to keep (write it to the progress file).
  public var save: @Sendable (ManualProgress) throws(ManualPlanError) -> Void
  /// The clock for ``ManualProgress/updatedAt``.
  public var now: @Sendable () -> Date

  /// A driver; `now` stamps the saved progress.
  public init(
    prompt: any TesterPrompt, commands: ManualCommandRunner?,
    save: @escaping @Sendable (ManualProgress) throws(ManualPlanError) -> Void,
    now: @escaping @Sendable () -> Date = { Date() }
  ) {
    self.prompt = prompt
    self.commands = commands
    self.save = save
    self.now = now
  }

  /// Asks until every test is answered or the tester quits; returns the updated
  /// session (``ManualSession/isComplete`` is false after a quit).
  public func run(_ session: ManualSession) async throws(ManualPlanError) -> ManualSession {
    var session = session
    while let index = session.nextIndex {
      let test = session.plan.tests[index]
      prompt.show(test, index: index, of: session.plan.tests.count)
      if let commands {
        for step in test.steps {
          if let command = step.command { await commands.run(command, showingTo: prompt) }
        }
      }
      switch await prompt.ask() {
      case .quit:
        return session
      case .answer(let outcome, let note):
        session.record(outcome, note: note, at: index)
        try save(session.progress(updatedAt: now()))
      }
    }
    return session
  }
}
