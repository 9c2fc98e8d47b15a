#if canImport(Glibc)
import Glibc
#endif

/// Where a large report can be cut so its two halves are counted at once.
///
/// Everything here is a guess made from raw bytes, cheaply: the second half's
/// parser starts at a `<testcase` tag with the start tags of the suites that
/// seem open there replayed in front of it. The first half's parser proves or
/// refutes the guess when it reaches the same tag (``SplitWatch``); a wrong
/// guess only costs the time, never a result.
struct SplitCandidate: Sendable, Equatable {
  /// Offset of the `<` of the `<testcase` tag the second half starts with.
  var offset: Int64
  /// Offset of the last byte that can still belong to that start tag: libxml2
  /// reports a start tag's position anywhere up to its closing `>`.
  var tagEnd: Int64
  /// Everything before the root element (BOM, XML declaration, comments),
  /// replayed first so the second half is read the same way, on the same lines.
  var prologue: [UInt8]
  /// Where the root element's start tag, and the scan for open suites, start.
  var bodyStart: Int64
}

/// What the byte scan guesses of the document at the split.
struct SplitContext: Sendable, Equatable {
  /// The suites open there, outermost first.
  var openSuites: [OpenSuiteTag]
  /// The 1-based line and column of the split tag in the file, so the second
  /// half's parser reports positions (and libxml2 its messages) as the whole would.
  var line: Int
  var column: Int
}

/// A start tag of a suite that is open at the split, as found in the file.
struct OpenSuiteTag: Sendable, Equatable {
  /// Offsets of its `<` and of its closing `>`.
  var start: Int64
  var end: Int64
  var bytes: [UInt8]
  /// Its 1-based line and column in the file (libxml2 quotes the line in messages).
  var line: Int
  var column: Int
}

enum ReportSplitter {
  static let windowSize = 256 << 10
  /// How far past the target a `<testcase` tag is looked for before giving up.
  static let searchLimit = 4 << 20

  /// Finds the first `<testcase` tag at or after `target`, when the report is
  /// one a split can be tried on: UTF-8 (or ASCII) without a document type.
  static func candidate(descriptor: Int32, size: Int64, target: Int64) -> SplitCandidate? {
    guard let (prologue, bodyStart) = Self.prologue(descriptor: descriptor), target > Int64(bodyStart), target < size
    else { return nil }
    var position = target
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: windowSize, alignment: 16)
    defer { buffer.deallocate() }
    while position < min(size, target + Int64(searchLimit)) {
      let count = pread(descriptor, buffer.baseAddress, windowSize, off_t(position))
      guard count > 0 else { return nil }
      let bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
      if let found = firstTestCaseTag(in: bytes) {
        guard let end = tagEnd(in: bytes, from: found) else {
          // Cut by the window: read again from the tag, unless it fills a window.
          guard found > 0 else { return nil }
          position += Int64(found)
          continue
        }
        return SplitCandidate(
          offset: position + Int64(found), tagEnd: position + Int64(end), prologue: prologue,
          bodyStart: Int64(bodyStart))
      }
      // Keep enough bytes that a tag cut by the window is seen whole next time.
      guard count > 64 else { return nil }
      position += Int64(count - 64)
    }
    return nil
  }

  /// The bytes before the root element, and where it starts; nil for reports
  /// a byte scan cannot read reliably (UTF-16 and other encodings, a DOCTYPE).
  static func prologue(descriptor: Int32) -> (bytes: [UInt8], bodyStart: Int)? {
    var head = [UInt8](repeating: 0, count: 4096)
    let count = head.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
    guard count > 0 else { return nil }
    head.removeSubrange(count...)
    return prologue(head)
  }

  static func prologue(_ head: [UInt8]) -> (bytes: [UInt8], bodyStart: Int)? {
    var index = 0
    if head.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
    guard index < head.count, head[index] == UInt8(ascii: "<"), index + 1 < head.count, head[index + 1] != 0 else {
      return nil  // UTF-16, UCS-4, EBCDIC or not markup at all
    }
    if head[index...].starts(with: Array("<?xml".utf8)) {
      guard let close = find(Array("?>".utf8), in: head, from: index) else { return nil }
      let declaration = String(decoding: head[index..<close], as: UTF8.self).lowercased()
      if let range = declaration.range(of: "encoding") {
        let rest = declaration[range.upperBound...].drop { $0 == " " || $0 == "=" || $0 == "\"" || $0 == "'" }
        let name = rest.prefix { $0 != "\"" && $0 != "'" && $0 != " " && $0 != "?" }
        guard ["utf-8", "utf8", "us-ascii", "ascii"].contains(String(name)) else { return nil }
      }
      index = close + 2
    }
    // Comments and processing instructions may come before the root. A document
    // type means entity declarations may follow: never split those.
    var probe = index
    while let open = head[probe...].firstIndex(of: UInt8(ascii: "<")) {
      if head[open...].starts(with: Array("<!--".utf8)) {
        guard let close = find(Array("-->".utf8), in: head, from: open + 4) else { return nil }
        probe = close + 3
      } else if head[open...].starts(with: Array("<?".utf8)) {
        guard let close = find(Array("?>".utf8), in: head, from: open + 2) else { return nil }
        probe = close + 2
      } else if head[open...].starts(with: Array("<!".utf8)) {
        return nil
      } else {
        return (Array(head[..<open]), open)  // the root element's start tag
      }
    }
    return nil
  }

  /// The start tags of the `<testsuites>`/`<testsuite>` elements open at
  /// `offset`, outermost first, read from `bodyStart` on. Comments, CDATA
  /// sections and processing instructions are skipped; nil when the bytes
  /// cannot be read this way (a DOCTYPE, an unbalanced end tag, a huge tag).
  /// `stop` is asked before each window: the first half may have broken off already.
  static func context(
    descriptor: Int32, at candidate: SplitCandidate, stop: () -> Bool = { false }
  ) -> SplitContext? {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: windowSize, alignment: 16)
    defer { buffer.deallocate() }
    var scanner = SuiteScanner(lines: candidate.prologue.withUnsafeBytes { LineTally(counting: $0, at: 0) })
    let offset = candidate.offset
    var position = candidate.bodyStart
    while position < offset {
      if stop() { return nil }
      let wanted = Int(min(Int64(windowSize), offset - position))
      let count = pread(descriptor, buffer.baseAddress, wanted, off_t(position))
      guard count > 0 else { return nil }
      let window = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
      guard let used = scanner.scan(window, at: position, isLast: position + Int64(count) == offset), used > 0 else {
        return nil
      }
      position += Int64(used)
    }
    guard !scanner.isInMarkupSkipped, !scanner.stack.isEmpty else { return nil }
    let lines = scanner.lines
    return SplitContext(
      openSuites: scanner.stack, line: lines.newlines + 1, column: Int(offset - lines.lastNewline))
  }

  /// Offset of the first `<testcase` start tag in `bytes`.
  static func firstTestCaseTag(in bytes: UnsafeRawBufferPointer) -> Int? {
    let needle = Array("<testcase".utf8)
    var from = 0
    while let found = find(needle, in: bytes, from: from) {
      let next = found + needle.count
      guard next < bytes.count else { return nil }
      if isTagNameEnd(bytes[next]) { return found }
      from = found + 1
    }
    return nil
  }

  /// Offset of the `>` closing the start tag that begins at `start` (quotes respected).
  static func tagEnd(in bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
    var quote: UInt8 = 0
    var index = start + 1
    while index < bytes.count {
      let byte = bytes[index]
      if quote != 0 {
        if byte == quote { quote = 0 }
      } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
        quote = byte
      } else if byte == UInt8(ascii: ">") {
        return index
      } else if byte == UInt8(ascii: "<") {
        return nil  // never inside a tag: this was not one
      }
      index += 1
    }
    return nil
  }

  static func isTagNameEnd(_ byte: UInt8) -> Bool {
    byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == UInt8(ascii: ">")
      || byte == UInt8(ascii: "/")
  }

  static func find(_ needle: [UInt8], in bytes: UnsafeRawBufferPointer, from: Int) -> Int? {
    guard from < bytes.count, let base = bytes.baseAddress else { return nil }
    // memchr for the first byte, then a compare (Glibc's module has no memmem).
    return needle.withUnsafeBytes { pattern -> Int? in
      guard let first = pattern.first, let patternBase = pattern.baseAddress else { return from }
      var index = from
      while bytes.count - index >= pattern.count,
        let found = memchr(base + index, Int32(first), bytes.count - index - pattern.count + 1)
      {
        let at = base.distance(to: UnsafeRawPointer(found))
        if memcmp(found, patternBase, pattern.count) == 0 { return at }
        index = at + 1
      }
      return nil
    }
  }

  static func find(_ needle: [UInt8], in bytes: [UInt8], from: Int) -> Int? {
    bytes.withUnsafeBytes { find(needle, in: $0, from: from) }
  }
}

/// Newlines counted through a file, window by window.
struct LineTally {
  private(set) var newlines = 0
  /// Offset of the last newline seen, -1 before the first.
  private(set) var lastNewline: Int64 = -1

  init(counting bytes: UnsafeRawBufferPointer, at base: Int64) {
    add(bytes, at: base)
  }

  mutating func add(_ bytes: UnsafeRawBufferPointer, at base: Int64) {
    // Sixteen bytes at a time: a lane of the comparison is all ones (-1) at a
    // newline, so subtracting it counts newlines per lane; the lanes are added
    // up before any can pass 255. (A popcount per word is emulated on the
    // portable x86-64 baseline and took three times as long.)
    let blocks = bytes.count / 16
    let newline = SIMD16<UInt8>(repeating: 0x0A)
    var found = 0
    var block = 0
    while block < blocks {
      var lanes = SIMD16<UInt8>()
      let end = min(blocks, block + 255)
      while block < end {
        let chunk = bytes.loadUnaligned(fromByteOffset: block * 16, as: SIMD16<UInt8>.self)
        lanes &-= unsafeBitCast(chunk .== newline, to: SIMD16<UInt8>.self)
        block += 1
      }
      found += Int(SIMD16<UInt16>(truncatingIfNeeded: lanes).wrappedSum())
    }
    for index in (blocks * 16)..<bytes.count where bytes[index] == 0x0A { found += 1 }
    guard found > 0 else { return }
    newlines += found
    if let last = bytes.lastIndex(of: 0x0A) { lastNewline = base + Int64(last) }
  }
}

/// Follows suite start and end tags through a report's bytes, window by window.
struct SuiteScanner {
  private(set) var stack: [OpenSuiteTag] = []
  /// Newlines up to where the scan has used its windows.
  private(set) var lines: LineTally
  /// How far into the current window `lines` has counted.
  private var countedTo = 0
  /// The end of a comment, CDATA section or processing instruction being skipped.
  private var skipping: [UInt8]?
  /// Inside a comment, CDATA section or processing instruction (not at a tag).
  var isInMarkupSkipped: Bool { skipping != nil }

  private static let suite = Array("testsuite".utf8)

  /// Scans a window that starts at file offset `base`; returns how many bytes
  /// were used (the rest start a construct the next window must hold whole),
  /// or nil when the report cannot be followed this way.
  init(lines: LineTally) {
    self.lines = lines
  }

  mutating func scan(_ window: UnsafeRawBufferPointer, at base: Int64, isLast: Bool) -> Int? {
    countedTo = 0
    guard let used = scanTags(window, at: base, isLast: isLast) else { return nil }
    countLines(window, at: base, upTo: used)
    return used
  }

  private mutating func countLines(_ window: UnsafeRawBufferPointer, at base: Int64, upTo end: Int) {
    guard end > countedTo else { return }
    lines.add(UnsafeRawBufferPointer(rebasing: window[countedTo..<end]), at: base + Int64(countedTo))
    countedTo = end
  }

  private mutating func scanTags(_ window: UnsafeRawBufferPointer, at base: Int64, isLast: Bool) -> Int? {
    guard let start = window.baseAddress else { return 0 }
    var index = 0
    while index < window.count {
      if let terminator = skipping {
        if let found = ReportSplitter.find(terminator, in: window, from: index) {
          index = found + terminator.count
          skipping = nil
          continue
        }
        // Keep the bytes that could start the terminator.
        return isLast ? window.count : max(index, window.count - (terminator.count - 1))
      }
      guard let found = memchr(start + index, Int32(UInt8(ascii: "<")), window.count - index) else {
        return window.count
      }
      let open = start.distance(to: UnsafeRawPointer(found))
      // Enough bytes to tell what starts here ("<![CDATA[", "</testsuites>").
      if window.count - open < 16, !isLast { return open }
      let rest = UnsafeRawBufferPointer(rebasing: window[open...])
      // Most tags are testcases, results and end tags: tell them apart by their
      // first bytes before looking closer.
      let second = rest.count > 1 ? rest[1] : 0
      switch second {
      case UInt8(ascii: "!"):
        if rest.starts(with: "<!--".utf8) {
          skipping = Array("-->".utf8)
          index = open + 4
        } else if rest.starts(with: "<![CDATA[".utf8) {
          skipping = Array("]]>".utf8)
          index = open + 9
        } else {
          return nil  // a DOCTYPE or other declaration: not a report this scan can follow
        }
      case UInt8(ascii: "?"):
        skipping = Array("?>".utf8)
        index = open + 2
      case UInt8(ascii: "/"):
        if rest.count > 2, rest[2] == UInt8(ascii: "t"), Self.suiteNameEnd(rest, from: 2) != nil {
          guard stack.popLast() != nil else { return nil }
        }
        index = open + 2
      case UInt8(ascii: "t") where rest.count > 6 && rest[5] == UInt8(ascii: "s") && Self.suiteNameEnd(rest, from: 1) != nil:
        guard let close = ReportSplitter.tagEnd(in: window, from: open) else {
          // A tag cut by the window is read again whole; one larger than a window is given up on.
          return open > 0 && !isLast ? open : nil
        }
        if window[close - 1] != UInt8(ascii: "/") {
          countLines(window, at: base, upTo: open)
          stack.append(
            OpenSuiteTag(
              start: base + Int64(open), end: base + Int64(close), bytes: Array(window[open...close]),
              line: lines.newlines + 1, column: Int(base + Int64(open) - lines.lastNewline)))
        }
        index = close + 1
      default:
        index = open + 1
      }
    }
    return window.count
  }

  /// Where `testsuite` or `testsuites` ends when it is the whole tag name at `from`.
  private static func suiteNameEnd(_ bytes: UnsafeRawBufferPointer, from: Int) -> Int? {
    var index = from
    for byte in suite {
      guard index < bytes.count, bytes[index] == byte else { return nil }
      index += 1
    }
    if index < bytes.count, bytes[index] == UInt8(ascii: "s") { index += 1 }
    guard index < bytes.count, ReportSplitter.isTagNameEnd(bytes[index]) else { return nil }
    return index
  }
}
