import BridgeCore
import BridgeTestSupport
import Foundation
import Runner

/// Counts output bytes without keeping them; keeps the first few KiB as text for assertions.
final class RecordingOutput: OutputHandler {
  private struct State {
    var stdoutCount = 0
    var stderrCount = 0
    var stdoutText: [UInt8] = []
    var stderrText: [UInt8] = []
  }

  private static let keep = 4096
  private let state = Locked(State())

  func stdout(_ bytes: [UInt8]) {
    state.withLock { state in
      state.stdoutCount += bytes.count
      if state.stdoutText.count < Self.keep { state.stdoutText += bytes.prefix(Self.keep - state.stdoutText.count) }
    }
  }

  func stderr(_ bytes: [UInt8]) {
    state.withLock { state in
      state.stderrCount += bytes.count
      if state.stderrText.count < Self.keep { state.stderrText += bytes.prefix(Self.keep - state.stderrText.count) }
    }
  }

  var stdoutCount: Int { state.withLock { $0.stdoutCount } }
  var stderrCount: Int { state.withLock { $0.stderrCount } }
  var stdoutText: String { state.withLock { String(decoding: $0.stdoutText, as: UTF8.self) } }
  var stderrText: String { state.withLock { String(decoding: $0.stderrText, as: UTF8.self) } }
}

enum ProcessProbe {
  /// A fresh directory for one test.
  static func temporaryDirectory() throws -> URL {
    try ProjectPaths.temporaryDirectory("runner-tests")
  }

  /// The pid a script wrote to `file`, waiting for it to appear.
  static func pid(in file: URL, within limit: Duration = .seconds(3)) async throws -> pid_t {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
      if let text = try? String(contentsOf: file, encoding: .utf8),
        let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
      {
        return pid
      }
      try await Task.sleep(for: .milliseconds(10))
    }
    throw ProbeError.noPID(file.path)
  }

  /// True once `kill(pid, 0)` fails with ESRCH (the process is gone and reaped).
  static func isGone(_ pid: pid_t, within limit: Duration = .milliseconds(2500)) async -> Bool {
    let deadline = ContinuousClock.now + limit
    while true {
      if kill(pid, 0) == -1, errno == ESRCH { return true }
      if ContinuousClock.now >= deadline { return false }
      try? await Task.sleep(for: .milliseconds(20))
    }
  }

  /// The disposition handler address of `signal`: 0 is SIG_DFL, 1 is SIG_IGN, others are handlers.
  static func handlerAddress(_ signal: Int32) -> Int {
    var action = sigaction()
    sigaction(signal, nil, &action)
    return unsafeBitCast(action.__sigaction_handler.sa_handler, to: Int.self)
  }

  /// The `SigIgn` mask of a `/proc/<pid>/status` line in `text` (bit N-1 for signal N).
  static func ignoredSignals(in text: String) -> UInt64? {
    guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("SigIgn:") }) else { return nil }
    return UInt64(line.dropFirst("SigIgn:".count).trimmingCharacters(in: .whitespaces), radix: 16)
  }

  enum ProbeError: Error { case noPID(String) }
}
