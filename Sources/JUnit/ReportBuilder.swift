import BridgeCore
#if canImport(Glibc)
import Glibc
#endif

/// Why the builder wants parsing to stop at a start tag.
enum StartRefusal: Error {
  case notJUnit, tooDeep
}

/// Receives each testcase's tally while counting; the closure makes the full
/// testcase (without output or properties) and is valid only during the call.
public typealias TallyHandler = (TestCaseTally, () -> TestCaseResult) -> Void

/// Turns the element events of one report into ``TestCaseResult`` values.
///
/// Fed by the libxml2 SAX callbacks; keeps only the testcase being read, so
/// memory does not grow with the report.
///
/// Its state is reached only from the parser's callbacks on one thread, never
/// re-entrantly, so the runtime's exclusivity checks on every field (a few
/// percent of a large count) are turned off for them.
final class ReportBuilder {
  private struct Suite {
    var name: String
    var file: String?
    /// Element depth of the `<testsuite>`, so only its direct children count as suite-level.
    var depth: Int
  }

  /// What character data is currently being collected into.
  private enum Capture {
    case none, resultText, systemOut, systemErr, propertyText
  }

  /// Where finished testcases go: whole results, or tallies for counting.
  enum Delivery {
    case results((TestCaseResult) -> Void)
    /// Counting skips output and properties and makes no Strings for a
    /// testcase unless the consumer asks for the full result. `wantsDetails`
    /// is called once per testcase, with its key hash at its start tag, and
    /// says whether the consumer may ask for it; when not, failure messages
    /// and text are not even read.
    case tallies(TallyHandler, wantsDetails: ((UInt64) -> Bool)? = nil)
  }

  let options: JUnitOptions
  let delivery: Delivery
  private let wantsDetails: ((UInt64) -> Bool)?
  /// The counting delivery's handler, taken out of `delivery` once.
  private let tallyHandler: TallyHandler?
  private let counting: Bool
  @exclusivity(unchecked) private(set) var testcaseCount = 0
  @exclusivity(unchecked) private(set) var rootElement: String?

  @exclusivity(unchecked) private(set) var depth = 0
  @exclusivity(unchecked) private var suites: [Suite] = []
  /// `suites.map(\.name)`, kept in step so testcases share one array.
  @exclusivity(unchecked) private var suitePath: [String] = []
  /// Key hash of each suite path prefix, kept in step with `suites` (counting).
  @exclusivity(unchecked) private var suiteHashes: [LogicalKeyHash] = []
  /// Raw key bytes of the current testcase while counting (no Strings made).
  @exclusivity(unchecked) private var rawName: [UInt8] = []
  @exclusivity(unchecked) private var rawClassname: [UInt8] = []
  @exclusivity(unchecked) private var rawFile: [UInt8] = []
  @exclusivity(unchecked) private var hasClassname = false
  @exclusivity(unchecked) private var hasFile = false
  @exclusivity(unchecked) private var testcase: TestCaseResult?
  @exclusivity(unchecked) private var testcaseDepth = 0
  /// The testcase being counted: its few fields kept loose, so no result value is
  /// built, copied and released for every testcase (counting only).
  @exclusivity(unchecked) private var countedOpen = false
  @exclusivity(unchecked) private var countedLine: Int?
  @exclusivity(unchecked) private var countedDuration: Double?
  @exclusivity(unchecked) private var countedStatusAttribute: String?
  @exclusivity(unchecked) private var countedResults: [ResultElement] = []
  /// Testcase attribute names, told by address: a builder is fed by one parser context.
  private let testcaseAttributes = InternedNames<TestCaseAttribute>()
  /// The counted testcase's key hash, known from its start tag.
  @exclusivity(unchecked) private var countedHash: UInt64 = 0
  /// Whether the counted testcase's messages and failure text may be asked for.
  @exclusivity(unchecked) private var detailsWanted = true
  /// Inside a `<testcase>`, in either mode.
  private var inTestCase: Bool { counting ? countedOpen : testcase != nil }
  @exclusivity(unchecked) private var result: ResultElement?
  @exclusivity(unchecked) private var resultDepth = 0
  /// A result element directly on a `<testsuite>` (not inside a testcase).
  @exclusivity(unchecked) private var resultIsSuiteLevel = false
  @exclusivity(unchecked) private var propertyName: String?
  /// Consecutive testcases usually share classname and file: reuse those strings.
  @exclusivity(unchecked) private var classnameCache = RepeatedValueCache()
  @exclusivity(unchecked) private var fileCache = RepeatedValueCache()
  /// Whether the current testcase's name has an `@` (tags and ids), found with memchr.
  @exclusivity(unchecked) private var nameHasAt = false
  /// A `tid://@T…` id found in the current testcase's output.
  @exclusivity(unchecked) private var outputTestID: String?
  @exclusivity(unchecked) private var capture = Capture.none
  @exclusivity(unchecked) private var resultText: CappedText
  @exclusivity(unchecked) private var systemOut: CappedText
  @exclusivity(unchecked) private var systemErr: CappedText
  @exclusivity(unchecked) private var propertyText: CappedText

  init(options: JUnitOptions, delivery: Delivery) {
    self.options = options
    self.delivery = delivery
    switch delivery {
    case .results:
      (counting, tallyHandler, wantsDetails) = (false, nil, nil)
    case .tallies(let handler, let wanted):
      (counting, tallyHandler, wantsDetails) = (true, handler, wanted)
    }
    resultText = CappedText(limit: options.limits.maxResultTextBytes)
    systemOut = CappedText(limit: options.limits.maxOutputBytes)
    systemErr = CappedText(limit: options.limits.maxOutputBytes)
    propertyText = CappedText(limit: 4096)
  }

  /// Returns false when the root element shows this is not a JUnit report.
  func start(_ name: ElementName, rawName: UnsafePointer<UInt8>, attributes: AttributeList) throws(StartRefusal) {
    depth += 1
    if depth == 1 {
      rootElement = String(cString: rawName)
      guard name == .testsuites || name == .testsuite else { throw .notJUnit }
    }
    guard depth <= options.limits.maxDepth else { throw .tooDeep }
    if result != nil {
      // Inside a result element only Surefire's <stackTrace> adds to its text; the
      // rerun's own <system-out>/<system-err> and anything else are skipped.
      capture = name == .stackTrace && depth == resultDepth + 1 && resultDetailsWanted ? .resultText : .none
      return
    }
    switch name {
    case .testsuite where !inTestCase:
      let suiteName = attributes.value("name") ?? ""
      suites.append(
        Suite(name: suiteName, file: attributes.value("file") ?? attributes.value("filepath"), depth: depth))
      suitePath.append(suiteName)
      if counting {
        var hash = suiteHashes.last ?? LogicalKeyHash()
        hash.combine(suiteName)
        suiteHashes.append(hash)
      }
    case .testcase where !inTestCase:
      startTestCase(attributes)
    case .failure, .error, .skipped, .flakyFailure, .flakyError, .rerunFailure, .rerunError:
      guard result == nil, let kind = name.resultKind else { break }
      // A result directly on a suite only counts when it is the suite's own child.
      guard inTestCase || (!suites.isEmpty && depth == suiteLevelChildDepth) else { break }
      guard inTestCase ? depth == testcaseDepth + 1 : true else { break }
      resultDepth = depth
      resultIsSuiteLevel = !inTestCase
      resultText.reset()
      guard resultDetailsWanted else {
        result = ResultElement(kind: kind)
        capture = .none
        break
      }
      result = ResultElement(
        kind: kind, message: attributes.value("message").map(capMessage), type: attributes.value("type"))
      capture = .resultText
    case .systemOut where !counting && inTestCase && result == nil && depth == testcaseDepth + 1:
      capture = .systemOut
    case .systemErr where !counting && inTestCase && result == nil && depth == testcaseDepth + 1:
      capture = .systemErr
    case .property where !counting && inTestCase && result == nil:
      if let propertyName = attributes.value("name") {
        if let value = attributes.value("value") {
          testcase?.properties.append(Property(name: propertyName, value: value))
        } else {
          self.propertyName = propertyName
          propertyText.reset()
          capture = .propertyText
        }
      }
    default:
      break
    }
  }

  func end(_ name: ElementName) {
    defer { depth -= 1 }
    if result != nil, depth > resultDepth {
      capture = resultDetailsWanted ? .resultText : .none
      return
    }
    switch name {
    case .testsuite:
      if let last = suites.last, last.depth == depth {
        suites.removeLast()
        suitePath.removeLast()
        if counting { suiteHashes.removeLast() }
      }
    case .testcase where inTestCase && depth == testcaseDepth:
      finishTestCase()
    case .failure, .error, .skipped, .flakyFailure, .flakyError, .rerunFailure, .rerunError:
      guard result != nil, depth == resultDepth else { break }
      finishResult()
    case .systemOut, .systemErr:
      capture = .none
    case .property where capture == .propertyText:
      if let propertyName {
        testcase?.properties.append(Property(name: propertyName, value: propertyText.text))
      }
      propertyName = nil
      capture = .none
    default:
      break
    }
  }

  func characters(_ bytes: UnsafeBufferPointer<UInt8>) {
    switch capture {
    case .none: return
    case .resultText: resultText.append(bytes)
    case .systemOut: systemOut.append(bytes)
    case .systemErr: systemErr.append(bytes)
    case .propertyText: propertyText.append(bytes)
    }
  }

  /// Whether character data is being collected at all (libxml2 need not call back otherwise).
  var capturesText: Bool { capture != .none }

  /// Whether the result element being read needs its message and text: always
  /// on a suite or when results are kept, while counting only when asked for.
  private var resultDetailsWanted: Bool { !counting || resultIsSuiteLevel || detailsWanted }

  /// Depth at which the innermost suite's direct children sit.
  private var suiteLevelChildDepth: Int { suites.last.map { $0.depth + 1 } ?? -1 }

  // MARK: - Testcases

  private func startTestCase(_ attributes: AttributeList) {
    testcaseDepth = depth
    if counting {
      startCountedTestCase(attributes)
      return
    }
    var started = TestCaseResult(suitePath: suitePath, name: "")
    nameHasAt = false
    var sawTime = false
    // One pass over the attributes: this runs for every testcase of every report.
    attributes.forEach { localName, value in
      switch testcaseAttributes.kind(of: localName) {
      case .name:
        started.name = AttributeList.decode(value)
        nameHasAt = value.baseAddress.map { memchr($0, 0x40, value.count) != nil } ?? false
      case .classname: started.classname = classnameCache.string(for: value)
      case .file: started.file = fileCache.string(for: value)
      case .line: started.line = Self.integer(value)
      case .time:
        // `time` wins over `duration` when a tool writes both.
        if !sawTime { started.duration = DurationParser.seconds(bytes: value) }
        sawTime = sawTime || localName[1] == UInt8(ascii: "i")
      case .timestamp: started.timestamp = AttributeList.decode(value)
      case .status: started.statusAttribute = AttributeList.decode(value).lowercased()
      case .other: break
      }
    }
    testcase = started
    systemOut.reset()
    systemErr.reset()
  }

  /// Counting keeps the key's raw bytes and makes Strings only on demand.
  private func startCountedTestCase(_ attributes: AttributeList) {
    countedOpen = true
    countedLine = nil
    countedDuration = nil
    countedStatusAttribute = nil
    // Most testcases have no result element: skip the generic removal's call.
    if !countedResults.isEmpty { countedResults.removeAll(keepingCapacity: true) }
    var name = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
    var classname: UnsafeBufferPointer<UInt8>?
    var file: UnsafeBufferPointer<UInt8>?
    var sawTime = false
    attributes.forEach { localName, value in
      switch testcaseAttributes.kind(of: localName) {
      case .name: name = value
      case .classname: classname = value
      case .file: file = value
      case .line: countedLine = Self.integer(value)
      case .time:
        if !sawTime { countedDuration = DurationParser.seconds(bytes: value) }
        sawTime = sawTime || localName[1] == UInt8(ascii: "i")
      case .status: countedStatusAttribute = AttributeList.decode(value).lowercased()
      case .timestamp, .other: break
      }
    }
    // The key is hashed straight from libxml2's buffer; its bytes are copied
    // only when the full testcase may be asked for.
    var hash = suiteHashes.last ?? LogicalKeyHash()
    if let classname { Self.combine(classname, into: &hash) } else { hash.combine("") }
    Self.combine(name, into: &hash)
    countedHash = hash.value
    detailsWanted = wantsDetails?(countedHash) ?? true
    guard detailsWanted else { return }
    Self.keep(name, in: &rawName)
    hasClassname = classname != nil
    if let classname { Self.keep(classname, in: &rawClassname) }
    hasFile = file != nil
    if let file { Self.keep(file, in: &rawFile) }
  }

  /// Hashes an attribute value as ``keep(_:in:)`` would copy it.
  private static func combine(_ value: UnsafeBufferPointer<UInt8>, into hash: inout LogicalKeyHash) {
    if let base = value.baseAddress, memchr(base, 0x26, value.count) != nil {
      hash.combine(AttributeList.decode(value))
    } else {
      hash.combine(value)
    }
  }

  /// Copies an attribute value, decoding it the way ``AttributeList/decode(_:)`` does
  /// so the key hashes the same bytes as the String the in-memory path makes.
  private static func keep(_ value: UnsafeBufferPointer<UInt8>, in buffer: inout [UInt8]) {
    buffer.removeAll(keepingCapacity: true)
    if let base = value.baseAddress, memchr(base, 0x26, value.count) != nil {
      buffer.append(contentsOf: AttributeList.decode(value).utf8)
    } else {
      buffer.append(contentsOf: value)
    }
  }

  private static func integer(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
    var value = 0
    var digits = 0
    for byte in bytes {
      if byte == 0x20 { continue }
      guard byte >= 0x30, byte <= 0x39, digits < 12 else { return nil }
      value = value * 10 + Int(byte - 0x30)
      digits += 1
    }
    return digits > 0 ? value : nil
  }

  private func finishTestCase() {
    if let tallyHandler {
      capture = .none
      finishCountedTestCase(tallyHandler)
      return
    }
    guard var finished = testcase.take() else { return }
    capture = .none
    if !systemOut.isEmpty { finished.systemOut = systemOut.text }
    if !systemErr.isEmpty { finished.systemErr = systemErr.text }
    // Look for `tid://` in the kept output bytes, before any String work.
    outputTestID = systemOut.testomatioID() ?? systemErr.testomatioID()
    if finished.file == nil, let suiteFile = suites.last?.file { finished.file = suiteFile }
    enrich(&finished)
    testcaseCount += 1
    if case .results(let onTestCase) = delivery { onTestCase(finished) }
  }

  private func finishCountedTestCase(_ handler: TallyHandler) {
    countedOpen = false
    let status =
      countedResults.isEmpty && countedStatusAttribute == nil
      ? TestStatus.passed : StatusRules.status(results: countedResults, statusAttribute: countedStatusAttribute)
    let tally = TestCaseTally(
      keyHash: countedHash, status: status, hadReruns: countedResults.contains { $0.kind.isRerun },
      duration: countedDuration, isSuiteLevel: false)
    testcaseCount += 1
    handler(tally) {
      var full = TestCaseResult(
        suitePath: suitePath, name: String(decoding: rawName, as: UTF8.self), line: countedLine,
        duration: countedDuration, statusAttribute: countedStatusAttribute, results: countedResults)
      if hasClassname { full.classname = String(decoding: rawClassname, as: UTF8.self) }
      if hasFile { full.file = String(decoding: rawFile, as: UTF8.self) }
      if full.file == nil, let suiteFile = suites.last?.file { full.file = suiteFile }
      nameHasAt = full.name.utf8.contains(UInt8(ascii: "@"))
      outputTestID = nil
      enrich(&full)
      return full
    }
  }

  private func finishResult() {
    guard var finished = result.take() else { return }
    capture = .none
    if !resultText.isEmpty {
      // Whitespace around the body (or around Surefire's <stackTrace>) is layout, not text.
      if let text = resultText.trimmedText { finished.text = text }
    }
    if resultIsSuiteLevel {
      emitSuiteLevelResult(finished)
    } else if counting {
      countedResults.append(finished)
    } else {
      testcase?.results.append(finished)
    }
  }

  /// A `<failure>`/`<error>` on a suite means the suite broke (setup, collection):
  /// it becomes a result of its own so a crashed suite never looks green.
  private func emitSuiteLevelResult(_ element: ResultElement) {
    guard element.kind == .failure || element.kind == .error else { return }
    var synthetic = TestCaseResult(
      suitePath: suitePath, name: suites.last?.name ?? "", file: suites.last?.file,
      results: [element], isSuiteLevel: true)
    enrich(&synthetic)
    switch delivery {
    case .results(let onTestCase): onTestCase(synthetic)
    case .tallies(let handler, _):
      let tally = TestCaseTally(
        keyHash: LogicalKeyHash.of(synthetic), status: synthetic.status, hadReruns: false,
        duration: synthetic.duration, isSuiteLevel: true)
      handler(tally) { synthetic }
    }
  }

  /// Fills the Testomat.io id, Jira keys and source location.
  private func enrich(_ testcase: inout TestCaseResult) {
    var testID: String?
    var jira: [String] = []
    if nameHasAt || testcase.isSuiteLevel {
      testID = TestIdentifiers.testomatioID(inTitle: testcase.name)
      jira = TestIdentifiers.jiraKeys(inTitle: testcase.name)
    }
    for property in testcase.properties {
      let key = property.name.lowercased()
      if testID == nil, TestIdentifiers.testIDPropertyNames.contains(key) {
        testID = TestIdentifiers.testomatioID(inPropertyValue: property.value)
      }
      if TestIdentifiers.jiraPropertyNames.contains(key) {
        for found in TestIdentifiers.jiraKeys(inPropertyValue: property.value) where !jira.contains(found) {
          jira.append(found)
        }
      }
    }
    if testID == nil, !testcase.isSuiteLevel { testID = outputTestID }
    if testID == nil {
      for result in testcase.results {
        if let text = result.text, let found = TestIdentifiers.testomatioID(inOutput: text) {
          testID = found
          break
        }
      }
    }
    testcase.testomatioID = testID
    testcase.jiraKeys = jira
    if let workspace = options.workspace {
      if let file = testcase.file {
        if file.utf8.first == UInt8(ascii: "/") {
          testcase.file = SourceLocator.relativeToWorkspace(file, workspace: workspace)
        }
      } else if !testcase.results.isEmpty, let text = testcase.decidingResult?.text ?? testcase.results.first?.text,
        let location = SourceLocator.firstWorkspaceFrame(in: text, workspace: workspace)
      {
        testcase.file = location.file
        if testcase.line == nil { testcase.line = location.line }
      }
    }
  }

  private func capMessage(_ message: String) -> String {
    let limit = options.limits.maxMessageCharacters
    guard message.utf8.count > limit, message.count > limit else { return message }
    return String(message.prefix(limit)) + "… [testbridge: message truncated]"
  }
}

/// Remembers the last attribute value decoded, so a run of testcases with the
/// same classname or file shares one String instead of allocating each time.
struct RepeatedValueCache {
  private var bytes: [UInt8] = []
  private var value = ""

  mutating func string(for raw: UnsafeBufferPointer<UInt8>) -> String {
    if raw.count == bytes.count {
      let same = bytes.withUnsafeBufferPointer { kept in
        guard let left = kept.baseAddress, let right = raw.baseAddress else { return true }
        return memcmp(left, right, raw.count) == 0
      }
      if same { return value }
    }
    bytes.removeAll(keepingCapacity: true)
    bytes.append(contentsOf: raw)
    value = AttributeList.decode(raw)
    return value
  }
}
