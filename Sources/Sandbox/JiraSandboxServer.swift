import BridgeCore
import Foundation
import HTTPServer

/// A ``JiraEmulator`` served over HTTP on loopback.
///
/// ```swift
/// let sandbox = JiraSandboxServer()
/// let baseURL = try await sandbox.start()   // http://127.0.0.1:<port>
/// await sandbox.emulator.seedIssue(key: "ABC-1")
/// … point JIRA_URL at baseURL with JIRA_EMAIL bridge@example.com and JIRA_API_TOKEN
///   jira-sandbox-token (Cloud), or JIRA_PAT jira-sandbox-pat (Data Center) …
/// let state = await sandbox.emulator.state()
/// await sandbox.stop()
/// ```
public final class JiraSandboxServer: Sendable {
  /// The emulator answering requests; inspect or script it in-process.
  public let emulator: JiraEmulator
  private let host: LoopbackHost

  /// - Parameters:
  ///   - emulator: the emulator to serve (default credentials, see ``JiraEmulator``).
  ///   - configuration: listen address and limits; port 0 (the default) picks a free port.
  public init(emulator: JiraEmulator = JiraEmulator(), configuration: ServerConfiguration = ServerConfiguration()) {
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
    return try await host.start { request in await emulator.handle(request) }
  }

  /// Stops serving (see ``HTTPServer/stop(graceful:)``).
  public func stop(graceful: Bool = true) async {
    await host.stop(graceful: graceful)
  }
}
