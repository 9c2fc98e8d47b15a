import Foundation
import Runner
import Synchronization

/// Passes a child's output on to testbridge's own stdout and stderr as it
/// arrives, flushing after every chunk, so the command looks exactly as if it
/// ran on its own (and nothing piles up in memory).
///
/// Chunks can end inside a multi-byte UTF-8 character; those bytes wait for the
/// next chunk of the same stream instead of turning into replacement characters.
final class ChildOutputRelay: OutputHandler {
  private struct State {
    var carryOut: [UInt8] = []
    var carryErr: [UInt8] = []
    var lastOutput: ContinuousClock.Instant
  }

  private let out: any TextSink
  private let err: any TextSink
  private let state: Mutex<State>

  init(stdout: any TextSink, stderr: any TextSink, now: ContinuousClock.Instant = .now) {
    self.out = stdout
    self.err = stderr
    self.state = Mutex(State(lastOutput: now))
  }

  func stdout(_ bytes: [UInt8]) { relay(bytes, isError: false) }
  func stderr(_ bytes: [UInt8]) { relay(bytes, isError: true) }

  /// When the child last printed anything (or when the relay was made).
  var lastOutput: ContinuousClock.Instant { state.withLock { $0.lastOutput } }

  /// Writes what is still held back (an incomplete character at the very end).
  func finish() {
    let (restOut, restErr) = state.withLock { state in
      defer {
        state.carryOut = []
        state.carryErr = []
      }
      return (state.carryOut, state.carryErr)
    }
    if !restOut.isEmpty { write(restOut, to: out) }
    if !restErr.isEmpty { write(restErr, to: err) }
  }

  private func relay(_ bytes: [UInt8], isError: Bool) {
    let complete: [UInt8] = state.withLock { state in
      state.lastOutput = .now
      var buffer = (isError ? state.carryErr : state.carryOut) + bytes
      let cut = Self.completePrefixLength(buffer)
      let carry = Array(buffer[cut...])
      buffer.removeSubrange(cut...)
      if isError { state.carryErr = carry } else { state.carryOut = carry }
      return buffer
    }
    if !complete.isEmpty { write(complete, to: isError ? err : out) }
  }

  private func write(_ bytes: [UInt8], to sink: any TextSink) {
    sink.write(String(decoding: bytes, as: UTF8.self))
    sink.flush()
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

/// The quiet "still running" line shown on a terminal while a long command prints nothing.
struct Heartbeat: Sendable {
  /// Silence (no output and no earlier heartbeat) before a line is shown.
  var quietInterval: Duration = .seconds(15)
  private(set) var lastBeat: ContinuousClock.Instant?

  init(quietInterval: Duration = .seconds(15)) {
    self.quietInterval = quietInterval
  }

  /// The line to show now, if the command has been quiet long enough; remembers that it was shown.
  mutating func tick(
    now: ContinuousClock.Instant, started: ContinuousClock.Instant, lastOutput: ContinuousClock.Instant
  ) -> String? {
    let since = max(lastOutput, lastBeat ?? lastOutput)
    guard now - since >= quietInterval else { return nil }
    lastBeat = now
    return "testbridge: still running, \(Self.elapsed(now - started))\n"
  }

  /// `45s`, `2m 15s`, `1h 2m 3s`.
  static func elapsed(_ duration: Duration) -> String {
    let seconds = max(0, Int(duration.components.seconds))
    if seconds < 60 { return "\(seconds)s" }
    if seconds < 3600 { return "\(seconds / 60)m \(seconds % 60)s" }
    return "\(seconds / 3600)h \(seconds % 3600 / 60)m \(seconds % 60)s"
  }
}
