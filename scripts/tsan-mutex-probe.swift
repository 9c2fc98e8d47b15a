// Shows why testbridge guards shared state with BridgeCore.Locked rather than
// Synchronization.Mutex: ThreadSanitizer reports races on state that is only ever
// touched inside Mutex.withLock (Linux, Swift 6.3).
//
//   swiftc -sanitize=thread -g scripts/tsan-mutex-probe.swift -o /tmp/tsan-mutex-probe
//   /tmp/tsan-mutex-probe            # "WARNING: ThreadSanitizer: Swift access race"
//   /tmp/tsan-mutex-probe nslock     # the same program over NSLock: no report
//
// Mutex on Linux is a priority-inheritance futex: under contention the kernel hands
// the lock from one thread to the next, and ThreadSanitizer, which sees only the
// atomic operations in user space, misses that ordering. NSLock is a pthread mutex,
// which ThreadSanitizer intercepts.
import Foundation
import Synchronization

struct State {
  var counter = 0
  var owners: [Int: Int] = [:]
}

final class MutexBox: Sendable {
  let state = Mutex(State())
  func withLock<T>(_ body: (inout State) -> T) -> T { state.withLock { body(&$0) } }
}

final class NSLockBox: @unchecked Sendable {
  private let lock = NSLock()
  private var state = State()
  func withLock<T>(_ body: (inout State) -> T) -> T {
    lock.lock()
    defer { lock.unlock() }
    return body(&state)
  }
}

let useNSLock = CommandLine.arguments.dropFirst().first == "nslock"
let mutexBox = MutexBox()
let nslockBox = NSLockBox()
func withLock<T>(_ body: (inout State) -> T) -> T {
  useNSLock ? nslockBox.withLock(body) : mutexBox.withLock(body)
}

let threads = (0..<4).map { thread in
  Thread {
    for index in 0..<20_000 {
      withLock { state in
        state.counter += 1
        state.owners[index % 64] = thread
      }
    }
  }
}
threads.forEach { $0.start() }
while withLock({ $0.counter }) < 80_000 { usleep(1_000) }
print("\(useNSLock ? "NSLock" : "Mutex"): \(withLock { $0.counter }) increments")
