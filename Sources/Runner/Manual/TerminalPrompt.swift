import BridgeCore
import Foundation

/// A source of input lines (standard input, or a script in tests).
public protocol LineSource: Sendable {
  /// The next line without its newline, or `nil` at end of input.
  func nextLine() async -> String?
}

/// Lines from standard input, read on a separate thread so no task blocks the async pool.
public struct StandardInputLines: LineSource {
  /// Reads the process's standard input.
  public init() {}

  public func nextLine() async -> String? {
    await withCheckedContinuation { continuation in
      Thread.detachNewThread { continuation.resume(returning: Swift.readLine(strippingNewline: true)) }
    }
  }
}

/// The interactive prompt of `testbridge manual`: shows each test and reads
/// `p`ass, `f`ail, `s`kip, `n`ote or `q`uit from a line source.
///
/// A note can follow the letter (`f total is off by one`), be given first with
/// `n`, or typed when asked after `f`. End of input counts as quit.
public final class TerminalPrompt: TesterPrompt {
  private let input: any LineSource
  private let write: @Sendable (String) -> Void
  private let pending = Locked<(stdout: [UInt8], stderr: [UInt8])>(([], []))

  /// - Parameters:
  ///   - input: Where answers are read from.
  ///   - write: Where prompts, tests and command output go (the CLI's stdout writer).
  public init(input: any LineSource = StandardInputLines(), write: @escaping @Sendable (String) -> Void) {
    self.input = input
    self.write = write
  }

  /// True when standard input is a terminal.
  public static var standardInputIsTerminal: Bool { isatty(STDIN_FILENO) == 1 }

  /// Refuses to start a session nobody can answer: no terminal and no answers file.
  public static func requireInteractive(isTTY: Bool, hasAnswers: Bool) throws(ManualPlanError) {
    if !isTTY, !hasAnswers { throw .notInteractive }
  }

  public func show(_ test: ManualTest, index: Int, of count: Int) {
    var text = "\n[\(index + 1)/\(count)] \(test.title)"
    let tags = (test.testomatioID.map { ["@T\($0)"] } ?? []) + test.jiraKeys
    if !tags.isEmpty { text += "  (\(tags.joined(separator: ", ")))" }
    text += "\n"
    if !test.description.isEmpty { text += test.description + "\n" }
    for (number, step) in test.steps.enumerated() {
      let label = "  \(number + 1). "
      let indent = String(repeating: " ", count: label.count)
      text += label + step.text.replacingOccurrences(of: "\n", with: "\n" + indent) + "\n"
      if let expected = step.expected {
        text += indent + "Expected: " + expected.replacingOccurrences(of: "\n", with: "\n" + indent + "  ") + "\n"
      }
    }
    write(text)
  }

  public func ask() async -> PromptReply {
    var note: String?
    while true {
      write("[p]ass [f]ail [s]kip [n]ote [q]uit\(note == nil ? "" : " (note added)")> ")
      guard let line = await input.nextLine() else {
        write("\n")
        return .quit
      }
      let trimmed = line.trimmingCharacters(in: .whitespaces)
      let word = trimmed.prefix { !$0.isWhitespace }.lowercased()
      let rest = trimmed.drop { !$0.isWhitespace }.trimmingCharacters(in: .whitespaces)
      let inlineNote = rest.isEmpty ? nil : rest
      switch word {
      case "p", "pass": return .answer(.pass, note: inlineNote ?? note)
      case "s", "skip": return .answer(.skip, note: inlineNote ?? note)
      case "f", "fail":
        if let given = inlineNote ?? note { return .answer(.fail, note: given) }
        write("what went wrong? (Enter to leave empty)> ")
        let typed = await input.nextLine()?.trimmingCharacters(in: .whitespaces)
        return .answer(.fail, note: typed?.isEmpty == false ? typed : nil)
      case "n", "note":
        if let inlineNote {
          note = inlineNote
        } else {
          write("note> ")
          let typed = await input.nextLine()?.trimmingCharacters(in: .whitespaces)
          note = typed?.isEmpty == false ? typed : note
        }
      case "q", "quit": return .quit
      default: write("please answer p, f, s, n or q\n")
      }
    }
  }

  public func commandStarted(_ command: String) {
    write("  $ \(command)\n")
  }

  public func commandOutput(_ bytes: [UInt8], isError: Bool) {
    // A chunk may end inside a UTF-8 sequence; keep those bytes for the next chunk.
    let complete: [UInt8] = pending.withLock { pending in
      var buffer = (isError ? pending.stderr : pending.stdout) + bytes
      let cut = Self.completePrefixLength(buffer)
      let carry = Array(buffer[cut...])
      buffer.removeSubrange(cut...)
      if isError { pending.stderr = carry } else { pending.stdout = carry }
      return buffer
    }
    if !complete.isEmpty { write(String(decoding: complete, as: UTF8.self)) }
  }

  public func commandFinished(_ command: String, result: ChildResult) {
    let rest = pending.withLock { pending in
      defer { pending = ([], []) }
      return pending.stdout + pending.stderr
    }
    if !rest.isEmpty { write(String(decoding: rest, as: UTF8.self)) }
    write("  -> \(result.termination) (exit \(result.exitCode))\n")
  }

  /// Length of `bytes` without a trailing, incomplete UTF-8 sequence.
  static func completePrefixLength(_ bytes: [UInt8]) -> Int {
    var index = bytes.count - 1
    var seen = 0
    while index >= 0, seen < 4 {
      let byte = bytes[index]
      seen += 1
      if byte & 0xC0 != 0x80 {
        let needed = byte < 0x80 ? 1 : byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
        return bytes.count - index < needed ? index : bytes.count
      }
      index -= 1
    }
    return bytes.count
  }
}
