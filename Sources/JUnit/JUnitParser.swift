import BridgeCore
internal import CLibXML2
import Foundation

/// What reading one report gave: how many testcases, and why it stopped early if it did.
public struct FileParseResult: Sendable, Hashable {
  public var path: String
  /// Testcases delivered (synthesised suite-level results not included).
  public var testcaseCount: Int
  /// Set when the report could not be read to its end; testcases before the break were delivered.
  public var error: JUnitError?

  public var isComplete: Bool { error == nil }
}

/// A whole report read into memory, for callers that want the results as an array.
public struct ParsedReport: Sendable, Hashable {
  public var path: String
  /// Every testcase in document order; marked `incomplete` when the report broke off.
  public var testcases: [TestCaseResult]
  public var error: JUnitError?
}

/// Streaming JUnit XML reader on libxml2's SAX2 push parser.
///
/// The file is fed to libxml2 in fixed-size chunks and each testcase is handed
/// to the caller as soon as its end tag is read, so memory stays flat however
/// large the report. Safe on hostile input: no network, no DTD loading, no
/// entity substitution; a report that declares entities is refused.
public enum JUnitParser {
  /// Options passed to libxml2. Deliberately absent: `XML_PARSE_NOENT` (it
  /// *substitutes* entities), `DTDLOAD`/`DTDATTR`/`DTDVALID`, `XINCLUDE`,
  /// `HUGE` (lifts the amplification guards) and `RECOVER` (hides truncation).
  static let parserOptions: Int32 = Int32(
    XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue)

  static let chunkSize = 64 * 1024

  /// Reads the report at `path`, calling `onTestCase` for each testcase in document order.
  @discardableResult
  public static func parseFile(
    at path: String, options: JUnitOptions = JUnitOptions(), onTestCase: @escaping (TestCaseResult) -> Void
  ) -> FileParseResult {
    readReport(path, options: options, delivery: .results(onTestCase)).result
  }

  /// Counts the report at `path`: `onTally` gets each testcase's ``TestCaseTally``
  /// and a closure that makes the full testcase (without output or properties)
  /// when wanted. About twice as fast as ``parseFile(at:options:onTestCase:)``,
  /// because no Strings are made for a testcase nobody asks about.
  @discardableResult
  public static func countFile(
    at path: String, options: JUnitOptions = JUnitOptions(), onTally: @escaping TallyHandler
  ) -> FileParseResult {
    readReport(path, options: options, delivery: .tallies(onTally)).result
  }

  /// A report opened for reading, or why it was not.
  struct OpenedReport {
    var descriptor: Int32
    /// Size of a regular file; nil for pipes and devices.
    var regularFileSize: Int64?
  }

  struct RefusedReport: Error {
    var result: FileParseResult
  }

  static func openReport(_ path: String, options: JUnitOptions) -> Result<OpenedReport, RefusedReport> {
    func refused(_ error: JUnitError) -> Result<OpenedReport, RefusedReport> {
      .failure(RefusedReport(result: FileParseResult(path: path, testcaseCount: 0, error: error)))
    }
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { return refused(.unreadable(path: path, reason: errnoText())) }
    var info = stat()
    guard fstat(descriptor, &info) == 0 else { return .success(OpenedReport(descriptor: descriptor)) }
    let isRegular = (info.st_mode & S_IFMT) == S_IFREG
    if (info.st_mode & S_IFMT) == S_IFDIR {
      close(descriptor)
      return refused(.unreadable(path: path, reason: "is a directory"))
    }
    if let limit = options.limits.maxFileBytes, isRegular, Int64(info.st_size) > limit {
      close(descriptor)
      return refused(.tooLarge(path: path, bytes: Int64(info.st_size), limit: limit))
    }
    return .success(OpenedReport(descriptor: descriptor, regularFileSize: isRegular ? Int64(info.st_size) : nil))
  }

  /// Feeds the file from `offset` to its end, or until the session stops (or
  /// `stop` says so before a chunk); returns the read error, if any.
  static func feed(
    _ descriptor: Int32, from offset: Int64, to session: SAXSession, stop: () -> Bool = { false }
  ) -> String? {
    if offset > 0, lseek(descriptor, off_t(offset), SEEK_SET) < 0 { return errnoText() }
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunkSize, alignment: 16)
    defer { buffer.deallocate() }
    while !stop() {
      let count = read(descriptor, buffer, chunkSize)
      if count < 0 {
        if errno == EINTR { continue }
        return errnoText()
      }
      if count == 0 { break }
      if !session.feed(UnsafeRawBufferPointer(start: buffer, count: count)) { break }
    }
    return nil
  }

  /// Reads a report held in memory (`path` only names it in errors).
  @discardableResult
  public static func parse(
    bytes: some Collection<UInt8>, path: String, options: JUnitOptions = JUnitOptions(),
    onTestCase: @escaping (TestCaseResult) -> Void
  ) -> FileParseResult {
    readBytes(bytes, path: path, options: options, delivery: .results(onTestCase))
  }

  /// Counts a report held in memory, as ``countFile(at:options:onTally:)`` does a file.
  @discardableResult
  public static func count(
    bytes: some Collection<UInt8>, path: String, options: JUnitOptions = JUnitOptions(),
    onTally: @escaping TallyHandler
  ) -> FileParseResult {
    readBytes(bytes, path: path, options: options, delivery: .tallies(onTally))
  }

  private static func readBytes(
    _ bytes: some Collection<UInt8>, path: String, options: JUnitOptions, delivery: ReportBuilder.Delivery
  ) -> FileParseResult {
    let session = SAXSession(path: path, options: options, delivery: delivery)
    let data = Array(bytes)
    var offset = 0
    while offset < data.count {
      let end = min(offset + chunkSize, data.count)
      let accepted = data[offset..<end].withUnsafeBytes { session.feed($0) }
      if !accepted { break }
      offset = end
    }
    return session.finish(readError: nil)
  }

  /// Reads the whole report into a ``ParsedReport``.
  public static func parseFile(at path: String, options: JUnitOptions = JUnitOptions()) -> ParsedReport {
    let collector = Collector()
    let result = parseFile(at: path, options: options) { collector.testcases.append($0) }
    return ParsedReport(path: path, result: result, testcases: collector.testcases)
  }

  /// Reads a report held in memory into a ``ParsedReport``.
  public static func parse(bytes: some Collection<UInt8>, path: String, options: JUnitOptions = JUnitOptions())
    -> ParsedReport
  {
    let collector = Collector()
    let result = parse(bytes: bytes, path: path, options: options) { collector.testcases.append($0) }
    return ParsedReport(path: path, result: result, testcases: collector.testcases)
  }

  private final class Collector {
    var testcases: [TestCaseResult] = []
  }
}

extension ParsedReport {
  init(path: String, result: FileParseResult, testcases: [TestCaseResult]) {
    self.path = path
    self.error = result.error
    self.testcases = testcases
    if result.error != nil {
      for index in self.testcases.indices { self.testcases[index].incomplete = true }
    }
  }
}

func errnoText() -> String {
  String(cString: strerror(errno))
}

/// One libxml2 push-parser context and the builder its callbacks feed.
///
/// A class so the C callbacks can reach it through the context's user-data pointer.
final class SAXSession {
  let path: String
  let builder: ReportBuilder
  var context: xmlParserCtxtPtr?
  /// An error raised by our own callbacks (entities, not JUnit); wins over libxml2's.
  var stopError: JUnitError?
  var sawData = false
  /// Set while reading the first half of a split report: where it may stop.
  var splitWatch: SplitWatch? {
    didSet { splitOffset = splitWatch?.candidate.offset ?? .max }
  }
  /// The split tag's offset, read at every start tag without copying `splitWatch`.
  private var splitOffset: Int64 = .max
  /// Bytes handed to ``feed(_:)`` so far, the chunk being parsed included.
  private var fedBytes: Int64 = 0
  /// libxml2's positions of the open `<testsuites>`/`<testsuite>` start tags, kept while `splitWatch` is set.
  private var openSuitePositions: [Int64] = []
  /// The first half reached the split and the second half's guess held: the parser stopped there.
  private(set) var stoppedAtSplit = false
  /// Element names of this session's one parser context, told by address.
  let elementNames = InternedNames<ElementName>()

  init(path: String, options: JUnitOptions, delivery: ReportBuilder.Delivery) {
    _ = LibXML2Setup.initialized
    // A parse runs on the thread that created its session; library code never prints.
    testbridge_silenceGenericErrors()
    self.path = path
    self.builder = ReportBuilder(options: options, delivery: delivery)
  }

  deinit {
    guard let context else { return }
    // For "expat compatibility" libxml2 builds a stand-in document when it reads an
    // entity declaration, even in SAX mode; the context does not own it.
    if let document = context.pointee.myDoc { xmlFreeDoc(document) }
    xmlFreeParserCtxt(context)
  }

  /// Hands a chunk to libxml2; false once parsing has stopped.
  func feed(_ chunk: UnsafeRawBufferPointer) -> Bool {
    guard chunk.count > 0, let base = chunk.bindMemory(to: CChar.self).baseAddress else { return true }
    sawData = true
    fedBytes += Int64(chunk.count)
    var offset = 0
    if context == nil {
      // The first bytes go to the constructor so libxml2 can detect the encoding (BOM, UTF-16).
      offset = min(4, chunk.count)
      guard let created = createContext(first: base, count: offset) else {
        stopError = .unreadable(path: path, reason: "libxml2 could not create a parser")
        return false
      }
      context = created
    }
    guard let context else { return false }
    while offset < chunk.count {
      // Inside a CDATA section libxml2's push parser hands out only 300 bytes per
      // call and rescans what is buffered, so a long CDATA (a 50 MB <system-out>)
      // would pile up until its 10 MB lookup limit. Feed such sections in small
      // pieces and drain each one.
      let inCDATA = context.pointee.instate == XML_PARSER_CDATA_SECTION
      let piece = inCDATA ? min(Self.cdataPiece, chunk.count - offset) : chunk.count - offset
      testbridge_shrinkPushInput(context)
      guard xmlParseChunk(context, base + offset, Int32(piece), 0) == 0, stopError == nil else { return false }
      offset += piece
      guard drainCDATA(context) else { return false }
    }
    return true
  }

  private static let cdataPiece = 4096

  private func drainCDATA(_ context: xmlParserCtxtPtr) -> Bool {
    while context.pointee.instate == XML_PARSER_CDATA_SECTION, let input = context.pointee.input {
      let before = input.pointee.cur
      guard let end = input.pointee.end, let cur = before, end - cur > 2 * Self.cdataPiece / 10 else { return true }
      guard xmlParseChunk(context, nil, 0, 0) == 0, stopError == nil else { return false }
      if input.pointee.cur == before { return true }
    }
    return true
  }

  /// Called at every start tag while `splitWatch` is set: follows the open
  /// suites, and at the split's `<testcase` tag asks the second half whether its
  /// guess of them holds. True when parsing stopped there (the tag is the second half's).
  func reachesSplit(_ name: ElementName) -> Bool {
    let isSuite = name == .testsuite || name == .testsuites
    guard isSuite || fedBytes > splitOffset, let watch = splitWatch, let context else { return false }
    let position = Int64(xmlByteConsumed(context))
    if position < watch.candidate.offset {
      if isSuite { openSuitePositions.append(position) }
      return false
    }
    splitWatch = nil
    // Every open element must be a suite the guess names, at the same place.
    guard position <= watch.candidate.tagEnd, name == .testcase, builder.depth == openSuitePositions.count,
      watch.confirm(openSuitePositions)
    else {
      watch.reject()
      return false
    }
    stoppedAtSplit = true
    xmlStopParser(context)
    return true
  }

  /// After the replayed start tags of a split's second half: makes libxml2
  /// count lines and columns from the split tag's place in the file, so errors
  /// (and the line numbers inside libxml2's messages) read as for the whole.
  /// False when libxml2 has not taken in all the replayed bytes.
  func continuesAt(line: Int, column: Int) -> Bool {
    guard stopError == nil, let context, let input = context.pointee.input, input.pointee.cur == input.pointee.end,
      let line = Int32(exactly: line), let column = Int32(exactly: column)
    else { return false }
    input.pointee.line = line
    input.pointee.col = column
    return true
  }

  /// Follows the end of a suite while `splitWatch` is set.
  func suiteEnded(_ name: ElementName) {
    if name == .testsuite || name == .testsuites { _ = openSuitePositions.popLast() }
  }

  func finish(readError: String?) -> FileParseResult {
    var error: JUnitError? = stopError
    if error == nil, let readError { error = .unreadable(path: path, reason: readError) }
    if error == nil {
      if !sawData {
        error = .malformed(path: path, line: 1, column: 1, reason: "the file is empty")
      } else if let context {
        if xmlParseChunk(context, nil, 0, 1) != 0 || context.pointee.wellFormed == 0 {
          error = stopError ?? libxmlError(context)
        }
      }
    }
    return FileParseResult(path: path, testcaseCount: builder.testcaseCount, error: error)
  }

  func refuse(_ refusal: StartRefusal) {
    switch refusal {
    case .notJUnit:
      stop(with: .notJUnit(path: path, rootElement: builder.rootElement ?? ""))
    case .tooDeep:
      let where_ = position
      stop(
        with: .malformed(
          path: path, line: where_.line, column: where_.column,
          reason: "elements nested deeper than the depth limit of \(builder.options.limits.maxDepth)"))
    }
  }

  /// Stops parsing at an entity declaration or reference (XXE, billion laughs).
  static func refuseEntity(_ user: UnsafeMutableRawPointer?, _ detail: String) {
    guard let user else { return }
    let session = Unmanaged<SAXSession>.fromOpaque(user).takeUnretainedValue()
    let where_ = session.position
    session.stop(with: .entitiesRefused(path: session.path, line: where_.line, column: where_.column, detail: detail))
  }

  func stop(with error: JUnitError) {
    if stopError == nil { stopError = error }
    if let context { xmlStopParser(context) }
  }

  var position: (line: Int, column: Int) {
    guard let context else { return (1, 1) }
    return (Int(xmlSAX2GetLineNumber(context)), Int(xmlSAX2GetColumnNumber(context)))
  }

  private func libxmlError(_ context: xmlParserCtxtPtr) -> JUnitError {
    guard let last = xmlCtxtGetLastError(context) else {
      let where_ = position
      return .malformed(path: path, line: where_.line, column: where_.column, reason: "not well-formed")
    }
    var message = last.pointee.message.map { String(cString: $0) } ?? "not well-formed"
    message = message.trimmingCharacters(in: .whitespacesAndNewlines)
    if last.pointee.code == XML_ERR_DOCUMENT_EMPTY.rawValue { message = "no XML content (empty or not XML)" }
    // At end of input libxml2's push parser reports "Extra content at the end of
    // the document" even when the real problem is a report cut off mid-element.
    if last.pointee.code == XML_ERR_DOCUMENT_END.rawValue, context.pointee.nameNr > 0,
      let open = context.pointee.name
    {
      message = "the report ends inside <\(String(cString: open))> (truncated: was the test runner killed?)"
    }
    return .malformed(path: path, line: max(1, Int(last.pointee.line)), column: max(1, Int(last.pointee.int2)), reason: message)
  }

  private static let textCallback: charactersSAXFunc = { user, bytes, length in
    guard let user, let bytes, length > 0 else { return }
    Unmanaged<SAXSession>.fromOpaque(user)._withUnsafeGuaranteedRef {
      $0.builder.characters(UnsafeBufferPointer(start: bytes, count: Int(length)))
    }
  }

  /// Whether libxml2 currently calls back with text.
  private var textCallbacksOn = false

  /// Has libxml2 call back with text only while the builder collects some:
  /// most text in a report (indentation, and failure text no one will be
  /// shown) then costs no call at all. Run after every start and end tag.
  @inline(__always) func followCapture() {
    let wanted = builder.capturesText
    guard wanted != textCallbacksOn, let sax = context?.pointee.sax else { return }
    textCallbacksOn = wanted
    sax.pointee.characters = wanted ? Self.textCallback : nil
    sax.pointee.cdataBlock = wanted ? Self.textCallback : nil
  }

  private func createContext(first: UnsafePointer<CChar>?, count: Int) -> xmlParserCtxtPtr? {
    var handler = xmlSAXHandler()
    handler.initialized = XML_SAX2_MAGIC
    handler.startElementNs = { user, localName, _, _, _, _, attributeCount, _, attributes in
      guard let user, let localName else { return }
      let list = AttributeList(base: attributes, count: Int(attributeCount))
      Unmanaged<SAXSession>.fromOpaque(user)._withUnsafeGuaranteedRef { session in
        let name = session.elementNames.kind(of: localName)
        if session.splitWatch != nil, session.reachesSplit(name) { return }
        do throws(StartRefusal) {
          try session.builder.start(name, rawName: localName, attributes: list)
        } catch {
          session.refuse(error)
        }
        session.followCapture()
      }
    }
    handler.endElementNs = { user, localName, _, _ in
      guard let user, let localName else { return }
      Unmanaged<SAXSession>.fromOpaque(user)._withUnsafeGuaranteedRef { session in
        let name = session.elementNames.kind(of: localName)
        if session.splitWatch != nil { session.suiteEnded(name) }
        session.builder.end(name)
        session.followCapture()
      }
    }
    // Text callbacks start off: the builder collects no text outside a testcase.
    // Entities: refuse declarations outright (XXE, billion laughs) and never resolve anything.
    handler.entityDecl = { user, name, _, _, _, _ in
      SAXSession.refuseEntity(user, "the report declares the entity '\(name.map { String(cString: $0) } ?? "?")'")
    }
    handler.reference = { user, name in
      SAXSession.refuseEntity(user, "the report uses the undefined entity '&\(name.map { String(cString: $0) } ?? "?");'")
    }
    handler.resolveEntity = { _, _, _ in nil }
    handler.getEntity = { _, _ in nil }
    handler.getParameterEntity = { _, _ in nil }
    handler.externalSubset = { _, _, _, _ in }

    let user = Unmanaged.passUnretained(self).toOpaque()
    guard let context = xmlCreatePushParserCtxt(&handler, user, first, Int32(count), path) else { return nil }
    xmlCtxtUseOptions(context, JUnitParser.parserOptions)
    return context
  }
}
