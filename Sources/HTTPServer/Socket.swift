#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Thin wrappers over BSD socket calls: the only place that touches file descriptors.
enum Socket {
  /// An address to listen on, checked for the loopback rule.
  struct ListenAddress {
    var family: Int32
    var host: String
    var port: Int
    var isLoopback: Bool
    /// The raw address bytes: 4 for IPv4, 16 for IPv6.
    var addressBytes: [UInt8]

    /// `host:port`, with brackets around IPv6 hosts.
    var display: String { family == AF_INET6 ? "[\(host)]:\(port)" : "\(host):\(port)" }
  }

  /// Parses an address literal (or `localhost`) without any name lookup.
  static func resolve(host: String, port: Int) throws(HTTPServerError) -> ListenAddress {
    let literal = host == "localhost" ? "127.0.0.1" : host
    var v4 = in_addr()
    if inet_pton(AF_INET, literal, &v4) == 1 {
      let bytes = withUnsafeBytes(of: &v4) { Array($0) }
      return ListenAddress(
        family: AF_INET, host: literal, port: port, isLoopback: bytes.first == 127,
        addressBytes: bytes)
    }
    var v6 = in6_addr()
    let bare = literal.hasPrefix("[") && literal.hasSuffix("]") ? String(literal.dropFirst().dropLast()) : literal
    if inet_pton(AF_INET6, bare, &v6) == 1 {
      let bytes = withUnsafeBytes(of: &v6) { Array($0) }
      let loopback6 = bytes == Array(repeating: 0, count: 15) + [1]
      // IPv4-mapped loopback, ::ffff:127.x.y.z
      let mapped = Array(bytes[0..<10]) == Array(repeating: 0, count: 10)
        && bytes[10] == 0xFF && bytes[11] == 0xFF && bytes[12] == 127
      return ListenAddress(
        family: AF_INET6, host: bare, port: port, isLoopback: loopback6 || mapped,
        addressBytes: bytes)
    }
    throw .invalidHost(host)
  }

  /// Creates a non-blocking listening socket with `SO_REUSEADDR`; returns it and the bound port.
  static func makeListener(on address: ListenAddress, backlog: Int32) throws(HTTPServerError) -> (
    fd: Int32, port: Int
  ) {
    let fd = socket(address.family, Int32(streamType) | Int32(cloexecFlag), 0)
    guard fd >= 0 else { throw socketError("socket") }
    var ok = false
    defer { if !ok { _ = close(fd) } }

    var one: Int32 = 1
    guard setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size)) == 0
    else { throw socketError("setsockopt(SO_REUSEADDR)") }

    let bindResult: Int32
    if address.family == AF_INET {
      var sin = sockaddr_in()
      sin.sin_family = sa_family_t(AF_INET)
      sin.sin_port = in_port_t(UInt16(address.port).bigEndian)
      withUnsafeMutableBytes(of: &sin.sin_addr) { raw in
        for (index, byte) in address.addressBytes.prefix(4).enumerated() { raw[index] = byte }
      }
      bindResult = withUnsafePointer(to: &sin) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
          bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
      }
    } else {
      var sin6 = sockaddr_in6()
      sin6.sin6_family = sa_family_t(AF_INET6)
      sin6.sin6_port = in_port_t(UInt16(address.port).bigEndian)
      withUnsafeMutableBytes(of: &sin6.sin6_addr) { raw in
        for (index, byte) in address.addressBytes.prefix(16).enumerated() { raw[index] = byte }
      }
      bindResult = withUnsafePointer(to: &sin6) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
          bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
        }
      }
    }
    guard bindResult == 0 else {
      let code = errno
      throw .bindFailed(address: address.display, errno: code, message: errorText(code))
    }
    guard listen(fd, backlog) == 0 else { throw socketError("listen") }
    guard setNonBlocking(fd) else { throw socketError("fcntl(O_NONBLOCK)") }

    var storage = sockaddr_storage()
    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
    let named = withUnsafeMutablePointer(to: &storage) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard named == 0 else { throw socketError("getsockname") }
    let port: UInt16 = withUnsafePointer(to: &storage) { pointer in
      if address.family == AF_INET {
        return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
          UInt16(bigEndian: $0.pointee.sin_port)
        }
      }
      return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
        UInt16(bigEndian: $0.pointee.sin6_port)
      }
    }
    ok = true
    return (fd, Int(port))
  }

  /// Accepts one connection; nil when none is pending or the call failed transiently.
  static func accept(_ listener: Int32) -> Int32? {
    let fd = Glibc.accept(listener, nil, nil)
    guard fd >= 0 else { return nil }
    // Accepted sockets do not inherit O_NONBLOCK on Linux; they block, which the
    // connection threads rely on. Keep them out of child processes.
    _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
    return fd
  }

  /// Per-connection options: no Nagle delay and a send timeout so a client that never
  /// reads cannot hold a connection thread forever.
  static func configureConnection(_ fd: Int32, sendTimeout: Duration) {
    var one: Int32 = 1
    _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    let parts = sendTimeout.components
    var timeout = timeval(
      tv_sec: Int(parts.seconds), tv_usec: Int(parts.attoseconds / 1_000_000_000_000))
    _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
  }

  /// A pipe whose read end becomes readable (and stays readable) once signalled.
  static func makePipe() throws(HTTPServerError) -> (read: Int32, write: Int32) {
    var fds: [Int32] = [-1, -1]
    guard pipe(&fds) == 0 else { throw socketError("pipe") }
    for fd in fds {
      _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
      _ = setNonBlocking(fd)
    }
    return (fds[0], fds[1])
  }

  /// Writes one byte to a pipe, ignoring a full pipe (already signalled).
  static func signal(pipe fd: Int32) {
    var byte: UInt8 = 1
    _ = write(fd, &byte, 1)
  }

  enum PollOutcome {
    case readable
    case woken
    case timedOut
    case failed
  }

  /// Waits until `fd` is readable, the wake pipe is signalled, or the deadline passes.
  static func waitReadable(_ fd: Int32, wake: Int32?, deadline: ContinuousClock.Instant?)
    -> PollOutcome
  {
    while true {
      var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0)]
      if let wake { fds.append(pollfd(fd: wake, events: Int16(POLLIN), revents: 0)) }
      var timeout: Int32 = -1
      if let deadline {
        let remaining = ContinuousClock.now.duration(to: deadline)
        if remaining <= .zero { return .timedOut }
        // poll(2) takes at most Int32.max ms (~24 days); a farther deadline waits in rounds.
        let parts = remaining.components
        if parts.seconds >= Int64(Int32.max / 1000) {
          timeout = Int32.max
        } else {
          timeout = Int32(parts.seconds * 1000 + parts.attoseconds / 1_000_000_000_000_000 + 1)
        }
      }
      let count = poll(&fds, nfds_t(fds.count), timeout)
      if count < 0 {
        if errno == EINTR { continue }
        return .failed
      }
      if count == 0 { continue }  // re-check the deadline
      if fds.count > 1, fds[1].revents != 0 { return .woken }
      if fds[0].revents != 0 { return .readable }
    }
  }

  /// Reads into `buffer`; returns the count, 0 at end of stream, nil on error.
  static func read(_ fd: Int32, into buffer: inout [UInt8]) -> Int? {
    while true {
      let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
      if count >= 0 { return count }
      if errno == EINTR { continue }
      if errno == EAGAIN || errno == EWOULDBLOCK { return nil }
      return nil
    }
  }

  /// Sends every byte; false when the peer went away or the send timed out.
  static func sendAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
    var offset = 0
    while offset < bytes.count {
      let sent = bytes.withUnsafeBytes { raw in
        send(fd, raw.baseAddress.map { $0 + offset }, raw.count - offset, Int32(MSG_NOSIGNAL))
      }
      if sent < 0 {
        if errno == EINTR { continue }
        return false
      }
      offset += sent
    }
    return true
  }

  /// Sends our FIN, then reads and discards what the client still sends (for at most
  /// `limit`), so an answer sent before the request was fully read reaches the
  /// client instead of being destroyed by a reset. The caller closes the descriptor.
  static func lingeringDrain(_ fd: Int32, limit: Duration) {
    _ = shutdown(fd, Int32(SHUT_WR))
    let deadline = ContinuousClock.now.advanced(by: limit)
    var scratch = [UInt8](repeating: 0, count: 16 * 1024)
    while case .readable = waitReadable(fd, wake: nil, deadline: deadline) {
      guard let count = read(fd, into: &scratch), count > 0 else { break }
    }
  }

  /// Sends our FIN; the caller closes the descriptor.
  static func shutdownWrite(_ fd: Int32) {
    _ = shutdown(fd, Int32(SHUT_WR))
  }

  /// Shuts both directions down, waking any thread blocked on the descriptor.
  static func shutdownBoth(_ fd: Int32) {
    _ = shutdown(fd, Int32(SHUT_RDWR))
  }

  /// Makes the coming close send a TCP reset (RST) instead of FIN: SO_LINGER with a zero timeout.
  ///
  /// A reset discards what is still in the send queue, so this first waits (at most
  /// `limit`) until the peer has acknowledged everything sent: the bytes already sent
  /// arrive, then the reset.
  static func resetOnClose(_ fd: Int32, limit: Duration = .seconds(1)) {
    let deadline = ContinuousClock.now.advanced(by: limit)
    var unacknowledged: Int32 = 0
    while ioctl(fd, UInt(TIOCOUTQ), &unacknowledged) == 0, unacknowledged > 0, ContinuousClock.now < deadline {
      usleep(1_000)
    }
    var option = linger(l_onoff: 1, l_linger: 0)
    _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
  }

  static func closeDescriptor(_ fd: Int32) {
    _ = close(fd)
  }

  static func setNonBlocking(_ fd: Int32) -> Bool {
    let flags = fcntl(fd, F_GETFL)
    return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0
  }

  static func errorText(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "error \(code)" }
    return String(cString: text)
  }

  private static func socketError(_ call: String) -> HTTPServerError {
    let code = errno
    return .socketFailed(call: call, errno: code, message: errorText(code))
  }

  #if canImport(Glibc)
    private static let streamType = Int32(SOCK_STREAM.rawValue)
    private static let cloexecFlag = Int32(SOCK_CLOEXEC.rawValue)
  #else
    private static let streamType = SOCK_STREAM
    private static let cloexecFlag = SOCK_CLOEXEC
  #endif
}
