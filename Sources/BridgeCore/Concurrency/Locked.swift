#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// A value guarded by a pthread mutex, with the API of `Synchronization.Mutex`.
///
/// It exists for ThreadSanitizer: on Linux `Mutex` is a futex whose hand-offs ThreadSanitizer
/// cannot see, so it reports races on state only ever touched under the lock; it intercepts
/// pthread mutexes. The mutex is error-checking: locking it again on the thread that holds it
/// traps instead of deadlocking.
public final class Locked<Value>: @unchecked Sendable {  // `value` is only reached under `mutex`.
  private let mutex: UnsafeMutablePointer<pthread_mutex_t>
  private var value: Value

  public init(_ initialValue: consuming sending Value) {
    mutex = .allocate(capacity: 1)
    mutex.initialize(to: pthread_mutex_t())
    var attributes = pthread_mutexattr_t()
    pthread_mutexattr_init(&attributes)
    pthread_mutexattr_settype(&attributes, Int32(PTHREAD_MUTEX_ERRORCHECK))
    let status = pthread_mutex_init(mutex, &attributes)
    pthread_mutexattr_destroy(&attributes)
    precondition(status == 0, "pthread_mutex_init failed: \(status)")
    value = initialValue
  }

  deinit {
    pthread_mutex_destroy(mutex)
    mutex.deallocate()
  }

  /// Runs `body` with exclusive access to the value and returns what it returns.
  public func withLock<Result, E: Error>(
    _ body: (inout sending Value) throws(E) -> sending Result
  ) throws(E) -> sending Result {
    let status = pthread_mutex_lock(mutex)
    precondition(status == 0, "pthread_mutex_lock failed: \(status) (locked again on the same thread?)")
    defer { pthread_mutex_unlock(mutex) }
    return try body(&value)
  }
}
