import Foundation
import Synchronization
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

  @Test func timeoutEscalatesToKillWhenTermIsIgnored() async {
    let options = RunOptions(timeout: .milliseconds(300), gracePeriod: .milliseconds(300))
    let result = await runner.run(.shell("trap '' TERM; sleep 30"), options: options, output: RecordingOutput())
    #expect(result.termination == .timedOut(signal: SIGKILL))
    #expect(result.exitCode == 124)
    #expect(result.duration < 3)
  }

  @Test func timeoutStopsWithTermWhenObeyed() async {
    let options = RunOptions(timeout: .milliseconds(200), gracePeriod: .seconds(5))
    let result = await runner.run(.shell("sleep 30"), options: options, output: RecordingOutput())
    #expect(result.termination == .timedOut(signal: SIGTERM))
    #expect(result.exitCode == 124)
    #expect(result.duration < 3)
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
    let pidFile = directory.appendingPathComponent("pid")
    let runner = self.runner
    let task = Task {
      await runner.run(
        .shell("sleep 30 & echo $! > '\(pidFile.path)'; wait"), options: RunOptions(gracePeriod: .seconds(1)),
        output: RecordingOutput())
    }
    let grandchild = try await ProcessProbe.pid(in: pidFile)
    runner.interrupt(signal: signal)
    let result = await task.value
    // For SIGINT the background `sleep` ignores the signal (as in any non-interactive
    // shell); the group cleanup after `sh` exits stops it.
    #expect(result.termination == .signaled(signal))
    #expect(result.exitCode == 128 + signal)
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

final class RecordingSignals: Sendable {
  private let storage = Mutex<[Int32]>([])
  func append(_ signal: Int32) { storage.withLock { $0.append(signal) } }
  var values: [Int32] { storage.withLock { $0 } }
}
