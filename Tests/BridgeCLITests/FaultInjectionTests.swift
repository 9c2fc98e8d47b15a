import BridgeCore
import BridgeTestSupport
import Foundation
import HTTPServer
import Sandbox
import Testing

/// `testbridge report` and `flush` against a Testomat.io that fails: error statuses,
/// answers slower than the timeout, dropped connections, answers cut off mid-body, a
/// name that does not resolve, a spool that cannot be written or whose disk is full,
/// and testbridge killed mid-upload.
///
/// Every case is the real binary over real HTTP on 127.0.0.1 against the sandbox,
/// and every case counts what the sandbox received: each result arrives exactly
/// once in the run (a re-sent `rid` replaces itself), or the loss is reported.
@Suite(.serialized) struct FaultInjectionTests {
  typealias Sandbox = ReportEndToEndTests.Sandbox

  /// Passing results, so the exit status shows what happened to the delivery (4), not the tests (1).
  static let resultCount = 10

  /// A folder with `passing.xml`: `resultCount` passing testcases.
  static func passingReport() throws -> URL {
    let directory = try ProjectPaths.temporaryDirectory("faults")
    let testcases = (1...resultCount).map { "<testcase classname=\"faults\" name=\"test_\($0)\" time=\"0.01\"/>" }
    let xml = "<testsuite name=\"faults\" tests=\"\(resultCount)\">\(testcases.joined())</testsuite>\n"
    try Data(xml.utf8).write(to: directory.appendingPathComponent("passing.xml"))
    return directory
  }

  /// Every result of the run arrived, none twice, and each `rid` was received at most `maxReceipts` times.
  static func expectDeliveredOnce(_ run: SandboxRun?, maxReceipts: Int = 1, sourceLocation: SourceLocation = #_sourceLocation) {
    guard let run else {
      Issue.record("no run", sourceLocation: sourceLocation)
      return
    }
    #expect(run.results.count == resultCount, sourceLocation: sourceLocation)
    #expect(Set(run.results.compactMap(\.rid)).count == resultCount, sourceLocation: sourceLocation)
    #expect(Set(run.results.compactMap(\.title)).count == resultCount, sourceLocation: sourceLocation)
    #expect(run.ridCounts.count == resultCount, sourceLocation: sourceLocation)
    #expect(run.ridCounts.values.allSatisfy { (1...maxReceipts).contains($0) }, "\(run.ridCounts)", sourceLocation: sourceLocation)
    #expect(run.finished && run.finishCount == 1, sourceLocation: sourceLocation)
  }

  /// Results (by test title) waiting in the spool, counted from its batch files.
  static func spooledTitles(in spool: URL) throws -> [String] {
    var titles: [String] = []
    for file in try FileManager.default.subpathsOfDirectory(atPath: spool.path) where file.hasSuffix(".json") {
      guard file.split(separator: "/").last?.hasPrefix("batch-") == true else { continue }
      let data = try Data(contentsOf: spool.appendingPathComponent(file))
      let batch = try #require(JSONValue.parse(data)?.objectValue)
      for test in batch["tests"]?.arrayValue ?? [] {
        titles.append(test["title"]?.stringValue ?? "?")
      }
    }
    return titles
  }

  /// Polls until `condition` holds (the sandbox finishes held requests on its own schedule).
  static func eventually(_ condition: () async -> Bool, timeout: Duration = .seconds(15)) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
      if await condition() { return true }
      try? await Task.sleep(for: .milliseconds(25))
    }
    return await condition()
  }

  // MARK: - Error statuses

  @Test(arguments: [429, 500, 502, 503])
  func transientErrorStatusesAreRetriedAndEveryResultArrivesOnce(status: Int) async throws {
    let sandbox = try await Sandbox.start()
    defer { Task { await sandbox.stop() } }
    let reports = try Self.passingReport()
    defer { try? FileManager.default.removeItem(at: reports) }
    await sandbox.server.emulator.setFaults([
      SandboxFault(method: "POST", pathPrefix: "/api/reporter/", status: status, times: 2, retryAfter: status == 429 ? 0 : nil),
      SandboxFault(method: "PUT", pathPrefix: "/api/reporter/", status: status, times: 1),
    ])
    let output = try await sandbox.testbridge(["report", "--batch-size", "4", reports.appendingPathComponent("passing.xml").path])
    #expect(output.status == 0, "\(output.stderr)")
    let state = await sandbox.server.emulator.state()
    #expect(state.runs.count == 1)
    Self.expectDeliveredOnce(state.runs.first)
    #expect(state.requests.filter(\.fault).map(\.status) == [status, status, status])
    #expect(state.faults.isEmpty)
    #expect(!output.stderr.contains("kept in"))
  }

  @Test func persistentErrorsSpoolTheRestAndTheCloseAndFlushDeliversThemOnce() async throws {
    let sandbox = try await Sandbox.start()
    defer { Task { await sandbox.stop() } }
    let reports = try Self.passingReport()
    defer { try? FileManager.default.removeItem(at: reports) }
    // The first batch goes through; every later upload and the close keep failing.
    await sandbox.server.emulator.setFaults([
      SandboxFault(method: "POST", pathPrefix: "/api/reporter/", times: 1),
      SandboxFault(pathPrefix: "/api/reporter/", status: 500, times: 1_000),
    ])
    let report = try await sandbox.testbridge(
      ["report", "--batch-size", "4", reports.appendingPathComponent("passing.xml").path])
    #expect(report.status == 4, "\(report.stderr)")
    #expect(report.stderr.contains("6 results were not delivered and are kept in"))
    var run = try #require(await sandbox.server.emulator.state().runs.first)
    #expect(run.results.count == 4)
    #expect(!run.finished)
    #expect(try Self.spooledTitles(in: sandbox.spool).count == 6)

    await sandbox.server.emulator.setFaults([])
    let flush = try await sandbox.testbridge(["flush"])
    #expect(flush.status == 0, "\(flush.stderr)")
    #expect(flush.stdout.contains("Delivered 6 results to run \(run.uid) and finished it"))
    let state = await sandbox.server.emulator.state()
    #expect(state.runs.count == 1)
    run = try #require(state.runs.first)
    Self.expectDeliveredOnce(run)
    #expect(run.statusEvents == ["pass"])
    #expect(try Self.spooledTitles(in: sandbox.spool).isEmpty)
  }

  // MARK: - Slow answers and dropped connections

  @Test func answersSlowerThanTheTimeoutAreRetriedWithoutDoublingResults() async throws {
    let sandbox = try await Sandbox.start()
    defer { Task { await sandbox.stop() } }
    let reports = try Self.passingReport()
    defer { try? FileManager.default.removeItem(at: reports) }
    // The sandbox holds the first upload for 2.5 s and then serves it anyway: the
    // client gave up after 0.5 s and sent it again, so it may arrive twice.
    await sandbox.server.emulator.setFaults([
      SandboxFault(method: "POST", pathPrefix: "/api/reporter/", times: 1, delayMilliseconds: 2_500)
    ])
    let output = try await sandbox.testbridge(
      ["report", "--batch-size", "4", reports.appendingPathComponent("passing.xml").path],
      ["TESTOMATIO_REQUEST_TIMEOUT": "500"])
    #expect(output.status == 0, "\(output.stderr)")
    // Wait for the held request to be answered before counting.
    #expect(await Self.eventually { await sandbox.server.emulator.state().requests.contains { $0.fault } })
    let state = await sandbox.server.emulator.state()
    #expect(state.runs.count == 1)
    Self.expectDeliveredOnce(state.runs.first, maxReceipts: 2)
    // The late copy lands after the run was closed: refused (409), or replaced by rid.
    let faulted = state.requests.filter(\.fault)
    let late = try #require(faulted.first)
    #expect(late.status == 409 || late.status == 200, "\(late)")
  }

  @Test func connectionsDroppedWithoutAnAnswerAreRetriedWithoutDoublingResults() async throws {
    // A short read timeout: when a kept-alive connection is dropped, libcurl sends the
    // request again on a new connection but without its body, and the server waits for
    // the body until its read timeout (then answers 408, which is retried).
    let server = SandboxServer(
      emulator: TestomatioEmulator(apiKey: ReportEndToEndTests.apiKey),
      configuration: ServerConfiguration(readTimeout: .seconds(1)))
    let sandbox = Sandbox(server: server, url: try await server.start(), spool: try ProjectPaths.temporaryDirectory("spool"))
    defer { Task { await sandbox.stop() } }
    let reports = try Self.passingReport()
    defer { try? FileManager.default.removeItem(at: reports) }
    await sandbox.server.emulator.setFaults([
      SandboxFault(method: "POST", pathPrefix: "/api/reporter/", times: 3, dropConnection: true),
      SandboxFault(method: "PUT", pathPrefix: "/api/reporter/", times: 1, dropConnection: true),
    ])
    let output = try await sandbox.testbridge(["report", "--batch-size", "3", reports.appendingPathComponent("passing.xml").path])
    #expect(output.status == 0, "\(output.stderr)")
    let state = await sandbox.server.emulator.state()
    Self.expectDeliveredOnce(state.runs.first)
    #expect(state.requests.filter(\.fault).map(\.status) == [0, 0, 0, 0])
  }

  @Test func answersCutOffMidBodyAreRetriedAndEveryResultIsStoredOnce() async throws {
    let sandbox = try await Sandbox.start()
    defer { Task { await sandbox.stop() } }
    let reports = try Self.passingReport()
    defer { try? FileManager.default.removeItem(at: reports) }
    // The sandbox stores each of these requests, then sends the status line, the headers
    // (announcing the whole body) and 5 bytes of the body, and closes or resets the
    // connection: the results arrived, but testbridge never saw the answer.
    await sandbox.server.emulator.setFaults([
      SandboxFault(method: "POST", pathPrefix: "/api/reporter/", times: 1, cutBodyAfter: 5),
      SandboxFault(method: "POST", pathPrefix: "/api/reporter/", times: 1, cutBodyAfter: 5, reset: true),
      SandboxFault(method: "PUT", pathPrefix: "/api/reporter/", times: 1, cutBodyAfter: 5, reset: true),
    ])
    let output = try await sandbox.testbridge(["report", "--batch-size", "4", reports.appendingPathComponent("passing.xml").path])
    #expect(output.status == 0, "\(output.stderr)")
    #expect(!output.stderr.contains("kept in"))
    let state = await sandbox.server.emulator.state()
    #expect(state.faults.isEmpty, "every cut was made")
    #expect(state.runs.count == 1)
    let run = try #require(state.runs.first)
    // Each result is stored once: the first batch was received three times (its answer cut
    // and closed, then cut and reset, then whole) and replaced itself by rid each time;
    // the other six results arrived once.
    #expect(run.results.count == Self.resultCount)
    #expect(Set(run.results.compactMap(\.rid)).count == Self.resultCount)
    #expect(Set(run.results.compactMap(\.title)).count == Self.resultCount)
    #expect(run.ridCounts.values.sorted() == Array(repeating: 1, count: 6) + Array(repeating: 3, count: 4), "\(run.ridCounts)")
    // The close was applied, its answer cut, and it was sent again: closing twice is harmless.
    #expect(run.finished && run.statusEvents.allSatisfy { $0 == "pass" })
    #expect((1...2).contains(run.finishCount))
    #expect(output.stdout.contains("(\(Self.resultCount) results delivered, finished)"), "\(output.stdout)")
  }

  // MARK: - Name resolution and the spool

  @Test func unresolvableHostSpoolsEveryResultAndAFailedFlushKeepsThem() async throws {
    let reports = try Self.passingReport()
    let spool = try ProjectPaths.temporaryDirectory("spool")
    defer {
      try? FileManager.default.removeItem(at: reports)
      try? FileManager.default.removeItem(at: spool)
    }
    // `.invalid` never resolves (RFC 6761), and fails without any network.
    let environment = [
      "TESTOMATIO": ReportEndToEndTests.apiKey, "TESTOMATIO_URL": "http://testomatio.invalid",
      "TESTBRIDGE_SPOOL_DIR": spool.path, "TESTOMATIO_REQUEST_TIMEOUT": "3000",
    ]
    let report = try await ChildProcess.testbridgeAsync(
      ["report", "--allow-insecure-http", "--batch-size", "4", reports.appendingPathComponent("passing.xml").path],
      environment: environment)
    #expect(report.status == 4, "\(report.stderr)")
    #expect(report.stderr.contains("\(Self.resultCount) results were not delivered and are kept in"))
    #expect(!report.stderr.contains(ReportEndToEndTests.apiKey))
    var titles = try Self.spooledTitles(in: spool)
    #expect(titles.count == Self.resultCount && Set(titles).count == Self.resultCount)

    let flush = try await ChildProcess.testbridgeAsync(["flush", "--allow-insecure-http"], environment: environment)
    #expect(flush.status == 4, "\(flush.stderr)")
    #expect(flush.stderr.contains("run flush again"))
    titles = try Self.spooledTitles(in: spool)
    #expect(titles.count == Self.resultCount && Set(titles).count == Self.resultCount)
  }

  /// Spool folders that cannot be created: under a regular file, and inside /proc.
  static func unwritableSpools(_ scratch: URL) throws -> [String] {
    let file = scratch.appendingPathComponent("not-a-folder")
    try Data("x".utf8).write(to: file)
    return [file.appendingPathComponent("spool").path, "/proc/testbridge-spool-\(UUID().uuidString.prefix(8))"]
  }

  @Test func aSpoolThatCannotBeWrittenLosesResultsLoudlyAndExits4() async throws {
    let reports = try Self.passingReport()
    defer { try? FileManager.default.removeItem(at: reports) }
    for spool in try Self.unwritableSpools(reports) {
      let sandbox = try await Sandbox.start()
      await sandbox.server.emulator.setFaults([SandboxFault(method: "POST", pathPrefix: "/api/reporter/", status: 503, times: 1_000)])
      let output = try await sandbox.testbridge(
        ["report", reports.appendingPathComponent("passing.xml").path],
        ["TESTBRIDGE_SPOOL_DIR": spool, "TESTOMATIO_REQUEST_TIMEOUT": "2000"])
      #expect(output.status == 4, "\(spool): \(output.stderr)")
      #expect(output.stderr.contains("error: \(Self.resultCount) results could neither be delivered nor saved to the spool: they are lost"), "\(output.stderr)")
      #expect(!output.stderr.contains("kept in"))
      #expect(!FileManager.default.fileExists(atPath: spool))
      let run = try #require(await sandbox.server.emulator.state().runs.first)
      #expect(run.results.isEmpty)
      // With no spool to hold it, the close is sent as usual: the run shows the tests'
      // status but none of the lost results; exit 4 and the error line say so.
      #expect(run.finished && run.statusEvents == ["pass"])
      await sandbox.stop()
    }
  }

  // MARK: - A full disk under the spool

  /// Every file under the spool: what `flush` would find, plus any temporary left behind.
  static func spoolFiles(_ spool: URL) -> [String] {
    (FileManager.default.enumerator(atPath: spool.path)?.allObjects as? [String] ?? []).filter {
      var isDirectory: ObjCBool = false
      let exists = FileManager.default.fileExists(atPath: spool.appendingPathComponent($0).path, isDirectory: &isDirectory)
      return exists && !isDirectory.boolValue
    }.sorted()
  }

  @Test(.enabled(if: SmallDisk.canMount, SmallDisk.unavailable))
  func aFullDiskUnderTheSpoolLosesResultsLoudlyAndLeavesNothingForFlushToMisread() async throws {
    let reports = try Self.passingReport()
    defer { try? FileManager.default.removeItem(at: reports) }
    let disk = try SmallDisk.mount()
    defer { disk.unmount() }
    try disk.fill(leavingPages: 0)
    let sandbox = try await Sandbox.start()
    defer { Task { await sandbox.stop() } }
    let spool = disk.root.appendingPathComponent("spool")
    await sandbox.server.emulator.setFaults([SandboxFault(method: "POST", pathPrefix: "/api/reporter/", status: 503, times: 1_000, retryAfter: 0)])
    let output = try await sandbox.testbridge(
      ["report", "--batch-size", "4", reports.appendingPathComponent("passing.xml").path],
      ["TESTBRIDGE_SPOOL_DIR": spool.path, "TESTOMATIO_REQUEST_TIMEOUT": "2000"])
    #expect(output.status == 4, "\(output.stderr)")
    #expect(output.stderr.contains(
      "error: \(Self.resultCount) results could neither be delivered nor saved to the spool: they are lost"), "\(output.stderr)")
    #expect(output.stderr.contains("spool '\(spool.path)/"), "the message names the spool: \(output.stderr)")
    #expect(output.stderr.contains("No space left on device"), "\(output.stderr)")
    #expect(!output.stderr.contains("kept in"))
    #expect(output.stdout.contains("(0 results delivered, finished)"), "\(output.stdout)")
    let run = try #require(await sandbox.server.emulator.state().runs.first)
    #expect(run.results.isEmpty)
    #expect(Self.spoolFiles(spool).isEmpty, "no partial manifest, batch or temporary file: \(Self.spoolFiles(spool))")

    try disk.removeFiller()
    let flush = try await sandbox.testbridge(["flush"], ["TESTBRIDGE_SPOOL_DIR": spool.path])
    #expect(flush.status == 0, "\(flush.stderr)")
    #expect(flush.stdout.contains("Nothing to flush"), "\(flush.stdout)")
    #expect(await sandbox.server.emulator.state().runs.first?.results.isEmpty == true)
  }

  @Test(.enabled(if: SmallDisk.canMount, SmallDisk.unavailable))
  func aDiskThatFillsUpMidSpoolKeepsWhatFitsIntactAndFlushDeliversExactlyThat() async throws {
    let reports = try Self.passingReport()
    defer { try? FileManager.default.removeItem(at: reports) }
    let disk = try SmallDisk.mount()
    defer { disk.unmount() }
    // Room for two small files: the manifest and the first batch; the rest hits ENOSPC.
    try disk.fill(leavingPages: 2)
    let sandbox = try await Sandbox.start()
    defer { Task { await sandbox.stop() } }
    let spool = disk.root.appendingPathComponent("spool")
    await sandbox.server.emulator.setFaults([SandboxFault(method: "POST", pathPrefix: "/api/reporter/", status: 503, times: 1_000, retryAfter: 0)])
    let output = try await sandbox.testbridge(
      ["report", "--batch-size", "4", reports.appendingPathComponent("passing.xml").path],
      ["TESTBRIDGE_SPOOL_DIR": spool.path, "TESTOMATIO_REQUEST_TIMEOUT": "2000"])
    #expect(output.status == 4, "\(output.stderr)")
    #expect(output.stderr.contains("No space left on device"), "\(output.stderr)")
    #expect(output.stdout.contains("(0 results delivered,"), "\(output.stdout)")
    // Every file left is whole (it parses) and is a file flush reads: no temporaries.
    let files = Self.spoolFiles(spool)
    #expect(files.allSatisfy { !$0.hasSuffix(".tmp") && !$0.split(separator: "/").contains { $0.hasPrefix(".") } }, "\(files)")
    let kept = try Self.spooledTitles(in: spool)
    #expect(Set(kept).count == kept.count)
    // What was kept and what was lost are both said, and add up to every result.
    let lost = Self.resultCount - kept.count
    #expect(!kept.isEmpty && lost > 0, "kept \(kept.count)")
    #expect(output.stderr.contains("error: \(lost) results could neither be delivered nor saved to the spool: they are lost"), "\(output.stderr)")
    #expect(output.stderr.contains("error: \(kept.count) results were not delivered and are kept in '\(spool.path)/"), "\(output.stderr)")
    let uid = try #require(await sandbox.server.emulator.state().runs.first?.uid)
    #expect(try #require(await sandbox.server.emulator.state().run(uid)).results.isEmpty)
    // The close did not fit either: the run stays open, and the way to close it is named.
    let close = "testbridge finish --run \(uid) --status pass"
    #expect(output.stderr.contains("flush will leave it open; once flush has delivered the results, close it with: \(close)"), "\(output.stderr)")

    try disk.removeFiller()
    await sandbox.server.emulator.setFaults([])
    let flush = try await sandbox.testbridge(["flush"], ["TESTBRIDGE_SPOOL_DIR": spool.path])
    #expect(flush.status == 0, "\(flush.stderr)")
    var run = try #require(await sandbox.server.emulator.state().run(uid))
    #expect(run.results.compactMap(\.title).sorted() == kept.sorted(), "flush delivered exactly what was kept")
    #expect(run.ridCounts.values.allSatisfy { $0 == 1 })
    #expect(!run.finished)
    #expect(Self.spoolFiles(spool).isEmpty, "\(Self.spoolFiles(spool))")
    let finish = try await sandbox.testbridge(Array(close.split(separator: " ").dropFirst().map(String.init)))
    #expect(finish.status == 0, "\(finish.stderr)")
    run = try #require(await sandbox.server.emulator.state().run(uid))
    #expect(run.finished && run.statusEvents == ["pass"])
  }

  // MARK: - Progress

  /// Progress goes to stderr as each batch lands, not when the process ends: with
  /// every upload held 0.8 s, the first batch's line shows while two are still to go.
  @Test func uploadProgressShowsWhileTheUploadGoesOn() async throws {
    let sandbox = try await Sandbox.start()
    defer { Task { await sandbox.stop() } }
    let reports = try Self.passingReport()
    defer { try? FileManager.default.removeItem(at: reports) }
    await sandbox.server.emulator.setFaults([
      SandboxFault(method: "POST", pathPrefix: "/api/reporter/", times: 3, delayMilliseconds: 800)
    ])
    let child = try LongRunningChild.testbridge(
      ["report", "--batch-size", "4", reports.appendingPathComponent("passing.xml").path],
      environment: sandbox.environment())
    let shown = await child.waitForError(containing: "uploaded batch 1:", timeout: .seconds(30))
    let stillRunning = child.isRunning
    let output = await child.wait()
    #expect(shown != nil, "\(output.stderr)")
    #expect(stillRunning, "the first batch's progress appeared only when testbridge ended")
    #expect(output.status == 0, "\(output.stderr)")
    #expect(output.stderr.contains("uploaded batch 3:"), "\(output.stderr)")
    Self.expectDeliveredOnce(await sandbox.server.emulator.state().runs.first)
  }

  // MARK: - Killed mid-upload

  /// Starts `report` (or `flush`) whose first upload the sandbox holds, and SIGKILLs it while held.
  static func killDuringHeldUpload(
    _ sandbox: Sandbox, _ arguments: [String], _ extra: [String: String] = [:], pathPrefix: String = "/api/reporter/"
  ) async throws -> ProcessOutput {
    await sandbox.server.emulator.setFaults([SandboxFault(method: "POST", pathPrefix: pathPrefix, times: 1, delayMilliseconds: 1_500)])
    let child = try LongRunningChild.testbridge(arguments, environment: sandbox.environment(extra))
    // The rule's use is taken when the request arrives, before the delay: the upload is in flight.
    let held = await eventually { await sandbox.server.emulator.state().faults.isEmpty }
    child.signal(SIGKILL)
    let output = await child.wait()
    #expect(held, "the upload never started: \(output.stderr)")
    #expect(output.status == SIGKILL || output.status == 128 + SIGKILL, "\(output.status)")
    // The held request is served after the kill; let it land before going on.
    #expect(await eventually { await sandbox.server.emulator.state().requests.contains { $0.fault } })
    return output
  }

  @Test func killedMidUploadIntoAnAdoptedRunThenReportedAgainDeliversEachResultOnce() async throws {
    let sandbox = try await Sandbox.start()
    defer { Task { await sandbox.stop() } }
    let reports = try Self.passingReport()
    defer { try? FileManager.default.removeItem(at: reports) }
    let path = reports.appendingPathComponent("passing.xml").path
    let start = try await sandbox.testbridge(["start", "--title", "CI job"])
    let uid = try #require(start.stdout.split(separator: "\n").last.map(String.init))
    _ = try await Self.killDuringHeldUpload(sandbox, ["report", "--batch-size", "4", path], ["TESTOMATIO_RUN": uid])
    var run = try #require(await sandbox.server.emulator.state().run(uid))
    #expect(!run.finished)
    #expect(run.results.count <= 4)

    let again = try await sandbox.testbridge(["report", "--batch-size", "4", path], ["TESTOMATIO_RUN": uid])
    #expect(again.status == 0, "\(again.stderr)")
    let state = await sandbox.server.emulator.state()
    #expect(state.runs.count == 1)
    run = try #require(state.run(uid))
    // The batch that was in flight when testbridge died was sent again: replaced, not added.
    Self.expectDeliveredOnce(run, maxReceipts: 2)
    #expect(try Self.spooledTitles(in: sandbox.spool).isEmpty)
  }

  @Test func killedMidUploadWithoutARunIdThenReportedAgainGivesOneCompleteRun() async throws {
    let sandbox = try await Sandbox.start()
    defer { Task { await sandbox.stop() } }
    let reports = try Self.passingReport()
    defer { try? FileManager.default.removeItem(at: reports) }
    let path = reports.appendingPathComponent("passing.xml").path
    _ = try await Self.killDuringHeldUpload(sandbox, ["report", "--batch-size", "4", path])
    let again = try await sandbox.testbridge(["report", "--batch-size", "4", path])
    #expect(again.status == 0, "\(again.stderr)")
    let state = await sandbox.server.emulator.state()
    // Nothing links the two invocations: the killed one left an open, partial run
    // (nothing was spooled, the reports are still on disk), the second is complete.
    #expect(state.runs.count == 2)
    let killed = try #require(state.runs.first)
    #expect(!killed.finished && killed.results.count <= 4)
    Self.expectDeliveredOnce(state.runs.last)
  }

  @Test func killedMidFlushThenFlushedAgainDeliversEachResultOnce() async throws {
    let sandbox = try await Sandbox.start()
    defer { Task { await sandbox.stop() } }
    let reports = try Self.passingReport()
    defer { try? FileManager.default.removeItem(at: reports) }
    // Spool everything: uploads fail; the run itself was created.
    await sandbox.server.emulator.setFaults([SandboxFault(method: "POST", pathPrefix: "/api/reporter/", status: 503, times: 1_000)])
    let report = try await sandbox.testbridge(
      ["report", "--batch-size", "4", reports.appendingPathComponent("passing.xml").path],
      ["TESTOMATIO_REQUEST_TIMEOUT": "2000"])
    #expect(report.status == 4, "\(report.stderr)")
    #expect(try Self.spooledTitles(in: sandbox.spool).count == Self.resultCount)

    _ = try await Self.killDuringHeldUpload(sandbox, ["flush"])
    // The spool is intact: at worst the held batch is still there and is sent again.
    let left = try Self.spooledTitles(in: sandbox.spool)
    #expect(left.count == Self.resultCount, "a batch file is removed only after its upload returned")
    let flush = try await sandbox.testbridge(["flush"])
    #expect(flush.status == 0, "\(flush.stderr)")
    let state = await sandbox.server.emulator.state()
    #expect(state.runs.count == 1)
    Self.expectDeliveredOnce(state.runs.first, maxReceipts: 2)
    #expect(try Self.spooledTitles(in: sandbox.spool).isEmpty)
  }
}

/// A 64 KiB tmpfs mounted for one test: a real file system that runs out of space (ENOSPC).
/// Mounting needs CAP_SYS_ADMIN (root, and a container that allows it); without it the
/// tests that need one are skipped with ``unavailable`` as the reason.
struct SmallDisk {
  static let pageSize = 4_096
  let root: URL
  private var filler: URL { root.appendingPathComponent("filler") }

  static let unavailable: Comment = "mounting a tmpfs is not permitted here (needs CAP_SYS_ADMIN): no real full disk to test"

  /// Whether a tmpfs can be mounted here (tried once, on a scratch folder).
  static let canMount: Bool = {
    guard let disk = try? SmallDisk.mount() else { return false }
    disk.unmount()
    return true
  }()

  static func mount() throws -> SmallDisk {
    let root = try ProjectPaths.temporaryDirectory("small-disk")
    guard Glibc.mount("tmpfs", root.path, "tmpfs", 0, "size=64k,mode=0700") == 0 else {
      let reason = String(cString: strerror(errno))
      try? FileManager.default.removeItem(at: root)
      throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "mount tmpfs: \(reason)"])
    }
    return SmallDisk(root: root)
  }

  /// Writes a filler file until the disk is full, then gives back `pages` pages of it.
  func fill(leavingPages pages: Int) throws {
    let descriptor = open(filler.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard descriptor >= 0 else { throw CocoaError(.fileWriteUnknown) }
    defer { close(descriptor) }
    let chunk = [UInt8](repeating: 0x2E, count: Self.pageSize)
    var size = 0
    while true {
      let written = chunk.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
      if written <= 0 { break }
      size += written
    }
    #expect(errno == ENOSPC, "the filler stopped on a full disk")
    guard ftruncate(descriptor, off_t(max(0, size - pages * Self.pageSize))) == 0 else { throw CocoaError(.fileWriteUnknown) }
  }

  func removeFiller() throws {
    try FileManager.default.removeItem(at: filler)
  }

  func unmount() {
    _ = umount2(root.path, Int32(MNT_DETACH))
    try? FileManager.default.removeItem(at: root)
  }
}
