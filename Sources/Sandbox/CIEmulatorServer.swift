import BridgeCore
import Foundation
import HTTPServer

/// The GitHub and GitLab emulators served together over HTTP on loopback.
///
/// Point `GITHUB_API_URL` and `GITLAB_URL` at the base URL: GitLab's routes are under
/// `/api/v4/`, everything else goes to GitHub. Control routes:
/// - `GET /_sandbox/ci/state`: ``CISandboxState`` (no tokens in it);
/// - `POST /_sandbox/ci/reset`: forget everything;
/// - `POST|DELETE /_sandbox/ci/github/faults` and `/_sandbox/ci/gitlab/faults`: fault rules
///   in the ``SandboxFault`` JSON form, e.g. `[{"status": 500, "times": 2}]`.
///
/// ```swift
/// let ci = CISandboxServer()
/// let base = try await ci.start()
/// … GITHUB_API_URL=base, GITHUB_TOKEN=ci.github.token …
/// let dispatches = await ci.state().dispatches
/// await ci.stop()
/// ```
public final class CISandboxServer: Sendable {
  public let github: GitHubEmulator
  public let gitlab: GitLabEmulator
  private let host: LoopbackHost

  public init(
    github: GitHubEmulator = GitHubEmulator(),
    gitlab: GitLabEmulator = GitLabEmulator(),
    configuration: ServerConfiguration = ServerConfiguration()
  ) {
    self.github = github
    self.gitlab = gitlab
    self.host = LoopbackHost(configuration: configuration)
  }

  /// The base URL while running.
  public var baseURL: URL? { host.baseURL }

  /// Both emulators' state.
  public func state() async -> CISandboxState {
    CISandboxState(github: await github.state(), gitlab: await gitlab.state())
  }

  /// Starts serving and returns the base URL, `http://127.0.0.1:<port>`.
  @discardableResult
  public func start() async throws(HTTPServerError) -> URL {
    let github = github
    let gitlab = gitlab
    return try await host.start { request in
      await CISandboxServer.route(request, github: github, gitlab: gitlab)
    } announce: { await gitlab.setBaseURL($0) }
  }

  /// Stops serving (see ``HTTPServer/stop(graceful:)``).
  public func stop(graceful: Bool = true) async {
    await host.stop(graceful: graceful)
  }

  static func route(_ request: ServerRequest, github: GitHubEmulator, gitlab: GitLabEmulator) async
    -> ServerResponse
  {
    let path = request.path
    if path == "/_sandbox/ci" || path.hasPrefix("/_sandbox/ci/") {
      return await control(request, github: github, gitlab: gitlab)
    }
    if path.hasPrefix("/api/v4/") {
      return await gitlab.handle(request)
    }
    return await github.handle(request)
  }

  private static func control(_ request: ServerRequest, github: GitHubEmulator, gitlab: GitLabEmulator) async
    -> ServerResponse
  {
    let segments = request.path.split(separator: "/").dropFirst(2).map(String.init)
    let faultsOf: String? =
      segments.count == 2 && segments[1] == "faults" && (segments[0] == "github" || segments[0] == "gitlab")
      ? segments[0] : nil
    switch (request.method, segments) {
    case ("GET", ["state"]):
      return ServerResponse.json(CISandboxState(github: await github.state(), gitlab: await gitlab.state()))
    case ("POST", ["reset"]):
      await github.reset()
      await gitlab.reset()
      return ServerResponse.json(JSONValue.object(["status": .string("reset")]))
    case ("POST", _) where faultsOf != nil:
      switch SandboxFault.parseRules(request.body) {
      case .failure(let failure):
        return GitLabEmulator.message(failure.message, failure.status)
      case .success(let rules):
        if faultsOf == "github" { await github.setFaults(rules) } else { await gitlab.setFaults(rules) }
        return ServerResponse.json(JSONValue.object(["rules": .integer(Int64(rules.count))]))
      }
    case ("DELETE", _) where faultsOf != nil:
      if faultsOf == "github" { await github.setFaults([]) } else { await gitlab.setFaults([]) }
      return ServerResponse.json(JSONValue.object(["rules": .integer(0)]))
    default:
      return GitLabEmulator.message("no sandbox route matches '\(request.method) \(request.path)'", 404)
    }
  }
}
