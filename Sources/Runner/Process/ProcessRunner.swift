import BridgeCore
import Foundation
import Synchronization

/// Runs child processes without a shell: resolves the executable through `PATH`,
/// streams output as it arrives, enforces a timeout and stops the child's whole
/// process group.
///
/// On Linux every child leads its own process group (Foundation spawns with
/// `POSIX_SPAWN_SETPGROUP`), so a terminal's Ctrl-C reaches only testbridge.
/// ``interrupt(signal:)`` (driven by ``SignalForwarder``) passes signals on to the
/// group, and every stop ends with SIGKILL to the group after the grace period,
/// so grandchildren do not outlive the run.
public final class ProcessRunner: Sendable {
  private let baseEnvironment: [String: String]
  private let active = Locked<[UInt64: RunningChild]>([:])
  private let nextID = Atomic<UInt64>(0)

  /// A runner whose children see this process's environment plus each command's overrides.
  public convenience init() {
    self.init(baseEnvironment: ProcessInfo.processInfo.environment)
  }

  /// A runner whose children see `baseEnvironment` plus each command's overrides.
  public init(baseEnvironment: [String: String]) {
    self.baseEnvironment = baseEnvironment
  }

  /// Runs `command` to completion and returns how it ended.
  ///
  /// Output goes to `output` while the child runs; every byte has been delivered
  /// when this returns. Cancelling the calling task stops the child like a timeout
  /// (SIGTERM, then SIGKILL after the grace period), but the result is the child's
  /// own termination.
  public func run(
    _ command: ChildCommand, options: RunOptions = RunOptions(), output: any OutputHandler
  ) async -> ChildResult {
    let startedAt = Date()
    let start = ContinuousClock.now
    func result(_ termination: ChildTermination) -> ChildResult {
      let elapsed = ContinuousClock.now - start
      let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
      return ChildResult(termination: termination, startedAt: startedAt, duration: seconds)
    }

    let environment = baseEnvironment.merging(command.environment) { _, override in override }
    var resolved = command
    // Absolute, so a relative executable path means the same before and after the child's chdir.
    if let directory = command.workingDirectory, !directory.hasPrefix("/") {
      resolved.workingDirectory = FileManager.default.currentDirectoryPath + "/" + directory
    }
    let command = resolved
    if let directory = command.workingDirectory {
      var isDirectory: ObjCBool = false
      guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue
      else { return result(.failedToStart("working directory '\(directory)' does not exist")) }
    }
    let path: String
    switch ExecutableLocator.locate(
      command.executable, searchPath: environment["PATH"], workingDirectory: command.workingDirectory)
    {
    case .success(let found): path = found
    case .failure(let failure): return result(failure.termination)
    }

    // Registered before the spawn so a signal forwarded meanwhile is delivered once the group exists.
    let child = RunningChild(gracePeriod: options.gracePeriod)
    let id = nextID.add(1, ordering: .relaxed).newValue
    active.withLock { $0[id] = child }
    defer { _ = active.withLock { $0.removeValue(forKey: id) } }

    let launch = await SpawnThread.shared.perform {
      Launcher.launch(path: path, command: command, environment: environment, output: output)
    }
    let launched: Launched
    switch launch {
    case .success(let value): launched = value
    case .failure(let failure): return result(.failedToStart(failure.message))
    }
    child.attach(pgid: launched.pid)

    let timeoutTask = options.timeout.map { limit in
      Task {
        do { try await Task.sleep(for: limit) } catch { return }
        child.terminate(with: SIGTERM, reason: .timeout)
      }
    }
    let exit = await withTaskCancellationHandler {
      await launched.exit.value
    } onCancel: {
      child.terminate(with: SIGTERM, reason: .cancelled)
    }
    child.leaderExited()
    timeoutTask?.cancel()

    if options.killsLeftoverProcesses || child.wasSignalled, ProcessGroup.hasLiveMembers(launched.pid) {
      child.terminate(with: SIGTERM, reason: .leftovers)
    }
    await child.stopped()
    launched.pump.stop(after: options.outputDrainTimeout)
    await launched.pump.finished.value

    if let signal = child.timeoutSignal { return result(.timedOut(signal: signal)) }
    return result(exit.signaled ? .signaled(exit.status) : .exited(exit.status))
  }

  /// Sends `signal` to the process group of every running child; if a group is
  /// still alive after its grace period it gets SIGKILL.
  public func interrupt(signal: Int32) {
    let children = active.withLock { Array($0.values) }
    for child in children { child.terminate(with: signal, reason: .forwarded) }
  }
}

/// How a started child ended (from `waitid`, or Foundation if it reaped the child first).
struct ChildExit: Sendable {
  var signaled: Bool
  var status: Int32
}

/// A started child: its pid (also its process group id), exit and output.
struct Launched: Sendable {
  var process: Process
  var pid: pid_t
  var exit: OneShot<ChildExit>
  var pump: OutputPump
}

struct LaunchFailure: Error {
  var message: String
}

/// Builds and starts the `Process`; runs on the ``SpawnThread``.
enum Launcher {
  static func launch(
    path: String, command: ChildCommand, environment: [String: String], output: any OutputHandler
  ) -> Result<Launched, LaunchFailure> {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = command.arguments
    process.environment = environment
    if let directory = command.workingDirectory {
      process.currentDirectoryURL = URL(fileURLWithPath: directory, isDirectory: true)
    }
    let stdout = Pipe()
    let stderr = Pipe()
    process.standardOutput = stdout
    process.standardError = stderr
    process.standardInput = FileHandle.nullDevice
    let exit = OneShot<ChildExit>()
    // Set before run(): the handler resumes the awaiting task, nobody blocks in waitUntilExit().
    process.terminationHandler = { finished in
      exit.fulfil(
        ChildExit(signaled: finished.terminationReason == .uncaughtSignal, status: finished.terminationStatus))
    }
    // An ignored SIGPIPE would be inherited (Foundation spawns without POSIX_SPAWN_SETSIGDEF):
    // `yes | head -1` would print "Broken pipe". Caught instead, it is reset by exec.
    ProcessSignals.stopIgnoring(SIGPIPE)
    do {
      try process.run()
    } catch {
      return .failure(LaunchFailure(message: "cannot start '\(command.executable)': \(reason(error))"))
    }
    let pid = process.processIdentifier
    watchExit(of: pid, into: exit)
    let pump = OutputPump(
      stdout: stdout.fileHandleForReading, stderr: stderr.fileHandleForReading, handler: output)
    pump.start()
    return .success(Launched(process: process, pid: pid, exit: exit, pump: pump))
  }

  /// Notices the child's exit as soon as it happens.
  ///
  /// corelibs Foundation learns of the exit when a socket inherited by the child
  /// reaches end of file, so its `terminationHandler` waits for every grandchild
  /// that inherited the socket too (a background `sleep 30 &` delays it 30 s).
  /// `waitid(WNOWAIT)` reports the exit without reaping, so Foundation's own
  /// `waitpid` still collects the child later.
  private static func watchExit(of pid: pid_t, into exit: OneShot<ChildExit>) {
    let thread = Thread {
      var info = siginfo_t()
      while true {
        if waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) == 0 { break }
        if errno == EINTR { continue }
        return  // ECHILD: Foundation reaped it first and its handler reports the exit.
      }
      let status = info._sifields._sigchld.si_status
      // si_code: CLD_EXITED (1) for a normal exit, CLD_KILLED (2) or CLD_DUMPED (3) for a signal.
      exit.fulfil(ChildExit(signaled: info.si_code != 1, status: status))
    }
    thread.name = "testbridge-exit"
    thread.start()
  }

  private static func reason(_ error: any Error) -> String {
    let nsError = error as NSError
    if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
      return String(cString: strerror(Int32(underlying.code))).lowercased()
    }
    if nsError.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(nsError.code))).lowercased() }
    return nsError.localizedDescription
  }
}

/// Stop bookkeeping for one running child: which signals were sent, whether it
/// timed out, and the single SIGKILL escalation.
final class RunningChild: Sendable {
  enum Reason { case timeout, forwarded, cancelled, leftovers }

  private struct State {
    var pgid: pid_t?
    var pending: [Int32] = []
    var leaderExited = false
    var signalled = false
    var timedOut = false
    var lastSignal: Int32?
    var escalating = false
  }

  private let state = Locked(State())
  private let gracePeriod: Duration
  private let escalation = OneShot<Void>()

  init(gracePeriod: Duration) {
    self.gracePeriod = gracePeriod
  }

  /// Records the group id and delivers signals that arrived before the spawn finished.
  func attach(pgid: pid_t) {
    let pending = state.withLock { state in
      state.pgid = pgid
      defer { state.pending = [] }
      return state.pending
    }
    for signal in pending { terminate(with: signal, reason: .forwarded) }
  }

  func leaderExited() {
    state.withLock { $0.leaderExited = true }
  }

  var wasSignalled: Bool { state.withLock { $0.signalled } }

  /// The last signal sent after the timeout, if the child timed out.
  var timeoutSignal: Int32? {
    state.withLock { $0.timedOut ? ($0.lastSignal ?? SIGTERM) : nil }
  }

  /// Sends `signal` to the group and, the first time, starts the SIGKILL escalation.
  func terminate(with signal: Int32, reason: Reason) {
    let action: (pgid: pid_t, escalate: Bool)? = state.withLock { state in
      guard let pgid = state.pgid else {
        if reason == .forwarded { state.pending.append(signal) }
        return nil
      }
      // A timeout that fires after the child exited on its own is no timeout.
      if reason == .timeout {
        guard !state.leaderExited else { return nil }
        state.timedOut = true
      }
      state.signalled = true
      state.lastSignal = signal
      defer { state.escalating = true }
      return (pgid, !state.escalating)
    }
    guard let action else { return }
    ProcessGroup.signal(action.pgid, signal)
    if action.escalate {
      Task { await self.escalate(action.pgid) }
    }
  }

  /// Waits for a started escalation to finish (the group is gone or was SIGKILLed).
  func stopped() async {
    if state.withLock({ $0.escalating }) { await escalation.value }
  }

  private func escalate(_ pgid: pid_t) async {
    if await !ProcessGroup.waitUntilEmpty(pgid, within: gracePeriod) {
      state.withLock { $0.lastSignal = SIGKILL }
      ProcessGroup.signal(pgid, SIGKILL)
      _ = await ProcessGroup.waitUntilEmpty(pgid, within: .seconds(2))
    }
    escalation.fulfil(())
  }
}
