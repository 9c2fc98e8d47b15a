import BridgeCore
import BridgeTestSupport
import Foundation
import JUnit
import Synchronization
import Testing

@Suite struct HostileInputTests {
  @Test func xxeToLocalFileIsRefusedAndNothingIsRead() throws {
    let report = try parseFixture("hostile/xxe-local-file.xml")
    guard case .entitiesRefused(_, let line, _, let detail) = report.error else {
      Issue.record("expected refusal, got \(String(describing: report.error))")
      return
    }
    #expect(line == 3)
    #expect(detail.contains("'secret'"))
    #expect(report.testcases.isEmpty)
    #expect(report.error?.description.contains("root:") == false)
  }

  @Test func xxeToURLIsRefusedWithoutNetwork() throws {
    let report = try parseFixture("hostile/xxe-url.xml")
    guard case .entitiesRefused = report.error else {
      Issue.record("expected refusal, got \(String(describing: report.error))")
      return
    }
    #expect(report.testcases.isEmpty)
  }

  @Test func externalDTDIsNeverLoaded() throws {
    // A DOCTYPE naming an external DTD is harmless when the DTD is never read.
    let report = try parseFixture("hostile/external-dtd.xml")
    #expect(report.error == nil)
    #expect(report.testcases.map(\.name) == ["fine"])
  }

  @Test func billionLaughsFailsFastWithSmallMemory() throws {
    let clock = ContinuousClock()
    var report: ParsedReport?
    let elapsed = try clock.measure { report = try parseFixture("hostile/billion-laughs.xml") }
    guard case .entitiesRefused(_, _, _, let detail) = report?.error else {
      Issue.record("expected refusal, got \(String(describing: report?.error))")
      return
    }
    #expect(detail.contains("'lol'"))
    // Refused at the first declaration, not after expanding anything.
    #expect(elapsed < .seconds(5))
  }

  @Test func undefinedEntityIsAnErrorAfterTheTestcasesBeforeIt() throws {
    let report = try parseFixture("hostile/undefined-entity.xml")
    #expect(report.error != nil)
    #expect(report.testcases.map(\.name) == ["a"])
    #expect(report.testcases[0].incomplete)
  }

  @Test func parserOptionsNeverSubstituteEntitiesOrLoadDTDs() {
    #expect(JUnitParserOptionsProbe.forbiddenFlagsSet.isEmpty, "\(JUnitParserOptionsProbe.forbiddenFlagsSet)")
  }

  @Test func fiftyMegabyteSystemOutIsCappedNotFatal() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tb-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    for cdata in [false, true] {
      let path = directory.appendingPathComponent("big-\(cdata).xml").path
      _ = FileManager.default.createFile(atPath: path, contents: nil)
      let handle = try #require(FileHandle(forWritingAtPath: path))
      handle.write(Data("<testsuite name=\"s\"><testcase name=\"noisy\" time=\"1\"><system-out>\(cdata ? "<![CDATA[" : "")".utf8))
      let line = Data(String(repeating: "log line with ü and <b>\n".replacingOccurrences(of: "<b>", with: cdata ? "<b>" : "&lt;b&gt;"), count: 40_000).utf8)
      while handle.offsetInFile < 50_000_000 { handle.write(line) }
      handle.write(Data("\(cdata ? "]]>" : "")</system-out></testcase><testcase name=\"after\" time=\"1\"/></testsuite>".utf8))
      try handle.close()
      let report = JUnitParser.parseFile(at: path)
      #expect(report.error == nil, "\(String(describing: report.error))")
      #expect(report.testcases.map(\.name) == ["noisy", "after"])
      let out = try #require(report.testcases.first?.systemOut)
      #expect(out.utf8.count < 70 * 1024)
      #expect(out.contains("[testbridge: output truncated, "))
      #expect(out.hasPrefix("log line with ü and <b>"))
    }
  }

  @Test func deepNestingFailsWithAClearError() {
    let depth = 5_000
    let xml = "<testsuites>" + String(repeating: "<testsuite name=\"n\">", count: depth)
      + "<testcase name=\"deep\"/>" + String(repeating: "</testsuite>", count: depth) + "</testsuites>"
    let report = JUnitParser.parse(bytes: Array(xml.utf8), path: "deep.xml")
    guard case .malformed(_, _, _, let reason) = report.error else {
      Issue.record("expected malformed, got \(String(describing: report.error))")
      return
    }
    #expect(reason.lowercased().contains("depth"))
  }

  @Test func nulBytesAndInvalidUTF8AreMalformedNotCrashes() {
    let nul: [UInt8] = Array("<testsuite><testcase name=\"a\"/><testcase name=\"b\u{0}\"/></testsuite>".utf8)
    let nulReport = JUnitParser.parse(bytes: nul, path: "nul.xml")
    #expect(nulReport.error != nil)
    #expect(nulReport.testcases.map(\.name) == ["a"])
    var invalid = Array("<testsuite><testcase name=\"a\"/><testcase name=\"".utf8)
    invalid += [0xC3, 0x28, 0xFF]
    invalid += Array("\"/></testsuite>".utf8)
    let invalidReport = JUnitParser.parse(bytes: invalid, path: "bad-utf8.xml")
    #expect(invalidReport.error != nil)
    #expect(invalidReport.testcases.map(\.name) == ["a"])
  }

  @Test func oversizedFileIsRefusedByTheConfiguredLimit() throws {
    let path = try fixture("dialects/repeated-testcases.xml")
    let options = JUnitOptions(limits: JUnitLimits(maxFileBytes: 100))
    let report = JUnitParser.parseFile(at: path, options: options)
    guard case .tooLarge(_, _, let limit) = report.error else {
      Issue.record("expected tooLarge, got \(String(describing: report.error))")
      return
    }
    #expect(limit == 100)
  }

  // MARK: - A 1 GB single-line report

  static let gigabyte: Int64 = 1 << 30

  /// A file of exactly 1 GiB without a line break: `head`, then a hole the
  /// file system reads back as NUL bytes (sparse, so next to no disk is used).
  static func sparseGigabyteLine(_ head: String, in directory: URL) throws -> String {
    let path = directory.appendingPathComponent("gigabyte.xml").path
    _ = FileManager.default.createFile(atPath: path, contents: Data(head.utf8))
    #expect(truncate(path, off_t(gigabyte)) == 0)
    return path
  }

  @Test func gigabyteLineEndingInGarbageFailsAtTheFirstBadByte() throws {
    let directory = try ProjectPaths.temporaryDirectory("gigabyte")
    defer { try? FileManager.default.removeItem(at: directory) }
    let head = "<testsuite name=\"big\"><testcase name=\"before\"/>"
    let path = try Self.sparseGigabyteLine(head, in: directory)
    let report = JUnitParser.parseFile(at: path)
    guard case .malformed(_, let line, let column, _) = report.error else {
      Issue.record("expected malformed, got \(String(describing: report.error))")
      return
    }
    // Stopped at the first NUL after the head, not after reading the gigabyte.
    #expect(line == 1 && column <= head.utf8.count + 1, "\(line):\(column)")
    #expect(report.testcases.map(\.name) == ["before"])
    #expect(report.testcases[0].incomplete)
  }

  @Test func gigabyteAttributeIsRefusedAtLibxml2sLookupLimit() async throws {
    let directory = try ProjectPaths.temporaryDirectory("gigabyte")
    defer { try? FileManager.default.removeItem(at: directory) }
    // An attribute value that never ends: libxml2 buffers a start tag until its
    // '>', and without XML_PARSE_HUGE gives up at 10,000,000 bytes.
    let head = "<testsuite name=\"big\"><testcase name=\"before\"/><testcase name=\""
      + String(repeating: "x", count: 11_000_000)
    let path = try Self.sparseGigabyteLine(head, in: directory)
    let report = await onOwnThread { JUnitParser.parseFile(at: path) }
    guard case .malformed(_, let line, _, _) = report.error else {
      Issue.record("expected malformed, got \(String(describing: report.error))")
      return
    }
    #expect(line == 1)
    #expect(report.testcases.map(\.name) == ["before"])
  }

  @Test func gigabyteLineOfOutputStreamsThroughWithCappedMemory() async throws {
    // 1 GiB of <system-out> on one line, streamed through a FIFO so no disk is used.
    let directory = try ProjectPaths.temporaryDirectory("gigabyte")
    defer { try? FileManager.default.removeItem(at: directory) }
    let fifo = directory.appendingPathComponent("line.xml").path
    try #require(mkfifo(fifo, 0o600) == 0)
    // Should the reader stop early, the writer's writes fail with EPIPE instead of killing the process.
    signal(SIGPIPE, SIG_IGN)
    let written = SharedCount()
    let writer = Thread {
      let descriptor = open(fifo, O_WRONLY | O_CLOEXEC)
      guard descriptor >= 0 else { return }
      defer { close(descriptor) }
      func send(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { FileDescriptorIO.writeAll(descriptor, $0) == nil }
      }
      guard send(Array("<testsuite name=\"big\"><testcase name=\"one-line\"><system-out>".utf8)) else { return }
      let block = [UInt8](repeating: UInt8(ascii: "x"), count: 1 << 20)
      while written.value.load(ordering: .relaxed) < Self.gigabyte {
        guard send(block) else { return }
        written.value.add(Int64(block.count), ordering: .relaxed)
      }
      _ = send(Array("</system-out></testcase><testcase name=\"after\"/></testsuite>".utf8))
    }
    writer.start()
    let report = await onOwnThread { JUnitParser.parseFile(at: fifo) }
    #expect(report.error == nil, "\(String(describing: report.error))")
    #expect(report.testcases.map(\.name) == ["one-line", "after"])
    #expect(written.value.load(ordering: .relaxed) == Self.gigabyte)
    // Memory stayed flat: 64 KiB kept, and the marker counts every other byte.
    let out = try #require(report.testcases.first?.systemOut)
    #expect(out.utf8.count < 70 * 1024)
    let kept = out.prefix { $0 == "x" }.utf8.count
    #expect(out.contains("[testbridge: output truncated, \(Self.gigabyte - Int64(kept)) more bytes]"), "\(out.suffix(80))")
  }

  // MARK: - A report that changes while it is read

  /// A ~12 MB report of `count` testcases.
  static func bigReport(count: Int) -> Data {
    var xml = "<testsuites><testsuite name=\"changing\">\n"
    let output = String(repeating: "o", count: 20)
    for index in 0..<count {
      xml += "<testcase classname=\"c\" name=\"t\(index)\" time=\"0.001\"><system-out>\(output)</system-out></testcase>\n"
    }
    xml += "</testsuite></testsuites>\n"
    return Data(xml.utf8)
  }

  enum Change: String, CaseIterable, CustomStringConvertible {
    case truncatedToHalf, truncatedToZero, appendedGarbage, overwrittenInTheMiddle, replacedByRename
    var description: String { rawValue }
  }

  @Test(arguments: Change.allCases)
  func reportChangedByAnotherThreadMidwayIsReadConsistently(change: Change) async throws {
    let count = 120_000
    let directory = try ProjectPaths.temporaryDirectory("changing")
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("report.xml").path
    let original = Self.bigReport(count: count)
    try original.write(to: URL(fileURLWithPath: path))

    // Another thread changes the file once the parser has delivered 100 testcases;
    // the parser waits for it, so the change lands midway on every machine.
    let requested = DispatchSemaphore(value: 0)
    let done = DispatchSemaphore(value: 0)
    let mutator = Thread {
      requested.wait()
      switch change {
      case .truncatedToHalf: _ = truncate(path, off_t(original.count / 2))
      case .truncatedToZero: _ = truncate(path, 0)
      case .appendedGarbage:
        if let handle = FileHandle(forWritingAtPath: path) {
          handle.seekToEndOfFile()
          handle.write(Data("<testcase name=\"late\"/> trailing garbage".utf8))
          try? handle.close()
        }
      case .overwrittenInTheMiddle:
        if let handle = FileHandle(forWritingAtPath: path) {
          handle.seek(toFileOffset: UInt64(original.count * 3 / 4))
          handle.write(Data("</nope><<<&&&".utf8))
          try? handle.close()
        }
      case .replacedByRename:
        let other = path + ".new"
        try? Data("<testsuite name=\"other\"/>".utf8).write(to: URL(fileURLWithPath: other))
        _ = rename(other, path)
      }
      done.signal()
    }
    mutator.start()
    let (report, delivered) = await onOwnThread {
      var delivered = 0
      let report = JUnitParser.parseFile(at: path) { _ in
        delivered += 1
        if delivered == 100 {
          requested.signal()
          done.wait()
        }
      }
      return (report, delivered)
    }
    #expect(delivered == report.testcaseCount)
    switch change {
    case .truncatedToHalf, .truncatedToZero, .overwrittenInTheMiddle:
      // Cut off or corrupted: an error naming the place, and only the testcases before it.
      #expect(report.error != nil)
      #expect(delivered >= 100 && delivered < count, "\(delivered)")
    case .appendedGarbage:
      // Everything was read; the garbage after the root element is an error of its own.
      #expect(delivered == count)
      #expect(report.error != nil)
    case .replacedByRename:
      // The open descriptor keeps reading the file it opened.
      #expect(report.error == nil)
      #expect(delivered == count)
    }
  }

  @Test func reportTruncatedAndRegrownContinuouslyWhileReadNeverCrashes() async throws {
    let count = 120_000
    let directory = try ProjectPaths.temporaryDirectory("changing")
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("report.xml").path
    let original = Self.bigReport(count: count)
    try original.write(to: URL(fileURLWithPath: path))
    let stop = SharedFlag()
    let finished = DispatchSemaphore(value: 0)
    let mutator = Thread {
      var size = original.count
      var step = 0
      while !stop.value.load(ordering: .relaxed) {
        step += 1
        // Shrink by a varying amount, then grow back with garbage: the reader sees
        // short reads, end of file and bytes that change under it.
        size = max(0, size - (step * 7919) % 300_000)
        _ = truncate(path, off_t(size))
        if let handle = FileHandle(forWritingAtPath: path) {
          handle.seekToEndOfFile()
          handle.write(Data(repeating: UInt8(ascii: "<"), count: (step * 104_729) % 50_000))
          try? handle.close()
          size += (step * 104_729) % 50_000
        }
      }
      finished.signal()
    }
    mutator.start()
    let reports = await onOwnThread { (0..<3).map { _ in JUnitParser.parseFile(at: path) } }
    for report in reports {
      #expect(report.testcases.count <= count)
      if report.error == nil { #expect(report.testcases.count == count) }
    }
    stop.value.store(true, ordering: .relaxed)
    finished.wait()
  }
}

/// Values a test shares with a helper thread.
private final class SharedCount: Sendable {
  let value = Atomic<Int64>(0)
}

private final class SharedFlag: Sendable {
  let value = Atomic<Bool>(false)
}

/// Runs blocking work (a long parse, a parse that waits for another thread) on a thread
/// of its own, so it never holds one of the few threads of the concurrency pool that
/// other tests' tasks need. Expectations stay in the test: they need its task.
func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
  await withCheckedContinuation { continuation in
    Thread { continuation.resume(returning: body()) }.start()
  }
}
