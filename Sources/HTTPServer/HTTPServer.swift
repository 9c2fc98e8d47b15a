import BridgeCore
import Dispatch
import Foundation

/// A small HTTP/1.1 server over BSD sockets, for the sandbox emulators and `testbridge serve`.
///
/// Blocking socket work happens on dedicated threads (one accept thread, one thread
/// per connection), never on the Swift concurrency pool; each request is handled
/// in its own task. It listens on loopback only unless
/// ``ServerConfiguration/allowNonLoopback`` is set.
///
/// ```swift
/// let server = HTTPServer(configuration: ServerConfiguration())
/// let port = try server.start { request in .text("hello") }
/// …
/// await server.stop(graceful: true)
/// ```
///
/// Always call ``stop(graceful:)``: the server's threads keep it alive until then.
public final class HTTPServer: Sendable {
  /// Handles one request and produces the response.
  public typealias Handler = @Sendable (ServerRequest) async -> ServerResponse

  /// The configuration the server was created with.
  public let configuration: ServerConfiguration
  private let state = Locked(State())

  /// Connections answered 503 at once; beyond that, over-limit clients are closed without an answer.
  private static let maxRejecting = 16
  /// How long a closing connection keeps reading what the client still sends.
  private static let lingerLimit: Duration = .seconds(1)
  private static let listenBacklog: Int32 = 128

  public init(configuration: ServerConfiguration = ServerConfiguration()) {
    self.configuration = configuration
  }

  deinit {
    state.withLock { state in
      if let wake = state.wake {
        Socket.closeDescriptor(wake.read)
        Socket.closeDescriptor(wake.write)
        state.wake = nil
      }
    }
  }

  /// The bound port while running, or nil.
  public var port: Int? {
    state.withLock { $0.phase == .running ? $0.port : nil }
  }

  /// Binds, listens and starts accepting connections.
  ///
  /// - Parameter handler: called once per request, each call in its own task.
  /// - Returns: the bound port (the ephemeral one when the configured port is 0).
  /// - Throws: ``HTTPServerError`` when the configuration is invalid, the host is
  ///   not loopback (and not explicitly allowed), binding fails, or the server was
  ///   already started or stopped.
  @discardableResult
  public func start(handler: @escaping Handler) throws(HTTPServerError) -> Int {
    try configuration.validate()
    let address = try Socket.resolve(host: configuration.host, port: configuration.port)
    guard address.isLoopback || configuration.allowNonLoopback else {
      throw .nonLoopbackRefused(host: configuration.host)
    }
    try state.withLock { (state: inout State) throws(HTTPServerError) in
      switch state.phase {
      case .idle: break
      case .stopping, .stopped: throw .stopped
      case .starting, .running: throw .alreadyStarted
      }
      state.phase = .starting
    }
    let listener: (fd: Int32, port: Int)
    let wake: (read: Int32, write: Int32)
    do throws(HTTPServerError) {
      listener = try Socket.makeListener(on: address, backlog: Self.listenBacklog)
    } catch {
      state.withLock { $0.phase = .idle }
      throw error
    }
    do throws(HTTPServerError) {
      wake = try Socket.makePipe()
    } catch {
      Socket.closeDescriptor(listener.fd)
      state.withLock { $0.phase = .idle }
      throw error
    }
    let stillStarting = state.withLock { state -> Bool in
      guard state.phase == .starting else { return false }
      state.phase = .running
      state.port = listener.port
      state.wake = wake
      state.acceptLoopRunning = true
      return true
    }
    guard stillStarting else {
      // stop() ran while the socket was being set up.
      Socket.closeDescriptor(listener.fd)
      Socket.closeDescriptor(wake.read)
      Socket.closeDescriptor(wake.write)
      throw .stopped
    }
    spawn(name: "HTTPServer accept :\(listener.port)") { [self] in
      acceptLoop(listener: listener.fd, wake: wake.read, handler: handler)
    }
    return listener.port
  }

  /// Stops accepting connections and closes the open ones.
  ///
  /// - Parameter graceful: when true, requests being received or handled are
  ///   finished and answered (with `Connection: close`) first, for at most
  ///   ``ServerConfiguration/shutdownGracePeriod``; idle connections are closed at
  ///   once. When false, every connection is closed immediately and running
  ///   handlers are cancelled.
  public func stop(graceful: Bool = true) async {
    let mustWait = state.withLock { state -> Bool in
      switch state.phase {
      case .idle:
        state.phase = .stopped
        return false
      case .starting, .running:
        state.phase = .stopping
        if let wake = state.wake { Socket.signal(pipe: wake.write) }
      case .stopping, .stopped:
        break
      }
      if !graceful { state.forceClose() }
      return true
    }
    guard mustWait else { return }
    if graceful {
      if await !waitUntilFinished(timeout: configuration.shutdownGracePeriod) {
        state.withLock { $0.forceClose() }
        _ = await waitUntilFinished(timeout: nil)
      }
    } else {
      _ = await waitUntilFinished(timeout: nil)
    }
    state.withLock { state in
      state.phase = .stopped
      if let wake = state.wake {
        Socket.closeDescriptor(wake.read)
        Socket.closeDescriptor(wake.write)
        state.wake = nil
      }
    }
  }

  // MARK: Accepting

  private func acceptLoop(listener: Int32, wake: Int32, handler: @escaping Handler) {
    acceptance: while true {
      switch Socket.waitReadable(listener, wake: wake, deadline: nil) {
      case .woken, .failed:
        break acceptance
      case .timedOut:
        continue
      case .readable:
        while let fd = Socket.accept(listener) {
          admit(fd, handler: handler)
        }
        if errno == EMFILE || errno == ENFILE {
          // Out of descriptors: back off instead of spinning on a readable listener.
          Thread.sleep(forTimeInterval: 0.05)
        }
      }
    }
    Socket.closeDescriptor(listener)
    let waiters = state.withLock { state in
      state.acceptLoopRunning = false
      return state.takeWaitersIfFinished()
    }
    for waiter in waiters { waiter.resume(returning: true) }
  }

  private enum Admission {
    case serve(UInt64)
    case reject(UInt64)
    case refuse
  }

  private func admit(_ fd: Int32, handler: @escaping Handler) {
    let maxConnections = configuration.maxConnections
    let admission = state.withLock { state -> Admission in
      guard state.phase == .running else { return .refuse }
      let id = state.nextConnectionID
      state.nextConnectionID += 1
      let serving = state.connections.values.count { $0.counted }
      if serving >= maxConnections {
        guard state.connections.count - serving < Self.maxRejecting else { return .refuse }
        state.connections[id] = Connection(fd: fd, counted: false)
        return .reject(id)
      }
      state.connections[id] = Connection(fd: fd, counted: true)
      return .serve(id)
    }
    let readTimeout = configuration.readTimeout
    switch admission {
    case .refuse:
      Socket.closeDescriptor(fd)
    case .reject(let id):
      spawn(name: "HTTPServer reject #\(id)") { [self] in
        Socket.configureConnection(fd, sendTimeout: readTimeout)
        var response = ServerResponse.text(
          "server busy: more than \(maxConnections) connections\n", status: 503)
        response.headers["Retry-After"] = "1"
        let bytes = ResponseWriter.bytes(for: response, method: nil, keepAlive: false)
        if Socket.sendAll(fd, bytes) {
          Socket.lingeringDrain(fd, limit: Self.lingerLimit)
        }
        retire(id)
      }
    case .serve(let id):
      spawn(name: "HTTPServer connection #\(id)") { [self] in
        Socket.configureConnection(fd, sendTimeout: readTimeout)
        let ending = serveConnection(id: id, fd: fd, handler: handler)
        switch ending {
        case .graceful: Socket.shutdownWrite(fd)
        case .linger: Socket.lingeringDrain(fd, limit: Self.lingerLimit)
        case .abrupt: break
        }
        retire(id)
      }
    }
  }

  /// Unregisters a connection and closes its descriptor under the lock, so a forced
  /// stop never shuts down a descriptor number that was already reused.
  private func retire(_ id: UInt64) {
    let waiters = state.withLock { state in
      if let connection = state.connections.removeValue(forKey: id) {
        Socket.closeDescriptor(connection.fd)
      }
      return state.takeWaitersIfFinished()
    }
    for waiter in waiters { waiter.resume(returning: true) }
  }

  // MARK: Serving a connection

  private enum Ending {
    /// Send FIN and close.
    case graceful
    /// Send FIN, drain what the client still sends, then close.
    case linger
    /// Close without further ado.
    case abrupt
  }

  private func serveConnection(id: UInt64, fd: Int32, handler: @escaping Handler) -> Ending {
    var parser = HTTPRequestParser(limits: configuration.parserLimits)
    var scratch = [UInt8](repeating: 0, count: 64 * 1024)
    guard let wake = state.withLock({ $0.wake?.read }) else { return .abrupt }

    while true {
      // Read one whole request within the read timeout.
      let deadline = ContinuousClock.now.advanced(by: configuration.readTimeout)
      var received: ServerRequest?
      while received == nil {
        do {
          received = try parser.nextRequest()
        } catch {
          let status = error.responseStatus ?? 400
          let response = ServerResponse.text("\(error.description)\n", status: status)
          _ = Socket.sendAll(fd, ResponseWriter.bytes(for: response, method: nil, keepAlive: false))
          return .linger
        }
        if received != nil { break }
        if parser.takeContinueRequest() {
          guard Socket.sendAll(fd, ResponseWriter.continueBytes) else { return .abrupt }
        }
        let stopping = isStopping
        if stopping && !parser.hasPartialRequest { return .graceful }
        switch Socket.waitReadable(fd, wake: stopping ? nil : wake, deadline: deadline) {
        case .woken:
          continue
        case .failed:
          return .abrupt
        case .timedOut:
          guard parser.hasPartialRequest else { return .graceful }
          let response = ServerResponse.text("request not received within the read timeout\n", status: 408)
          _ = Socket.sendAll(fd, ResponseWriter.bytes(for: response, method: nil, keepAlive: false))
          return .linger
        case .readable:
          guard let count = Socket.read(fd, into: &scratch), count > 0 else { return .abrupt }
          parser.append(scratch[0..<count])
        }
      }
      guard let request = received else { return .abrupt }

      // Handle it in a task; this dedicated thread waits for the answer.
      guard let response = runHandler(connection: id, request: request, handler: handler) else {
        return .abrupt
      }
      if response.dropsConnection { return .abrupt }
      if let cut = response.cut {
        _ = Socket.sendAll(fd, ResponseWriter.truncatedBytes(for: response, method: request.method, cut: cut))
        if cut.reset { Socket.resetOnClose(fd) }
        return .abrupt
      }
      let keepAlive = request.wantsKeepAlive && !isStopping
      let bytes = ResponseWriter.bytes(for: response, method: request.method, keepAlive: keepAlive)
      guard Socket.sendAll(fd, bytes) else { return .abrupt }
      if !keepAlive { return .graceful }
    }
  }

  /// Runs the handler in a new task and waits for it; nil when a forced stop abandoned it.
  private func runHandler(connection id: UInt64, request: ServerRequest, handler: @escaping Handler)
    -> ServerResponse?
  {
    let slot = ResponseSlot()
    let task = Task {
      let response = await handler(request)
      slot.fulfil(response)
    }
    let abandoned = state.withLock { state -> Bool in
      if state.forced { return true }
      state.connections[id]?.slot = slot
      state.connections[id]?.task = task
      return false
    }
    if abandoned {
      task.cancel()
      return nil
    }
    let response = slot.wait()
    state.withLock { state in
      state.connections[id]?.slot = nil
      state.connections[id]?.task = nil
    }
    return response
  }

  private var isStopping: Bool {
    state.withLock { $0.phase != .running }
  }

  // MARK: Waiting for the end

  /// Waits until the accept loop and every connection have ended; false on timeout.
  private func waitUntilFinished(timeout: Duration?) async -> Bool {
    let id = state.withLock { state in
      defer { state.nextWaiterID += 1 }
      return state.nextWaiterID
    }
    let timer = timeout.map { timeout in
      Task { [self] in
        guard (try? await Task.sleep(for: timeout)) != nil else { return }
        let waiter = state.withLock { state in
          if let waiter = state.waiters.removeValue(forKey: id) { return Optional(waiter) }
          state.expiredWaiters.insert(id)
          return nil
        }
        waiter?.resume(returning: false)
      }
    }
    let finished = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
      let immediate = state.withLock { state -> Bool? in
        if state.isFinished { return true }
        if state.expiredWaiters.remove(id) != nil { return false }
        state.waiters[id] = continuation
        return nil
      }
      if let immediate { continuation.resume(returning: immediate) }
    }
    timer?.cancel()
    return finished
  }

  private func spawn(name: String, _ body: @escaping @Sendable () -> Void) {
    let thread = Thread(block: body)
    thread.name = name
    thread.stackSize = 512 * 1024
    thread.start()
  }
}

// MARK: - State

extension HTTPServer {
  fileprivate enum Phase {
    case idle
    case starting
    case running
    case stopping
    case stopped
  }

  fileprivate struct Connection {
    var fd: Int32
    /// False for connections only being answered 503.
    var counted: Bool
    var slot: ResponseSlot?
    var task: Task<Void, Never>?
  }

  fileprivate struct State {
    var phase: Phase = .idle
    var port: Int?
    var wake: (read: Int32, write: Int32)?
    var acceptLoopRunning = false
    var connections: [UInt64: Connection] = [:]
    var nextConnectionID: UInt64 = 0
    var forced = false
    var waiters: [UInt64: CheckedContinuation<Bool, Never>] = [:]
    var expiredWaiters: Set<UInt64> = []
    var nextWaiterID: UInt64 = 0

    var isFinished: Bool {
      (phase == .stopping || phase == .stopped) && !acceptLoopRunning && connections.isEmpty
    }

    mutating func takeWaitersIfFinished() -> [CheckedContinuation<Bool, Never>] {
      guard isFinished else { return [] }
      defer { waiters = [:] }
      return Array(waiters.values)
    }

    /// Shuts every connection down and abandons running handlers.
    mutating func forceClose() {
      forced = true
      for connection in connections.values {
        Socket.shutdownBoth(connection.fd)
        connection.task?.cancel()
        connection.slot?.abandon()
      }
    }
  }
}

/// Hands a handler's response from its task to the waiting connection thread.
private final class ResponseSlot: Sendable {
  private let value = Locked<(response: ServerResponse?, settled: Bool)>((nil, false))
  private let semaphore = DispatchSemaphore(value: 0)

  func fulfil(_ response: ServerResponse) {
    settle(response)
  }

  func abandon() {
    settle(nil)
  }

  /// Blocks the calling (dedicated) thread until fulfilled or abandoned.
  func wait() -> ServerResponse? {
    semaphore.wait()
    return value.withLock { $0.response }
  }

  private func settle(_ response: ServerResponse?) {
    let first = value.withLock { value -> Bool in
      guard !value.settled else { return false }
      value = (response, true)
      return true
    }
    if first { semaphore.signal() }
  }
}
