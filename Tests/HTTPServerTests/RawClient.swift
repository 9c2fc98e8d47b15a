import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Runs blocking socket work on its own thread so tests never block the concurrency pool
/// that the server's handler tasks need.
func offPool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
  await withCheckedContinuation { continuation in
    let thread = Thread { continuation.resume(returning: body()) }
    thread.start()
  }
}

struct RawClientError: Error, CustomStringConvertible {
  var description: String
}

/// A raw TCP client on 127.0.0.1 for sending exactly the bytes a test needs.
final class RawConnection: Sendable {
  let fd: Int32

  private init(fd: Int32) {
    self.fd = fd
  }

  deinit {
    _ = Glibc.close(fd)
  }

  /// Connects to 127.0.0.1:`port`.
  static func connect(port: Int) async throws -> RawConnection {
    let result: Result<Int32, RawClientError> = await offPool {
      let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
      guard fd >= 0 else { return .failure(RawClientError(description: "socket failed")) }
      var address = sockaddr_in()
      address.sin_family = sa_family_t(AF_INET)
      address.sin_port = in_port_t(UInt16(port).bigEndian)
      address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
      let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
          Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
      }
      guard connected == 0 else {
        let code = errno
        _ = Glibc.close(fd)
        return .failure(RawClientError(description: "connect failed: errno \(code)"))
      }
      return .success(fd)
    }
    return RawConnection(fd: try result.get())
  }

  /// Sends `text` as UTF-8; false if the peer is gone.
  @discardableResult
  func send(_ text: String) async -> Bool {
    await send(Array(text.utf8))
  }

  @discardableResult
  func send(_ bytes: [UInt8]) async -> Bool {
    let fd = fd
    return await offPool {
      var offset = 0
      while offset < bytes.count {
        let sent = bytes.withUnsafeBytes {
          Glibc.send(fd, $0.baseAddress.map { $0 + offset }, $0.count - offset, Int32(MSG_NOSIGNAL))
        }
        if sent <= 0 { return false }
        offset += sent
      }
      return true
    }
  }

  /// Reads until the peer closes or `timeout` passes; `closed` says which.
  func readUntilClose(timeout: Duration = .seconds(30)) async -> (bytes: [UInt8], closed: Bool) {
    await read(timeout: timeout) { _ in false }
  }

  /// Reads until `isComplete` holds for what was read, the peer closes, or `timeout` passes.
  func read(timeout: Duration = .seconds(30), until isComplete: @escaping @Sendable ([UInt8]) -> Bool) async
    -> (bytes: [UInt8], closed: Bool)
  {
    let fd = fd
    return await offPool {
      var collected: [UInt8] = []
      var buffer = [UInt8](repeating: 0, count: 64 * 1024)
      let deadline = ContinuousClock.now.advanced(by: timeout)
      while !isComplete(collected) {
        let remaining = ContinuousClock.now.duration(to: deadline)
        guard remaining > .zero else { return (collected, false) }
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let millis = Int32(remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000 + 1)
        let ready = poll(&pfd, 1, millis)
        if ready < 0 { return (collected, true) }
        if ready == 0 { continue }
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count <= 0 { return (collected, true) }
        collected += buffer[0..<count]
      }
      return (collected, false)
    }
  }

  /// Reads one whole response (head plus `Content-Length` body).
  func readResponse(timeout: Duration = .seconds(30)) async -> RawResponse? {
    let (bytes, _) = await read(timeout: timeout) { RawResponse.parse($0) != nil }
    return RawResponse.parse(bytes)
  }

  /// Half-closes the sending side.
  func shutdownWrite() {
    _ = shutdown(fd, Int32(SHUT_WR))
  }
}

/// A response as seen on the wire.
struct RawResponse {
  var status: Int
  var headers: [String: String]
  var body: String
  /// How many bytes of the input this response used.
  var length: Int

  /// Parses the first response in `bytes`, or nil if it is not complete.
  static func parse(_ bytes: [UInt8]) -> RawResponse? {
    let text = String(decoding: bytes, as: UTF8.self)
    guard let headEnd = text.range(of: "\r\n\r\n") else { return nil }
    let lines = text[..<headEnd.lowerBound].components(separatedBy: "\r\n")
    guard let statusLine = lines.first else { return nil }
    let parts = statusLine.split(separator: " ", maxSplits: 2)
    guard parts.count >= 2, let status = Int(parts[1]) else { return nil }
    var headers: [String: String] = [:]
    for line in lines.dropFirst() {
      guard let colon = line.firstIndex(of: ":") else { continue }
      headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    let headBytes = text[..<headEnd.upperBound].utf8.count
    let length = Int(headers["content-length"] ?? "0") ?? 0
    guard bytes.count >= headBytes + length else { return nil }
    let body = String(decoding: bytes[headBytes..<(headBytes + length)], as: UTF8.self)
    return RawResponse(status: status, headers: headers, body: body, length: headBytes + length)
  }
}
