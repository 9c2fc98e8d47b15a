import BridgeCore
import Foundation
import HTTPServer

/// A ``TestomatioEmulator`` served over HTTP on loopback.
///
/// ```swift
/// let sandbox = SandboxServer()
/// let baseURL = try await sandbox.start()   // http://127.0.0.1:<port>
/// … point the client at baseURL with API key "tstmt_sandbox" …
/// let state = await sandbox.emulator.state()
/// await sandbox.stop()
/// ```
public final class SandboxServer: Sendable {
  /// The emulator answering requests; inspect or script it in-process.
  public let emulator: TestomatioEmulator
  private let host: LoopbackHost

  /// - Parameters:
  ///   - emulator: the emulator to serve (default key `tstmt_sandbox`, project `sandbox`).
  ///   - configuration: listen address and limits; port 0 (the default) picks a free port.
  public init(
    emulator: TestomatioEmulator = TestomatioEmulator(),
    configuration: ServerConfiguration = ServerConfiguration()
  ) {
    self.emulator = emulator
    self.host = LoopbackHost(configuration: configuration)
  }

  /// The base URL while running, e.g. `http://127.0.0.1:53124`.
  public var baseURL: URL? { host.baseURL }

  /// Starts serving and returns the base URL, `http://127.0.0.1:<port>`.
  ///
  /// - Throws: ``HTTPServerError`` when the server cannot listen.
  @discardableResult
  public func start() async throws(HTTPServerError) -> URL {
    let emulator = emulator
    return try await host.start { request in
      await emulator.handle(request)
    } announce: { await emulator.setBaseURL($0) }
  }

  /// Stops serving (see ``HTTPServer/stop(graceful:)``).
  public func stop(graceful: Bool = true) async {
    await host.stop(graceful: graceful)
  }
}
