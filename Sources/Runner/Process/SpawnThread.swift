import Foundation

/// The one thread that starts children.
///
/// Foundation's `Process` on Linux spawns without `POSIX_SPAWN_SETSIGMASK`, so a
/// child inherits the signal mask of the thread that called `run()`. libdispatch
/// worker threads (which carry Swift concurrency on Linux) block SIGINT, SIGTERM
/// and most other signals, so a child started from an async function would never
/// see a forwarded Ctrl-C. This thread clears its mask before every spawn. It lives
/// for the whole process because `Process.run()` keeps a reference to the calling
/// thread's run loop.
final class SpawnThread: @unchecked Sendable {
  static let shared = SpawnThread()

  // Guarded by `condition`.
  private let condition = NSCondition()
  private var jobs: [@Sendable () -> Void] = []

  private init() {
    let thread = Thread { [self] in self.loop() }
    thread.name = "testbridge-spawn"
    thread.start()
  }

  /// Runs `body` on the spawn thread and returns its result.
  func perform<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
      condition.lock()
      jobs.append { continuation.resume(returning: body()) }
      condition.signal()
      condition.unlock()
    }
  }

  private func loop() {
    while true {
      condition.lock()
      while jobs.isEmpty { condition.wait() }
      let job = jobs.removeFirst()
      condition.unlock()
      // Cleared before each job: the thread starts with the mask of the thread that
      // created it, and nothing may leave a signal blocked in it since.
      var empty = sigset_t()
      sigemptyset(&empty)
      pthread_sigmask(SIG_SETMASK, &empty, nil)
      job()
    }
  }
}
