import BridgeCore
import Foundation
import Jira

/// Jira updates that could not be made, kept for `testbridge flush`:
/// `<spool>/jira-<stamp>-<random>.json`, beside the Testomat.io spool entries.
///
/// It holds the computed per-issue updates and, when the scope search itself could not run,
/// what is needed to run it again (the JQL and the outcomes of the tests that carry a key or a
/// Testomat.io id). It never holds a credential: `flush` reads the token from the environment.
/// Files are written to a temporary name, synced and renamed.
struct JiraSpoolFile: Sendable, Codable {
  /// Where the updates go (no credentials).
  struct Site: Sendable, Hashable, Codable {
    var url: String
    var deployment: String
    var apiVersion: String
    var cloudID: String?
    var gatewayURL: String?

    init(_ config: JiraConfig) {
      url = config.siteURL.absoluteString
      deployment = config.deployment.rawValue
      apiVersion = config.apiVersion.rawValue
      cloudID = config.cloudID
      gatewayURL = config.cloudID == nil ? nil : config.gatewayURL.absoluteString
    }

    enum CodingKeys: String, CodingKey {
      case url, deployment
      case apiVersion = "api_version"
      case cloudID = "cloud_id"
      case gatewayURL = "gateway_url"
    }
  }

  /// A scope search that has still to run.
  struct DeferredScope: Sendable, Codable {
    var jql: String
    var projectSlug: String?
    /// The Testomat.io server to ask `test_grep` (the key comes from the environment).
    var testomatioURL: String?
    var index: JiraResultIndex
    /// Issues already updated (or pending in ``JiraSpoolFile/updates``) with their final counts.
    var settled: [String]

    enum CodingKeys: String, CodingKey {
      case jql
      case projectSlug = "project_slug"
      case testomatioURL = "testomatio_url"
      case index, settled
    }
  }

  static let currentVersion = 1

  var version = JiraSpoolFile.currentVersion
  var createdAt: String
  var site: Site
  var level: JiraWriteLevel
  var comment: Bool
  var run: JiraRunReference
  var updates: [JiraIssueUpdate]
  var deferredScope: DeferredScope?

  enum CodingKeys: String, CodingKey {
    case version
    case createdAt = "created_at"
    case site, level, comment, run, updates
    case deferredScope = "deferred_scope"
  }

  /// The issues still to update (deferred scope issues not counted).
  var pendingIssues: Int { updates.count }

  // MARK: - Files

  static let prefix = "jira-"

  /// Spooled Jira files in `root`, oldest first.
  static func files(in root: URL) -> [URL] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
    return names.filter { $0.hasPrefix(prefix) && $0.hasSuffix(".json") }.sorted().map { root.appendingPathComponent($0) }
  }

  /// A new file name in `root` for a run finished at `date`.
  static func newURL(in root: URL, date: Date) -> URL {
    let stamp = JiraRunReference.timestamp(date).replacingOccurrences(of: ":", with: "")
    return root.appendingPathComponent("\(prefix)\(stamp)-\(UUID().uuidString.prefix(8).lowercased()).json")
  }

  static func read(_ url: URL) throws(CLIError) -> JiraSpoolFile {
    do {
      return try JSONDecoder().decode(JiraSpoolFile.self, from: Data(contentsOf: url))
    } catch {
      throw CLIError("the Jira spool file '\(url.path)' is unreadable: \(error.localizedDescription)")
    }
  }

  /// Writes atomically (temporary name, fsync, rename), mode 0600, creating the folder.
  func write(to url: URL) throws(CLIError) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]
    let data: Data
    do {
      data = try encoder.encode(self)
      try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    } catch {
      throw CLIError("cannot write the Jira spool file '\(url.path)': \(error.localizedDescription)")
    }
    let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp")
    let failure = data.withUnsafeBytes {
      FileDescriptorIO.writeAtomically($0, to: url.path, temporary: temporary.path, mode: 0o600)
    }
    if let failure { throw CLIError("cannot write the Jira spool file '\(url.path)': \(failure)") }
  }
}
