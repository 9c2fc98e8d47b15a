import BridgeHTTP
import Foundation
import Jira
import Sandbox

/// Credentials the Jira emulator accepts by default.
enum SandboxCredentials {
  static let email = "bridge@example.com"
  static let apiToken = "jira-sandbox-token"
  static let pat = "jira-sandbox-pat"
  static let cloudID = "sandbox-cloud"
}

/// A Cloud configuration (REST v3, basic auth) for `base`.
func cloudConfig(_ base: URL) -> JiraConfig {
  JiraConfig(
    siteURL: base, auth: .basic(email: SandboxCredentials.email, apiToken: SandboxCredentials.apiToken),
    deployment: .cloud)
}

/// A Data Center configuration (REST v2, bearer PAT) for `base`.
func dataCenterConfig(_ base: URL) -> JiraConfig {
  JiraConfig(siteURL: base, auth: .bearer(token: SandboxCredentials.pat), deployment: .dataCenter)
}

/// Runs `body` against a fresh Jira emulator on 127.0.0.1 with a real URLSession transport,
/// and always stops both.
func withJiraSandbox(
  _ body: (JiraSandboxServer, URL, URLSessionTransport) async throws -> Void
) async throws {
  let sandbox = JiraSandboxServer()
  let base = try await sandbox.start()
  let transport = URLSessionTransport(defaultTimeout: 10)
  do {
    try await body(sandbox, base, transport)
  } catch {
    transport.invalidate()
    await sandbox.stop(graceful: false)
    throw error
  }
  transport.invalidate()
  await sandbox.stop(graceful: false)
}

/// The JiraError a throwing call produced, or nil when it did not throw (or threw another error).
func jiraError<T>(_ body: () async throws -> T) async -> JiraError? {
  do {
    _ = try await body()
    return nil
  } catch {
    return error as? JiraError
  }
}

extension Data {
  var text: String { String(decoding: self, as: UTF8.self) }
}
