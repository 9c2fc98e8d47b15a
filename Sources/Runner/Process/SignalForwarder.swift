import BridgeCore
import Foundation
import Synchronization

/// Passes SIGINT and SIGTERM sent to testbridge on to the running child's process group.
///
/// While started, the signals do not stop testbridge: each is caught by a handler
/// that only writes the signal number to a pipe, and a reader thread hands it to
/// `onSignal` and ``ProcessRunner/interrupt(signal:)``. The handler is in place when
/// ``start()`` returns, so no signal is lost after that, and ``stop()`` restores the
/// dispositions that were in place before, so a later Ctrl-C stops testbridge again.
/// Start it just before running the child and stop it right after: a signal that
/// arrives while no child runs only reaches `onSignal`, so the caller decides
/// whether to exit.
///
/// A caught signal is reset to its default action by `exec`, so children start
/// with the default disposition for the forwarded signals (an ignored signal would
/// be inherited). While a forwarder runs, libdispatch signal sources for the same
/// signals receive nothing.
public final class SignalForwarder: Sendable {
  /// The signals forwarded.
  public let signals: [Int32]
  private let runner: ProcessRunner
  private let onSignal: (@Sendable (Int32) -> Void)?
  private let registration = Locked<UInt64?>(nil)

  /// - Parameters:
  ///   - runner: Whose running children receive the signals.
  ///   - signals: What to forward; SIGINT and SIGTERM by default.
  ///   - onSignal: Called (on the signal reader thread) for each signal received, before it is forwarded.
  public init(
    runner: ProcessRunner, signals: [Int32] = [SIGINT, SIGTERM], onSignal: (@Sendable (Int32) -> Void)? = nil
  ) {
    self.runner = runner
    self.signals = signals
    self.onSignal = onSignal
  }

  deinit {
    stop()
  }

  /// Starts forwarding; signals are caught once it returns. Calling it twice does nothing.
  public func start() {
    registration.withLock { current in
      guard current == nil else { return }
      let runner = self.runner
      let onSignal = self.onSignal
      current = SignalDispositions.register(signals) { signal in
        onSignal?(signal)
        runner.interrupt(signal: signal)
      }
    }
  }

  /// Stops forwarding and restores the previous dispositions. Calling it twice does nothing.
  public func stop() {
    registration.withLock { current in
      guard let id = current else { return }
      SignalDispositions.unregister(id)
      current = nil
    }
  }
}

/// Dispositions that protect testbridge without being handed down to its children.
public enum ProcessSignals {
  /// Makes `signal` harmless to this process, as `SIG_IGN` would, with a handler
  /// that does nothing: `exec` resets a caught signal to its default action, so
  /// children start with the default disposition. For SIGPIPE, a write to a closed
  /// pipe then fails with EPIPE here, and `yes | head -1` in a child ends quietly.
  public static func discardUntilExec(_ signal: Int32) {
    var action = sigaction()
    action.__sigaction_handler.sa_handler = { _ in }
    action.sa_flags = SA_RESTART
    sigemptyset(&action.sa_mask)
    sigaction(signal, &action, nil)
  }

  /// Replaces an ignored `signal` with ``discardUntilExec(_:)`` (the same for this
  /// process, not inherited); other dispositions are left alone.
  static func stopIgnoring(_ signal: Int32) {
    if SignalDispositions.handlerAddress(of: signal) == 1 { discardUntilExec(signal) }
  }
}

/// The process-wide handler shared by all forwarders: per-signal use counts, the
/// dispositions to restore, and the pipe from the handler to the reader thread.
enum SignalDispositions {
  private struct Entry {
    var users = 0
    var original = sigaction()
  }

  private struct Table {
    var entries: [Int32: Entry] = [:]
    var listeners: [UInt64: (signals: [Int32], handler: @Sendable (Int32) -> Void)] = [:]
    var nextID: UInt64 = 0
  }

  private static let table = Locked(Table())

  /// The pipe's write end, read by the signal handler (an atomic load is async-signal-safe).
  /// Set once, before any handler is installed.
  private static let writeEnd = Atomic<Int32>(-1)
  /// Opens the pipe and starts the reader thread, once.
  private static let pipeReady: Bool = {
    var ends: [Int32] = [0, 0]
    guard pipe(&ends) == 0 else { return false }
    for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
    // The handler must never block: with a full pipe (a storm of signals) extra ones are dropped.
    _ = fcntl(ends[1], F_SETFL, fcntl(ends[1], F_GETFL) | O_NONBLOCK)
    writeEnd.store(ends[1], ordering: .releasing)
    let readEnd = ends[0]
    let thread = Thread { readLoop(readEnd) }
    thread.name = "testbridge-signals"
    thread.start()
    return true
  }()

  /// The handler address: 0 for `SIG_DFL`, 1 for `SIG_IGN`.
  static func handlerAddress(of signal: Int32) -> Int {
    var action = sigaction()
    sigaction(signal, nil, &action)
    return unsafeBitCast(action.__sigaction_handler.sa_handler, to: Int.self)
  }

  /// Catches `signals` (the first listener of each installs the handler) and calls
  /// `handler` for each one received until ``unregister(_:)``.
  static func register(_ signals: [Int32], handler: @escaping @Sendable (Int32) -> Void) -> UInt64 {
    _ = pipeReady
    return table.withLock { table in
      table.nextID += 1
      let id = table.nextID
      table.listeners[id] = (signals, handler)
      for signal in signals {
        var entry = table.entries[signal] ?? Entry()
        if entry.users == 0 {
          var action = sigaction()
          // Only async-signal-safe calls: `write` of one byte, with `errno` preserved.
          action.__sigaction_handler.sa_handler = { signal in
            let saved = errno
            var byte = UInt8(truncatingIfNeeded: signal)
            _ = write(SignalDispositions.writeEnd.load(ordering: .acquiring), &byte, 1)
            errno = saved
          }
          action.sa_flags = SA_RESTART
          sigemptyset(&action.sa_mask)
          sigaction(signal, &action, &entry.original)
        }
        entry.users += 1
        table.entries[signal] = entry
      }
      return id
    }
  }

  /// Stops calling the listener; the last listener of a signal restores its disposition.
  static func unregister(_ id: UInt64) {
    table.withLock { table in
      guard let listener = table.listeners.removeValue(forKey: id) else { return }
      for signal in listener.signals {
        guard var entry = table.entries[signal], entry.users > 0 else { continue }
        entry.users -= 1
        if entry.users == 0 { sigaction(signal, &entry.original, nil) }
        table.entries[signal] = entry
      }
    }
  }

  private static func readLoop(_ descriptor: Int32) {
    var byte: UInt8 = 0
    while true {
      let count = read(descriptor, &byte, 1)
      if count < 0, errno == EINTR { continue }
      guard count == 1 else { return }
      let signal = Int32(byte)
      let handlers = table.withLock { table in
        table.listeners.keys.sorted().compactMap { id -> (@Sendable (Int32) -> Void)? in
          guard let listener = table.listeners[id], listener.signals.contains(signal) else { return nil }
          return listener.handler
        }
      }
      for handler in handlers { handler(signal) }
    }
  }
}
