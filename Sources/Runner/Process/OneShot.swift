import BridgeCore

/// A value produced once by some thread and awaited by one task.
final class OneShot<Value: Sendable>: Sendable {
  private struct State {
    var value: Value?
    var waiter: CheckedContinuation<Value, Never>?
  }

  private let state = Locked(State())

  /// Stores the value and wakes the waiter; later calls are ignored.
  func fulfil(_ value: Value) {
    let waiter: CheckedContinuation<Value, Never>? = state.withLock { state in
      guard state.value == nil else { return nil }
      state.value = value
      defer { state.waiter = nil }
      return state.waiter
    }
    waiter?.resume(returning: value)
  }

  /// True once ``fulfil(_:)`` has run.
  var isFulfilled: Bool { state.withLock { $0.value != nil } }

  /// The value, waiting for it without blocking a thread. Only one task may wait.
  var value: Value {
    get async {
      await withCheckedContinuation { continuation in
        let ready: Value? = state.withLock { state in
          if let value = state.value { return value }
          state.waiter = continuation
          return nil
        }
        if let ready { continuation.resume(returning: ready) }
      }
    }
  }
}
