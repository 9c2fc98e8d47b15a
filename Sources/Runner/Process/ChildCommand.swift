/// A program to start: an executable name or path, its arguments, environment
/// overrides and working directory. No shell is involved.
public struct ChildCommand: Sendable, Hashable {
  /// A name looked up through `PATH`, or a path (anything containing `/`).
  public var executable: String
  /// Arguments after the executable (no shell: no globbing, quoting or expansion).
  public var arguments: [String]
  /// Variables set on top of the runner's base environment.
  public var environment: [String: String]
  /// Directory the child starts in; `nil` keeps ours. Relative executable
  /// paths and relative `PATH` entries are resolved against it.
  public var workingDirectory: String?

  /// A command with everything but the executable optional.
  public init(
    _ executable: String, arguments: [String] = [], environment: [String: String] = [:],
    workingDirectory: String? = nil
  ) {
    self.executable = executable
    self.arguments = arguments
    self.environment = environment
    self.workingDirectory = workingDirectory
  }

  /// A command line written for a shell (a manual plan's `$ …` step), run as `/bin/sh -c line`.
  public static func shell(
    _ line: String, environment: [String: String] = [:], workingDirectory: String? = nil
  ) -> ChildCommand {
    ChildCommand("/bin/sh", arguments: ["-c", line], environment: environment, workingDirectory: workingDirectory)
  }
}

/// How long a child may run and how it is stopped.
public struct RunOptions: Sendable, Hashable {
  /// Wall-clock limit; when it passes the child's process group gets SIGTERM, then SIGKILL
  /// after ``gracePeriod``. `nil` means no limit.
  public var timeout: Duration?
  /// Time between SIGTERM (or a forwarded signal) and SIGKILL to the process group.
  public var gracePeriod: Duration
  /// When the child exits, stop what is left of its process group (background jobs it
  /// started and did not wait for): SIGTERM, then SIGKILL after ``gracePeriod``.
  public var killsLeftoverProcesses: Bool
  /// How long output is still read after the child and its group are gone, for pipes
  /// kept open by processes outside the group (daemons that called `setsid`).
  public var outputDrainTimeout: Duration

  /// Options with defaults: no timeout, 10 s grace, leftovers stopped, 2 s drain.
  public init(
    timeout: Duration? = nil, gracePeriod: Duration = .seconds(10), killsLeftoverProcesses: Bool = true,
    outputDrainTimeout: Duration = .seconds(2)
  ) {
    self.timeout = timeout
    self.gracePeriod = gracePeriod
    self.killsLeftoverProcesses = killsLeftoverProcesses
    self.outputDrainTimeout = outputDrainTimeout
  }
}

/// Receives a child's output as it arrives.
///
/// Both methods are called from one reader thread, one call at a time, in the
/// order the bytes were read; chunks are at most 64 KiB. Implementations should
/// return quickly (the child blocks once its pipe buffer is full).
public protocol OutputHandler: Sendable {
  /// A chunk of the child's standard output.
  func stdout(_ bytes: [UInt8])
  /// A chunk of the child's standard error.
  func stderr(_ bytes: [UInt8])
}

/// Drops all output.
public struct DiscardingOutput: OutputHandler {
  /// A handler that drops everything.
  public init() {}
  public func stdout(_ bytes: [UInt8]) {}
  public func stderr(_ bytes: [UInt8]) {}
}
