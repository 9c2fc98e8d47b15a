/// Listen address, limits and timeouts of an ``HTTPServer``.
public struct ServerConfiguration: Sendable, Hashable {
  /// The address to listen on: an IPv4 or IPv6 literal, or `localhost` (= 127.0.0.1).
  public var host: String
  /// The port; 0 picks a free ephemeral port, which ``HTTPServer/start(handler:)`` returns.
  public var port: Int
  /// The largest request line plus header section accepted; larger requests get 431.
  public var maxHeaderBytes: Int
  /// The largest request body accepted (after de-chunking); larger bodies get 413.
  public var maxBodyBytes: Int
  /// How long a client may take to send one whole request, and how long an idle
  /// keep-alive connection is kept; slower clients get 408 and are disconnected.
  public var readTimeout: Duration
  /// The most connections served at once; further clients are answered 503 and closed.
  public var maxConnections: Int
  /// How long a graceful stop waits for in-flight requests before closing them.
  public var shutdownGracePeriod: Duration
  /// Permits listening on a non-loopback address; off by default so nothing is exposed by accident.
  public var allowNonLoopback: Bool

  public init(
    host: String = "127.0.0.1",
    port: Int = 0,
    maxHeaderBytes: Int = 16 * 1024,
    maxBodyBytes: Int = 10 * 1024 * 1024,
    readTimeout: Duration = .seconds(10),
    maxConnections: Int = 64,
    shutdownGracePeriod: Duration = .seconds(30),
    allowNonLoopback: Bool = false
  ) {
    self.host = host
    self.port = port
    self.maxHeaderBytes = maxHeaderBytes
    self.maxBodyBytes = maxBodyBytes
    self.readTimeout = readTimeout
    self.maxConnections = maxConnections
    self.shutdownGracePeriod = shutdownGracePeriod
    self.allowNonLoopback = allowNonLoopback
  }

  /// The limits the request parser enforces.
  public var parserLimits: HTTPRequestParser.Limits {
    HTTPRequestParser.Limits(maxHeaderBytes: maxHeaderBytes, maxBodyBytes: maxBodyBytes)
  }

  /// Checks ranges; throws ``HTTPServerError/invalidConfiguration(_:)``.
  func validate() throws(HTTPServerError) {
    guard (0...65535).contains(port) else {
      throw .invalidConfiguration("port \(port) is outside 0...65535")
    }
    guard maxHeaderBytes >= 64 else {
      throw .invalidConfiguration("maxHeaderBytes \(maxHeaderBytes) is below 64")
    }
    guard maxBodyBytes >= 0 else {
      throw .invalidConfiguration("maxBodyBytes \(maxBodyBytes) is negative")
    }
    guard maxConnections >= 1 else {
      throw .invalidConfiguration("maxConnections \(maxConnections) is below 1")
    }
    guard readTimeout > .zero else {
      throw .invalidConfiguration("readTimeout must be positive")
    }
  }
}
