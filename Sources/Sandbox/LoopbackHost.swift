import BridgeCore
import Foundation
import HTTPServer

/// The HTTP server behind one sandbox server, and its base URL while it runs.
///
/// Each sandbox server (Testomat.io, Jira, CI) serves its emulators through one of
/// these, so they start, name their URL and stop the same way.
final class LoopbackHost: Sendable {
  private let server: HTTPServer
  private let base = Locked<URL?>(nil)

  init(configuration: ServerConfiguration) {
    server = HTTPServer(configuration: configuration)
  }

  /// The base URL while running, e.g. `http://127.0.0.1:53124`.
  var baseURL: URL? { base.withLock { $0 } }

  /// Starts serving and returns the base URL, `http://127.0.0.1:<port>` (an IPv6
  /// host in brackets). `announce` gets the URL's text before the URL is
  /// published, so an emulator that writes its own links knows them before the
  /// first request can be answered with the new address.
  func start(
    handler: @escaping HTTPServer.Handler, announce: @Sendable (String) async -> Void = { _ in }
  ) async throws(HTTPServerError) -> URL {
    let port = try server.start(handler: handler)
    let host = server.configuration.host
    let hostPart = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
    let text = "http://\(hostPart):\(port)"
    guard let url = URL(string: text) else {
      await server.stop(graceful: false)
      throw .invalidHost(host)
    }
    await announce(text)
    base.withLock { $0 = url }
    return url
  }

  /// Stops serving (see ``HTTPServer/stop(graceful:)``).
  func stop(graceful: Bool) async {
    await server.stop(graceful: graceful)
    base.withLock { $0 = nil }
  }
}
