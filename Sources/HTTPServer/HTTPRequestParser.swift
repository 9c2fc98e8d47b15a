/// An incremental HTTP/1.1 request parser: feed it bytes as they arrive, take complete requests out.
///
/// Pure (no I/O), so it is tested byte by byte. It enforces the header and body
/// limits while reading, so an oversized request is refused before it is buffered,
/// and it rejects the framing ambiguities behind request smuggling
/// (`Content-Length` together with `Transfer-Encoding`, conflicting lengths,
/// bare CR, obsolete line folding).
///
/// ```swift
/// var parser = HTTPRequestParser(limits: .init())
/// parser.append(bytes)
/// while let request = try parser.nextRequest() { … }
/// ```
public struct HTTPRequestParser: Sendable {
  /// Size limits applied while parsing.
  public struct Limits: Sendable, Hashable {
    /// The largest request line plus header section, line ends included (also caps chunked trailers).
    public var maxHeaderBytes: Int
    /// The largest body after de-chunking.
    public var maxBodyBytes: Int

    public init(maxHeaderBytes: Int = 16 * 1024, maxBodyBytes: Int = 10 * 1024 * 1024) {
      self.maxHeaderBytes = maxHeaderBytes
      self.maxBodyBytes = maxBodyBytes
    }
  }

  /// The request line and headers, once parsed.
  private struct Head: Sendable {
    var method: String
    var target: String
    var path: String
    var query: [(name: String, value: String)]
    var version: String
    var headers: HTTPHeaders
  }

  private enum State: Sendable {
    case head
    case fixedBody(Head, remaining: Int)
    case chunkSize(Head)
    case chunkData(Head, remaining: Int)
    case chunkDataEnd(Head)
    case trailers(Head, bytes: Int)
    case failed(HTTPServerError)
  }

  /// The limits in force.
  public let limits: Limits
  private var buffer: [UInt8] = []
  private var readIndex = 0
  /// How far past `readIndex` the search for the end of the head has already looked.
  private var scanned = 0
  private var state: State = .head
  private var body: [UInt8] = []
  private var continuePending = false

  /// Longest chunk-size line (size plus extensions) accepted.
  private static let maxChunkLineBytes = 1024

  public init(limits: Limits = Limits()) {
    self.limits = limits
  }

  /// Adds received bytes to the buffer.
  public mutating func append(_ bytes: some Sequence<UInt8>) {
    if readIndex > 0 {
      buffer.removeSubrange(0..<readIndex)
      readIndex = 0
    }
    buffer.append(contentsOf: bytes)
  }

  /// Whether bytes of a request that is not complete yet have been received.
  ///
  /// False between requests, which is when an idle keep-alive connection may be closed quietly.
  public var hasPartialRequest: Bool {
    if case .head = state {
      return buffer[readIndex...].contains { $0 != CR && $0 != LF }
    }
    return true
  }

  /// Returns true once per request whose headers asked `Expect: 100-continue` and
  /// were accepted, meaning the caller should send `HTTP/1.1 100 Continue` now.
  public mutating func takeContinueRequest() -> Bool {
    defer { continuePending = false }
    return continuePending
  }

  /// The next complete request, or nil when more bytes are needed.
  ///
  /// - Throws: ``HTTPServerError`` with a ``HTTPServerError/responseStatus`` (400,
  ///   413, 417, 431, 501 or 505). After an error the parser stays failed: answer and close.
  public mutating func nextRequest() throws(HTTPServerError) -> ServerRequest? {
    if case .failed(let error) = state { throw error }
    do {
      return try step()
    } catch {
      state = .failed(error)
      continuePending = false
      throw error
    }
  }

  private mutating func step() throws(HTTPServerError) -> ServerRequest? {
    while true {
      switch state {
      case .failed(let error):
        throw error

      case .head:
        guard let head = try parseHeadIfComplete() else { return nil }
        let framing = try Self.framing(of: head, limits: limits)
        body = []
        switch framing {
        case .none:
          return finish(head)
        case .length(let length):
          body.reserveCapacity(min(length, 1 << 20))
          continuePending = try Self.expectsContinue(head)
          state = .fixedBody(head, remaining: length)
        case .chunked:
          continuePending = try Self.expectsContinue(head)
          state = .chunkSize(head)
        }

      case .fixedBody(let head, let remaining):
        let available = buffer.count - readIndex
        let take = min(available, remaining)
        body.append(contentsOf: buffer[readIndex..<(readIndex + take)])
        readIndex += take
        if take == remaining { return finish(head) }
        state = .fixedBody(head, remaining: remaining - take)
        return nil

      case .chunkSize(let head):
        guard let line = try takeLine(limit: Self.maxChunkLineBytes, tooLong: .malformedRequest("chunk size line is too long"))
        else { return nil }
        let size = try Self.chunkSize(line)
        if size == 0 {
          state = .trailers(head, bytes: 0)
        } else {
          guard size <= limits.maxBodyBytes - body.count else {
            throw .bodyTooLarge(limit: limits.maxBodyBytes)
          }
          state = .chunkData(head, remaining: size)
        }

      case .chunkData(let head, let remaining):
        let available = buffer.count - readIndex
        let take = min(available, remaining)
        body.append(contentsOf: buffer[readIndex..<(readIndex + take)])
        readIndex += take
        if take < remaining {
          state = .chunkData(head, remaining: remaining - take)
          return nil
        }
        state = .chunkDataEnd(head)

      case .chunkDataEnd(let head):
        guard let line = try takeLine(limit: 2, tooLong: .malformedRequest("chunk data is longer than its size"))
        else { return nil }
        guard line.isEmpty else { throw .malformedRequest("chunk data is longer than its size") }
        state = .chunkSize(head)

      case .trailers(let head, let bytes):
        let before = readIndex
        let remainingAllowance = max(0, limits.maxHeaderBytes - bytes)
        guard let line = try takeLine(limit: remainingAllowance, tooLong: .headersTooLarge(limit: limits.maxHeaderBytes))
        else { return nil }
        if line.isEmpty { return finish(head) }
        // Trailer fields are read and dropped: nothing here needs them.
        guard line.first != SP, line.first != HTAB, line.contains(UInt8(ascii: ":")) else {
          throw .malformedRequest("invalid trailer field")
        }
        state = .trailers(head, bytes: bytes + (readIndex - before))
      }
    }
  }

  private mutating func finish(_ head: Head) -> ServerRequest {
    state = .head
    scanned = 0
    continuePending = false
    let request = ServerRequest(
      method: head.method, target: head.target, path: head.path, query: head.query,
      version: head.version, headers: head.headers, body: body)
    body = []
    return request
  }

  // MARK: Lines

  /// Takes one line (without CRLF or LF) if a whole line is buffered.
  private mutating func takeLine(limit: Int, tooLong: HTTPServerError) throws(HTTPServerError)
    -> ArraySlice<UInt8>?
  {
    guard let lf = buffer[readIndex...].firstIndex(of: LF) else {
      if buffer.count - readIndex > limit + 1 { throw tooLong }
      return nil
    }
    var end = lf
    if end > readIndex, buffer[end - 1] == CR { end -= 1 }
    guard end - readIndex <= limit else { throw tooLong }
    let line = buffer[readIndex..<end]
    guard !line.contains(CR) else { throw .malformedRequest("bare CR in line") }
    readIndex = lf + 1
    return line
  }

  // MARK: Head

  private mutating func parseHeadIfComplete() throws(HTTPServerError) -> Head? {
    // A server ought to ignore empty lines received before the request line (RFC 9112 §2.2).
    if scanned == 0 {
      while readIndex < buffer.count, buffer[readIndex] == CR || buffer[readIndex] == LF {
        readIndex += 1
      }
    }
    // Look for the empty line that ends the head, resuming where the last call stopped.
    var index = readIndex + scanned
    var headEnd: Int?
    while index < buffer.count {
      if buffer[index] == LF {
        let previous = index - 1
        if previous >= readIndex, buffer[previous] == LF {
          headEnd = index + 1
          break
        }
        if previous - 1 >= readIndex, buffer[previous] == CR, buffer[previous - 1] == LF {
          headEnd = index + 1
          break
        }
      }
      index += 1
    }
    guard let headEnd else {
      scanned = max(0, buffer.count - readIndex - 1)
      if buffer.count - readIndex > limits.maxHeaderBytes {
        throw .headersTooLarge(limit: limits.maxHeaderBytes)
      }
      return nil
    }
    guard headEnd - readIndex <= limits.maxHeaderBytes else {
      throw .headersTooLarge(limit: limits.maxHeaderBytes)
    }
    let headBytes = buffer[readIndex..<headEnd]
    readIndex = headEnd
    scanned = 0
    return try Self.parseHead(headBytes)
  }

  private static func parseHead(_ bytes: ArraySlice<UInt8>) throws(HTTPServerError) -> Head {
    var lines: [ArraySlice<UInt8>] = []
    var start = bytes.startIndex
    for index in bytes.indices where bytes[index] == LF {
      var end = index
      if end > start, bytes[end - 1] == CR { end -= 1 }
      let line = bytes[start..<end]
      if line.contains(CR) { throw .malformedRequest("bare CR in header section") }
      lines.append(line)
      start = index + 1
    }
    // The last line is the empty one that ended the head.
    if lines.last?.isEmpty == true { lines.removeLast() }
    guard let requestLine = lines.first else { throw .malformedRequest("missing request line") }

    let parts = requestLine.split(separator: SP, omittingEmptySubsequences: false)
    guard parts.count == 3 else {
      throw .malformedRequest("request line must be 'METHOD target HTTP/1.1'")
    }
    guard !parts[0].isEmpty, parts[0].allSatisfy(isTokenByte) else {
      throw .malformedRequest("invalid method")
    }
    guard !parts[1].isEmpty, parts[1].allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
      throw .malformedRequest("invalid request target")
    }
    let method = String(decoding: parts[0], as: UTF8.self)
    let target = String(decoding: parts[1], as: UTF8.self)
    let version = try parseVersion(parts[2])

    guard target.hasPrefix("/") || target.hasPrefix("http://") || target.hasPrefix("https://")
      || (target == "*" && method == "OPTIONS")
    else { throw .malformedRequest("unsupported request target form") }
    let raw = RequestTarget.parts(of: target)
    guard let path = RequestTarget.percentDecode(raw.path, plusIsSpace: false) else {
      throw .malformedRequest("invalid percent-encoding in path")
    }
    var query: [(name: String, value: String)] = []
    if let rawQuery = raw.query {
      guard let decoded = RequestTarget.decodeQuery(rawQuery) else {
        throw .malformedRequest("invalid percent-encoding in query")
      }
      query = decoded
    }

    var headers = HTTPHeaders()
    for line in lines.dropFirst() {
      guard let first = line.first else { continue }
      if first == SP || first == HTAB {
        throw .malformedRequest("obsolete header line folding")
      }
      guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
        throw .malformedRequest("header line without ':'")
      }
      let name = line[line.startIndex..<colon]
      guard !name.isEmpty, name.allSatisfy(isTokenByte) else {
        throw .malformedRequest("invalid header name")
      }
      let value = line[(colon + 1)...]
      guard value.allSatisfy({ $0 == HTAB || ($0 >= 0x20 && $0 != 0x7F) }) else {
        throw .malformedRequest("control character in header '\(String(decoding: name, as: UTF8.self))'")
      }
      headers.add(
        name: String(decoding: name, as: UTF8.self),
        value: String(decoding: value, as: UTF8.self).trimmingASCIIWhitespace())
    }
    if version == "HTTP/1.1" {
      guard headers.values(for: "Host").count == 1 else {
        throw .malformedRequest("HTTP/1.1 requests need exactly one Host header")
      }
    }
    return Head(
      method: method, target: target, path: path, query: query, version: version, headers: headers)
  }

  private static func parseVersion(_ bytes: ArraySlice<UInt8>) throws(HTTPServerError) -> String {
    let text = String(decoding: bytes, as: UTF8.self)
    let utf8 = Array(bytes)
    guard utf8.count == 8, text.hasPrefix("HTTP/"), isDigit(utf8[5]), utf8[6] == UInt8(ascii: "."),
      isDigit(utf8[7])
    else { throw .malformedRequest("invalid protocol version") }
    guard text == "HTTP/1.1" || text == "HTTP/1.0" else { throw .unsupportedVersion(text) }
    return text
  }

  // MARK: Framing

  private enum Framing {
    case none
    case length(Int)
    case chunked
  }

  private static func framing(of head: Head, limits: Limits) throws(HTTPServerError) -> Framing {
    let transferEncodings = head.headers.values(for: "Transfer-Encoding")
    let contentLengths = head.headers.values(for: "Content-Length")
    if !transferEncodings.isEmpty {
      guard contentLengths.isEmpty else {
        throw .malformedRequest("both Transfer-Encoding and Content-Length")
      }
      let codings = transferEncodings.flatMap { $0.split(separator: ",") }
        .map { $0.trimmingASCIIWhitespace().lowercased() }
      guard codings.last == "chunked", codings.filter({ $0 == "chunked" }).count == 1 else {
        throw .malformedRequest("Transfer-Encoding must end with a single 'chunked'")
      }
      if let other = codings.first(where: { $0 != "chunked" }) {
        throw .unsupportedTransferEncoding(other)
      }
      return .chunked
    }
    guard !contentLengths.isEmpty else { return .none }
    var length: Int?
    for raw in contentLengths.flatMap({ $0.split(separator: ",", omittingEmptySubsequences: false) }) {
      let text = raw.trimmingASCIIWhitespace()
      guard !text.isEmpty, text.utf8.count <= 18, text.utf8.allSatisfy(isDigit),
        let value = Int(text)
      else { throw .malformedRequest("invalid Content-Length") }
      if let length, length != value { throw .malformedRequest("conflicting Content-Length values") }
      length = value
    }
    guard let length else { throw .malformedRequest("invalid Content-Length") }
    guard length <= limits.maxBodyBytes else { throw .bodyTooLarge(limit: limits.maxBodyBytes) }
    return length == 0 ? .none : .length(length)
  }

  /// Whether to send `100 Continue`; throws 417 for expectations other than `100-continue`.
  private static func expectsContinue(_ head: Head) throws(HTTPServerError) -> Bool {
    guard let expect = head.headers["Expect"] else { return false }
    guard expect.lowercased() == "100-continue" else { throw .unsupportedExpectation(expect) }
    return head.version == "HTTP/1.1"
  }

  private static func chunkSize(_ line: ArraySlice<UInt8>) throws(HTTPServerError) -> Int {
    var digits = line
    if let semicolon = line.firstIndex(of: UInt8(ascii: ";")) {
      digits = line[line.startIndex..<semicolon]
    }
    // Whitespace before extensions is tolerated (RFC 9112 BWS).
    while let last = digits.last, last == SP || last == HTAB { digits.removeLast() }
    guard !digits.isEmpty, digits.count <= 15 else { throw .malformedRequest("invalid chunk size") }
    var size = 0
    for byte in digits {
      guard let value = RequestTarget.hexValue(byte) else {
        throw .malformedRequest("invalid chunk size")
      }
      size = size << 4 | Int(value)
    }
    return size
  }
}

private let CR = UInt8(ascii: "\r")
private let LF = UInt8(ascii: "\n")
private let SP = UInt8(ascii: " ")
private let HTAB = UInt8(ascii: "\t")

private func isDigit(_ byte: UInt8) -> Bool {
  byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
}

/// RFC 9110 `tchar`.
private func isTokenByte(_ byte: UInt8) -> Bool {
  switch byte {
  case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
    UInt8(ascii: "0")...UInt8(ascii: "9"):
    return true
  default:
    return "!#$%&'*+-.^_`|~".utf8.contains(byte)
  }
}
