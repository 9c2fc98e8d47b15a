import BridgeCore
import Foundation
import Runner

/// Passes a child's output on to testbridge's own stdout and stderr as it
/// arrives, byte for byte (invalid UTF-8 and characters split across chunks
/// included), flushing after every chunk, so the command looks exactly as if it
/// ran on its own (and nothing piles up in memory).
final class ChildOutputRelay: OutputHandler {
  private let out: any TextSink
  private let err: any TextSink
  private let last: Locked<ContinuousClock.Instant>

  init(stdout: any TextSink, stderr: any TextSink, now: ContinuousClock.Instant = .now) {
    self.out = stdout
    self.err = stderr
    self.last = Locked(now)
  }

  func stdout(_ bytes: [UInt8]) { relay(bytes, to: out) }
  func stderr(_ bytes: [UInt8]) { relay(bytes, to: err) }

  /// When the child last printed anything (or when the relay was made).
  var lastOutput: ContinuousClock.Instant { last.withLock { $0 } }

  /// Called once the child is done; every chunk was already written and flushed.
  func finish() {
    out.flush()
    err.flush()
  }

  private func relay(_ bytes: [UInt8], to sink: any TextSink) {
    last.withLock { $0 = .now }
    sink.write(bytes: bytes)
    sink.flush()
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
