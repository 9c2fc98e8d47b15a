import Dispatch
import Foundation
import Synchronization

/// Passes SIGINT and SIGTERM sent to testbridge on to the running child's process group.
///
/// While started, the signals do not stop testbridge: they are set to `SIG_IGN`
/// and observed with `DispatchSource.makeSignalSource`, and each one is handed to
/// ``ProcessRunner/interrupt(signal:)``. ``stop()`` restores the dispositions that
/// were in place before ``start()``, so a later Ctrl-C stops testbridge again.
/// Start it just before running the child and stop it right after: a signal that
/// arrives while no child runs only reaches `onSignal`, so the caller decides
/// whether to exit.
///
/// Linux notes (swift-corelibs-libdispatch `src/event/event_epoll.c`): the first
/// signal source for a signal replaces `SIG_IGN` with libdispatch's own handler
/// (it blocks the signal in the receiving thread and re-raises it on the manager
/// thread, whose signalfd reads it), and it installs that handler only once per
/// process. ``start()`` therefore waits until the handler is in place, and the
/// handler is remembered at ``stop()`` and put back by the next ``start()``;
/// otherwise a second start would leave `SIG_IGN` and lose every signal. While
/// the handler is installed children start with the default disposition (a
/// caught signal is reset by `exec`, an ignored one would be inherited).
public final class SignalForwarder: Sendable {
  /// The signals forwarded.
  public let signals: [Int32]
  private let runner: ProcessRunner
  private let onSignal: (@Sendable (Int32) -> Void)?
  private let queue = DispatchQueue(label: "testbridge.signal-forwarder")
  private let sources = Mutex<[any DispatchSourceSignal]?>(nil)

  /// - Parameters:
  ///   - runner: Whose running children receive the signals.
  ///   - signals: What to forward; SIGINT and SIGTERM by default.
  ///   - onSignal: Called (on a private queue) for each signal received, before it is forwarded.
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

  /// Starts forwarding; returns once signals are being observed. Calling it twice does nothing.
  public func start() {
    sources.withLock { current in
      guard current == nil else { return }
      var started: [any DispatchSourceSignal] = []
      for signal in signals {
        SignalDispositions.acquire(signal)
        let source = DispatchSource.makeSignalSource(signal: signal, queue: queue)
        source.setEventHandler { [runner, onSignal] in
          onSignal?(signal)
          runner.interrupt(signal: signal)
        }
        source.resume()
        started.append(source)
      }
      for signal in signals { SignalDispositions.awaitObserver(signal) }
      current = started
    }
  }

  /// Stops forwarding and restores the previous dispositions. Calling it twice does nothing.
  public func stop() {
    sources.withLock { current in
      guard let started = current else { return }
      for source in started { source.cancel() }
      for signal in signals { SignalDispositions.release(signal) }
      current = nil
    }
  }
}

/// Process-wide signal dispositions shared by all forwarders (counted per signal).
enum SignalDispositions {
  private struct Entry {
    var users = 0
    var original = sigaction()
  }

  private struct Table {
    var entries: [Int32: Entry] = [:]
    /// libdispatch's handler per signal, captured after it installed it.
    var observers: [Int32: sigaction] = [:]
  }

  private static let table = Mutex(Table())

  /// The handler address: 0 for `SIG_DFL`, 1 for `SIG_IGN`.
  static func handlerAddress(of signal: Int32) -> Int {
    var action = sigaction()
    sigaction(signal, nil, &action)
    return address(action)
  }

  private static func address(_ action: sigaction) -> Int {
    unsafeBitCast(action.__sigaction_handler.sa_handler, to: Int.self)
  }

  static func acquire(_ signal: Int32) {
    table.withLock { table in
      var entry = table.entries[signal] ?? Entry()
      if entry.users == 0 {
        sigaction(signal, nil, &entry.original)
        if var observer = table.observers[signal] {
          sigaction(signal, &observer, nil)
        } else {
          _ = Glibc.signal(signal, SIG_IGN)
        }
      }
      entry.users += 1
      table.entries[signal] = entry
    }
  }

  /// Waits (at most half a second) for libdispatch to replace `SIG_IGN` with its handler, and remembers it.
  static func awaitObserver(_ signal: Int32) {
    guard table.withLock({ $0.observers[signal] == nil }) else { return }
    let deadline = ContinuousClock.now + .milliseconds(500)
    while handlerAddress(of: signal) == 1, ContinuousClock.now < deadline { usleep(1000) }
    var action = sigaction()
    sigaction(signal, nil, &action)
    guard address(action) > 1 else { return }
    table.withLock { table in
      if table.observers[signal] == nil { table.observers[signal] = action }
    }
  }

  static func release(_ signal: Int32) {
    table.withLock { table in
      guard var entry = table.entries[signal], entry.users > 0 else { return }
      entry.users -= 1
      if entry.users == 0 {
        var current = sigaction()
        sigaction(signal, nil, &current)
        if table.observers[signal] == nil, address(current) > 1 { table.observers[signal] = current }
        sigaction(signal, &entry.original, nil)
      }
      table.entries[signal] = entry
    }
  }
}
