import BridgeCore
import BridgeTestSupport
import Foundation
import Synchronization
import Testing

@Suite struct LockedTests {
  private struct Tally {
    var count = 0
    var perThread: [Int: Int] = [:]
    var mostInsideAtOnce = 0
  }

  private struct Refusal: Error, Equatable {
    let code: Int
  }

  private final class Resource: Sendable {}

  private final class Occupancy: Sendable {
    let inside = Atomic<Int>(0)
  }

  /// Threads of their own (not tasks) so they really contend, preempted mid-section on a
  /// small machine; an unguarded `count += 1` and dictionary update would lose increments or
  /// crash, and two bodies running at once would show in `mostInsideAtOnce`.
  @Test func contendedIncrementsFromSeveralThreadsGiveTheExactTotal() async {
    let threads = 8
    let increments = 20_000
    let tally = Locked(Tally())
    let occupancy = Occupancy()
    await withTaskGroup(of: Void.self) { group in
      for thread in 0..<threads {
        group.addTask {
          await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread {
              for _ in 0..<increments {
                tally.withLock { tally in
                  let entered = occupancy.inside.add(1, ordering: .relaxed).newValue
                  tally.mostInsideAtOnce = max(tally.mostInsideAtOnce, entered)
                  tally.count += 1
                  tally.perThread[thread, default: 0] += 1
                  occupancy.inside.subtract(1, ordering: .relaxed)
                }
              }
              continuation.resume()
            }.start()
          }
        }
      }
    }
    let result = tally.withLock { $0 }
    #expect(result.count == threads * increments)
    #expect(result.perThread == Dictionary(uniqueKeysWithValues: (0..<threads).map { ($0, increments) }))
    #expect(result.mostInsideAtOnce == 1)
  }

  @Test func withLockReturnsTheBodysValueAndKeepsItsChanges() {
    let numbers = Locked([1, 2])
    let count = numbers.withLock { numbers in
      numbers.append(3)
      return numbers.count
    }
    #expect(count == 3)
    #expect(numbers.withLock { $0 } == [1, 2, 3])
  }

  /// The error comes out typed, what the body changed before throwing stays, and the lock
  /// is released: taking it again on this thread would trap (the mutex is error-checking).
  @Test func withLockRethrowsTheBodysErrorAndReleasesTheLock() {
    let value = Locked(0)
    #expect(throws: Refusal(code: 7)) {
      try value.withLock { (value: inout Int) throws(Refusal) in
        value += 1
        throw Refusal(code: 7)
      }
    }
    do {
      try value.withLock { (value: inout Int) throws(Refusal) in
        if value == 1 { throw Refusal(code: 8) }
      }
      Issue.record("the body did not throw")
    } catch {
      #expect(error == Refusal(code: 8))  // `error` is a `Refusal`, not `any Error`.
    }
    #expect(value.withLock { $0 } == 1)
  }

  @Test func theValueIsReleasedWithTheLock() {
    weak var released: Resource?
    do {
      let resource = Resource()
      released = resource
      let locked = Locked(resource)
      #expect(locked.withLock { $0 === resource })
    }
    #expect(released == nil)
  }
}

/// `Locked` replaced `Synchronization.Mutex` because ThreadSanitizer cannot see Mutex's
/// hand-offs on Linux (RELIABILITY.md): a Mutex added back would only show up as false
/// race reports in the opt-in sanitizer run. This keeps it out of the sources.
@Suite struct NoMutexInSourcesTests {
  @Test func theSourcesLockWithLockedNotMutex() throws {
    let sources = ProjectPaths.packageRoot.appendingPathComponent("Sources")
    let files = try #require(FileManager.default.enumerator(atPath: sources.path)).compactMap { $0 as? String }
      .filter { $0.hasSuffix(".swift") }
    #expect(files.count > 100, "the sources were found")
    var offenders: [String] = []
    for file in files {
      let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
      for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        let code = line.split(separator: "//", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        if code.contains("Mutex<") || code.contains("Mutex(") { offenders.append("Sources/\(file):\(number + 1)") }
      }
    }
    #expect(offenders.isEmpty, "use BridgeCore.Locked instead of Synchronization.Mutex: \(offenders)")
  }
}
