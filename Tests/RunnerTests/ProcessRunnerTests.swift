import BridgeCore
import Foundation
import Runner
import Testing

// One serialized suite: the signal tests change process-wide dispositions, and no
// other child should be spawned while they do.
@Suite(.serialized) struct ProcessRunnerTests {
  let runner = ProcessRunner()

  @Test func megabytesOnBothStreamsArriveCompleteWithoutStalling() async {
    let size = 5 * 1024 * 1024
    let output = RecordingOutput()
    let script = "head -c \(size) /dev/zero & head -c \(size) /dev/zero >&2; wait"
    let result = await runner.run(.shell(script), options: RunOptions(timeout: .seconds(20)), output: output)
    #expect(result.termination == .exited(0))
    #expect(output.stdoutCount == size)
    #expect(output.stderrCount == size)
  }

  @Test(arguments: [
    ("exit 0", ChildTermination.exited(0), Int32(0)),
    ("echo out; echo err >&2; exit 3", .exited(3), 3),
    ("kill -9 $$", .signaled(SIGKILL), 137),
    ("kill -TERM $$", .signaled(SIGTERM), 143),
  ])
  func exitStatusesMapToShellExitCodes(script: String, termination: ChildTermination, code: Int32) async {
    let result = await runner.run(.shell(script), output: RecordingOutput())
    #expect(result.termination == termination)
    #expect(result.exitCode == code)
  }

  @Test func outputAndStatusOfAShortCommand() async {
    let output = RecordingOutput()
    let result = await runner.run(.shell("echo out; echo err >&2; exit 3"), output: output)
    #expect(result.exitCode == 3)
    #expect(output.stdoutText == "out\n")
    #expect(output.stderrText == "err\n")
  }

  @Test func missingCommandIsNotFoundWith127() async throws {
    let result = await runner.run(ChildCommand("testbridge-no-such-command"), output: RecordingOutput())
    #expect(result.termination == .notFound("command not found: 'testbridge-no-such-command'"))
    #expect(result.exitCode == 127)

    let directory = try ProcessProbe.temporaryDirectory()
    let relative = await runner.run(
      ChildCommand("./missing.sh", workingDirectory: directory.path), output: RecordingOutput())
    #expect(relative.exitCode == 127)
    #expect(relative.termination.description.contains("'./missing.sh'"))
  }

  @Test func nonExecutableFileCannotStartWith126() async throws {
    let directory = try ProcessProbe.temporaryDirectory()
    let script = directory.appendingPathComponent("plain.sh")
    try "echo hi\n".write(to: script, atomically: true, encoding: .utf8)
    let result = await runner.run(ChildCommand(script.path), output: RecordingOutput())
    #expect(result.termination == .failedToStart("permission denied: '\(script.path)'"))
    #expect(result.exitCode == 126)

    let badDirectory = await runner.run(
      ChildCommand("/bin/sh", workingDirectory: directory.appendingPathComponent("nope").path),
      output: RecordingOutput())
    #expect(badDirectory.exitCode == 126)
  }

  @Test func executableIsFoundThroughTheMergedPath() async throws {
    let directory = try ProcessProbe.temporaryDirectory()
    let bin = directory.appendingPathComponent("bin")
    try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
    let tool = bin.appendingPathComponent("greet")
    try "#!/bin/sh\necho \"$GREETING $1 $(pwd)\"\n".write(to: tool, atomically: true, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: tool.path)

    let runner = ProcessRunner(baseEnvironment: ["PATH": "/usr/bin:/bin", "GREETING": "base"])
    let output = RecordingOutput()
    let command = ChildCommand(
      "greet", arguments: ["world"], environment: ["PATH": "bin:/usr/bin:/bin", "GREETING": "hello"],
      workingDirectory: directory.path)
    let result = await runner.run(command, output: output)
    #expect(result.termination == .exited(0))
    let cwd = directory.resolvingSymlinksInPath().path
    #expect(output.stdoutText == "hello world \(cwd)\n" || output.stdoutText == "hello world \(directory.path)\n")
  }

  @Test func childLeadsItsOwnProcessGroup() async throws {
    let output = RecordingOutput()
    // Field 5 of /proc/PID/stat is the process group; `sh`'s comm has no spaces.
    let result = await runner.run(.shell("echo $$ $(cut -d' ' -f5 /proc/$$/stat)"), output: output)
    #expect(result.termination == .exited(0))
    let fields = output.stdoutText.split(separator: " ").compactMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    try #require(fields.count == 2)
    #expect(fields[0] == fields[1])
    #expect(fields[1] != getpgrp())
  }

  @Test func childStartsWithNoBlockedSignals() async {
    // Spawned from an async test (a libdispatch worker with most signals blocked),
    // the child must still receive SIGINT and SIGTERM.
    let output = RecordingOutput()
    _ = await runner.run(ChildCommand("grep", arguments: ["SigBlk", "/proc/self/status"]), output: output)
    #expect(output.stdoutText.hasSuffix("0000000000000000\n"))
  }

  @Test func timeoutEscalatesToKillWhenTermIsIgnored() async throws {
    let directory = try ProcessProbe.temporaryDirectory()
    let marker = directory.appendingPathComponent("term")
    // SIGTERM is noted and survived; only the SIGKILL after the grace period ends the child.
    // Perl, not a shell loop whose `sleep` forks (a loaded machine once saw such a
    // shell end within the grace period); the timeout leaves time to set the handler.
    let script = "$SIG{TERM} = sub { open(my $f, '>', $ARGV[0]); print $f \"term\\n\"; close $f }; select(undef, undef, undef, 0.05) while 1;"
    let options = RunOptions(timeout: .seconds(2), gracePeriod: .seconds(1))
    let result = await runner.run(
      ChildCommand("perl", arguments: ["-e", script, marker.path]), options: options, output: RecordingOutput())
    #expect(result.termination == .timedOut(signal: SIGKILL))
    #expect(result.exitCode == 124)
    #expect(FileManager.default.fileExists(atPath: marker.path), "SIGTERM came first")
    // The timeout and then the whole grace period passed before SIGKILL.
    #expect(result.duration >= 3, "killed after \(result.duration) s")
    #expect(result.duration < 30)
  }

  @Test func timeoutStopsWithTermWhenObeyed() async {
    let options = RunOptions(timeout: .milliseconds(200), gracePeriod: .seconds(5))
    let result = await runner.run(.shell("sleep 30"), options: options, output: RecordingOutput())
    #expect(result.termination == .timedOut(signal: SIGTERM), "no SIGKILL: the group was gone within the grace period")
    #expect(result.exitCode == 124)
    #expect(result.duration >= 0.2)
    #expect(result.duration < 30)
  }

  @Test func outputArrivesWhileTheChildStillRuns() async throws {
    let directory = try ProcessProbe.temporaryDirectory()
    let go = directory.appendingPathComponent("go")
    // Megabytes first, then a line; the child goes on only once the test has seen that line.
    let script = """
      head -c 3000000 /dev/zero; echo; echo ready
      i=0; while [ ! -e '\(go.path)' ]; do i=$((i + 1)); [ $i -gt 600 ] && exit 3; sleep 0.05; done
      echo done
      """
    let output = WatchingOutput(waitingFor: "ready\n") {
      _ = FileManager.default.createFile(atPath: go.path, contents: nil)
    }
    let result = await runner.run(.shell(script), options: RunOptions(timeout: .seconds(60)), output: output)
    #expect(result.termination == .exited(0), "the line was not seen while the child ran")
    #expect(output.total == 3_000_000 + "\nready\ndone\n".utf8.count)
  }

  @Test func childrenStartWithDefaultDispositionsForSignalsWeSurvive() async throws {
    // Ignored here (as a parent may leave it), SIGPIPE must still be default in the child.
    signal(SIGPIPE, SIG_IGN)
    let forwarder = SignalForwarder(runner: runner)
    forwarder.start()
    defer { forwarder.stop() }
    let output = RecordingOutput()
    let result = await runner.run(
      .shell("yes | head -1; grep SigIgn /proc/self/status"), options: RunOptions(timeout: .seconds(30)),
      output: output)
    #expect(result.termination == .exited(0))
    #expect(output.stderrText == "", "yes must die of SIGPIPE quietly")
    #expect(output.stdoutText.hasPrefix("y\n"))
    let ignored = try #require(ProcessProbe.ignoredSignals(in: output.stdoutText))
    for signal in [SIGPIPE, SIGINT, SIGTERM] {
      #expect(ignored & (1 << UInt64(signal - 1)) == 0, "\(SignalNames.name(signal)) is ignored in the child")
    }
    #expect(ProcessProbe.handlerAddress(SIGPIPE) > 1, "this process still survives a closed pipe")
  }

  @Test func cancellingRightAwayStillStopsTheChild() async throws {
    let directory = try ProcessProbe.temporaryDirectory()
    let pidFile = directory.appendingPathComponent("pid")
    let runner = self.runner
    let task = Task {
      await runner.run(.shell("echo $$ > '\(pidFile.path)'; exec sleep 30"), output: RecordingOutput())
    }
    task.cancel()
    let result = await task.value
    #expect(result.termination == .signaled(SIGTERM))
    #expect(result.duration < 25, "the cancel was lost: the child ran its 30 s")
  }

  @Test func leftoverBackgroundJobIsStoppedWhenTheChildExits() async throws {
    let directory = try ProcessProbe.temporaryDirectory()
    let pidFile = directory.appendingPathComponent("pid")
    // The background sleep keeps stdout open; without cleanup the run would wait for it.
    let result = await runner.run(
      .shell("sleep 30 & echo $! > '\(pidFile.path)'"), options: RunOptions(gracePeriod: .seconds(1)),
      output: RecordingOutput())
    #expect(result.termination == .exited(0))
    #expect(result.duration < 2)
    let grandchild = try await ProcessProbe.pid(in: pidFile)
    #expect(await ProcessProbe.isGone(grandchild))
  }

  @Test func leftoversCanBeKeptAndOutputDrainingIsBounded() async throws {
    let directory = try ProcessProbe.temporaryDirectory()
    let pidFile = directory.appendingPathComponent("pid")
    let options = RunOptions(killsLeftoverProcesses: false, outputDrainTimeout: .milliseconds(300))
    let output = RecordingOutput()
    let result = await runner.run(
      .shell("sleep 30 & echo $! > '\(pidFile.path)'; echo started"), options: options, output: output)
    let grandchild = try await ProcessProbe.pid(in: pidFile)
    defer { kill(grandchild, SIGKILL) }
    #expect(result.termination == .exited(0))
    #expect(result.duration < 2)
    #expect(output.stdoutText == "started\n")
    #expect(kill(grandchild, 0) == 0)  // still running: it was left alone
  }

  @Test func cancellingTheTaskStopsTheChild() async throws {
    let directory = try ProcessProbe.temporaryDirectory()
    let pidFile = directory.appendingPathComponent("pid")
    let runner = self.runner
    let task = Task {
      await runner.run(.shell("echo $$ > '\(pidFile.path)'; exec sleep 30"), output: RecordingOutput())
    }
    let child = try await ProcessProbe.pid(in: pidFile)
    task.cancel()
    let result = await task.value
    #expect(result.termination == .signaled(SIGTERM))
    #expect(await ProcessProbe.isGone(child))
  }

  // MARK: - Signals reaching the whole group

  @Test(arguments: [SIGTERM, SIGINT])
  func interruptReachesTheGrandchild(signal: Int32) async throws {
    let directory = try ProcessProbe.temporaryDirectory()
    let probe = try GrandchildProbe(in: directory)
    let runner = self.runner
    let task = Task {
      await runner.run(probe.command, options: RunOptions(gracePeriod: .seconds(2)), output: RecordingOutput())
    }
    let grandchild = try await ProcessProbe.pid(in: probe.pidFile)
    runner.interrupt(signal: signal)
    let result = await task.value
    // The grandchild caught the signal itself (a signal to the leader alone would leave it
    // running until the SIGKILL after the grace period, with no marker), then the leader's
    // trap ran once its foreground child was done.
    #expect(try probe.marker() == SignalNames.name(signal).dropFirst(3))
    #expect(result.termination == .exited(7))
    #expect(await ProcessProbe.isGone(grandchild))
  }

  // Each case starts and stops the forwarder; libdispatch installs its handler only
  // once per process, so every start after the first must put it back itself.
  @Test(arguments: [SIGTERM, SIGINT, SIGTERM])
  func forwarderPassesOurSignalToTheGroupAndRestoresTheDisposition(signal: Int32) async throws {
    let seen = RecordingSignals()
    let forwarder = SignalForwarder(runner: runner) { seen.append($0) }
    let before = ProcessProbe.handlerAddress(signal)
    forwarder.start()
    // Never raise a signal whose default action would end the test process.
    try #require(ProcessProbe.handlerAddress(signal) > 1)

    let directory = try ProcessProbe.temporaryDirectory()
    let pidFile = directory.appendingPathComponent("pid")
    let runner = self.runner
    let task = Task {
      await runner.run(
        .shell("sleep 30 & echo $! > '\(pidFile.path)'; wait"), options: RunOptions(gracePeriod: .seconds(1)),
        output: RecordingOutput())
    }
    let grandchild = try await ProcessProbe.pid(in: pidFile)
    kill(getpid(), signal)
    let result = await task.value
    forwarder.stop()

    #expect(result.termination == .signaled(signal))
    #expect(seen.values == [signal])
    #expect(await ProcessProbe.isGone(grandchild))
    #expect(ProcessProbe.handlerAddress(signal) == before)
  }
}

/// A leader shell running a grandchild (a foreground `sh`, in the same process group) that
/// writes the name of the signal it catches to a marker file.
struct GrandchildProbe {
  let directory: URL
  var pidFile: URL { directory.appendingPathComponent("grandchild.pid") }
  var markerFile: URL { directory.appendingPathComponent("marker") }

  init(in directory: URL) throws {
    self.directory = directory
    let grandchild = """
      trap 'echo INT > "$1"; exit 0' INT
      trap 'echo TERM > "$1"; exit 0' TERM
      echo $$ > "$2"
      while :; do sleep 0.05; done

      """
    try grandchild.write(to: directory.appendingPathComponent("grandchild.sh"), atomically: true, encoding: .utf8)
  }

  /// The leader: traps the signals (so it outlives them), runs the grandchild in the foreground, exits 7 after a signal.
  var words: [String] {
    ["/bin/sh", "-c", "trap 'exit 7' INT TERM; /bin/sh grandchild.sh marker grandchild.pid; exit 9"]
  }

  var command: ChildCommand {
    ChildCommand(words[0], arguments: Array(words.dropFirst()), workingDirectory: directory.path)
  }

  func marker() throws -> String {
    try String(contentsOf: markerFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
  }
}

/// Counts output and runs `action` once when `text` has arrived (on the reader thread).
final class WatchingOutput: OutputHandler {
  private struct State {
    var total = 0
    var tail: [UInt8] = []
    var fired = false
  }

  private let needle: [UInt8]
  private let action: @Sendable () -> Void
  private let state = Locked(State())

  init(waitingFor text: String, action: @escaping @Sendable () -> Void) {
    self.needle = Array(text.utf8)
    self.action = action
  }

  var total: Int { state.withLock { $0.total } }

  func stdout(_ bytes: [UInt8]) {
    let fire = state.withLock { state in
      state.total += bytes.count
      guard !state.fired else { return false }
      state.tail = Array((state.tail + bytes).suffix(needle.count * 2 + 64))
      let found = state.tail.count >= needle.count
        && (0...(state.tail.count - needle.count)).contains { Array(state.tail[$0..<($0 + needle.count)]) == needle }
      if found { state.fired = true }
      return found
    }
    if fire { action() }
  }

  func stderr(_ bytes: [UInt8]) { state.withLock { $0.total += bytes.count } }
}

final class RecordingSignals: Sendable {
  private let storage = Locked<[Int32]>([])
  func append(_ signal: Int32) { storage.withLock { $0.append(signal) } }
  var values: [Int32] { storage.withLock { $0 } }
}
