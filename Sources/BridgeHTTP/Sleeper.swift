import Foundation

/// Waits between retries; injected so tests can record delays instead of sleeping.
public protocol Sleeper: Sendable {
  /// Suspends for `seconds`; throws when the task is cancelled.
  func sleep(for seconds: Double) async throws
}

/// The real ``Sleeper``, on `Task.sleep`.
public struct TaskSleeper: Sleeper {
  public init() {}

  public func sleep(for seconds: Double) async throws {
    guard seconds > 0 else {
      try Task.checkCancellation()
      return
    }
    try await Task.sleep(for: .seconds(seconds))
  }
}

/// Tells the wall-clock time; injected so `Retry-After` dates and audit timestamps are testable.
public protocol NowProvider: Sendable {
  func now() -> Date
}

/// The real ``NowProvider``: the system clock.
public struct SystemNowProvider: NowProvider {
  public init() {}

  public func now() -> Date { Date() }
}
