import Foundation

/// How a child process ended (or why it never started).
public enum ChildTermination: Sendable, Equatable, Hashable, CustomStringConvertible {
  /// Exited on its own with this status.
  case exited(Int32)
  /// Killed by this signal (one it did not handle: a forwarded Ctrl-C, `kill -9`, a crash).
  case signaled(Int32)
  /// Ran past its timeout; `signal` is the last one testbridge sent (SIGTERM, or SIGKILL
  /// when the group outlived the grace period).
  case timedOut(signal: Int32)
  /// The executable does not exist; the message names it.
  case notFound(String)
  /// The executable exists but could not be started (permissions, bad interpreter, missing directory).
  case failedToStart(String)

  /// The shell-style exit code: the status, 128 + signal, 124 for a timeout,
  /// 127 for a missing command and 126 for one that could not start.
  public var exitCode: Int32 {
    switch self {
    case .exited(let status): return status
    case .signaled(let signal): return 128 + signal
    case .timedOut: return 124
    case .notFound: return 127
    case .failedToStart: return 126
    }
  }

  public var description: String {
    switch self {
    case .exited(let status): return "exited with status \(status)"
    case .signaled(let signal): return "killed by \(SignalNames.name(signal))"
    case .timedOut(let signal): return "timed out (stopped with \(SignalNames.name(signal)))"
    case .notFound(let message), .failedToStart(let message): return message
    }
  }
}

/// What running a child produced (its output went to the ``OutputHandler``).
public struct ChildResult: Sendable, Equatable {
  /// How the child ended.
  public var termination: ChildTermination
  /// When the child was started (or the start was attempted).
  public var startedAt: Date
  /// Seconds from start until the child exited and its output was drained.
  public var duration: TimeInterval

  /// A result as ``ProcessRunner`` builds it (public for test doubles).
  public init(termination: ChildTermination, startedAt: Date, duration: TimeInterval) {
    self.termination = termination
    self.startedAt = startedAt
    self.duration = duration
  }

  /// The shell-style exit code (see ``ChildTermination/exitCode``).
  public var exitCode: Int32 { termination.exitCode }
}

/// Names for the signals a user is likely to see.
public enum SignalNames {
  /// `SIGINT`, `SIGKILL`…, or `signal N` for others.
  public static func name(_ signal: Int32) -> String {
    switch signal {
    case SIGHUP: return "SIGHUP"
    case SIGINT: return "SIGINT"
    case SIGQUIT: return "SIGQUIT"
    case SIGILL: return "SIGILL"
    case SIGABRT: return "SIGABRT"
    case SIGBUS: return "SIGBUS"
    case SIGFPE: return "SIGFPE"
    case SIGKILL: return "SIGKILL"
    case SIGSEGV: return "SIGSEGV"
    case SIGPIPE: return "SIGPIPE"
    case SIGALRM: return "SIGALRM"
    case SIGTERM: return "SIGTERM"
    case SIGUSR1: return "SIGUSR1"
    case SIGUSR2: return "SIGUSR2"
    default: return "signal \(signal)"
    }
  }
}
