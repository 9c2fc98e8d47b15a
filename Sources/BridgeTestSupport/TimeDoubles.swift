import BridgeCore
import BridgeHTTP
import Foundation

/// A ``Sleeper`` that records the requested delays and returns at once.
public final class RecordingSleeper: Sleeper, Sendable {
  private let recorded = Locked<[Double]>([])

  public init() {}

  /// The delays asked for, in order, in seconds.
  public var delays: [Double] { recorded.withLock { $0 } }

  public func sleep(for seconds: Double) async throws {
    recorded.withLock { $0.append(seconds) }
    try Task.checkCancellation()
  }
}

/// A ``NowProvider`` that tells a set time, moved only by the test.
public final class ManualNowProvider: NowProvider, Sendable {
  private let current: Locked<Date>

  public init(_ start: Date = Date(timeIntervalSince1970: 1_750_000_000)) {
    current = Locked(start)
  }

  public func now() -> Date { current.withLock { $0 } }

  public func advance(by seconds: TimeInterval) {
    current.withLock { $0 = $0.addingTimeInterval(seconds) }
  }

  public func set(_ date: Date) {
    current.withLock { $0 = date }
  }
}
