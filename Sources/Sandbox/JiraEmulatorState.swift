import BridgeCore
/// Everything the Jira emulator holds and has seen, as served by `GET /_sandbox/jira/state`.
///
/// Credentials never appear here: the request log records only which kind of authentication a
/// request carried (`basic`, `bearer`, `none` or `invalid`), never a header value.
public struct JiraSandboxState: Sendable, Hashable, Codable {
  public var projects: [JiraSandboxProject]
  /// Issues in key order.
  public var issues: [JiraSandboxIssue]
  /// Jira API requests in arrival order, the most recent 10,000 (control routes excluded).
  public var requests: [JiraSandboxRequestRecord]
  /// Requests outside the operations testbridge may use at ``writeLevel``, in arrival order:
  /// answered 403, or 404 for a path outside `/rest/`.
  public var refused: [JiraSandboxRefusal]
  /// Fault rules with uses left.
  public var faults: [SandboxFault]
  /// Project permissions the sandbox account holds.
  public var permissions: [String]
  /// The largest page the search and comment routes return.
  public var maxResults: Int
  /// Whether Jira Cloud's rate limits are enforced.
  public var rateLimitsEnabled: Bool
  /// Requests answered 429 for going over a rate limit, in arrival order (`reason` is the
  /// `RateLimit-Reason` sent).
  public var rateLimited: [JiraSandboxRefusal]
  /// The widest kind of write accepted; anything above it is refused.
  public var writeLevel: JiraSandboxWriteLevel

  public init(
    projects: [JiraSandboxProject] = [], issues: [JiraSandboxIssue] = [], requests: [JiraSandboxRequestRecord] = [],
    refused: [JiraSandboxRefusal] = [], faults: [SandboxFault] = [], permissions: [String] = [], maxResults: Int = 50,
    rateLimitsEnabled: Bool = true, rateLimited: [JiraSandboxRefusal] = [], writeLevel: JiraSandboxWriteLevel = .comments
  ) {
    self.projects = projects
    self.issues = issues
    self.requests = requests
    self.refused = refused
    self.faults = faults
    self.permissions = permissions
    self.maxResults = maxResults
    self.rateLimitsEnabled = rateLimitsEnabled
    self.rateLimited = rateLimited
    self.writeLevel = writeLevel
  }

  /// The issue with `key`, or nil.
  public func issue(_ key: String) -> JiraSandboxIssue? {
    issues.first { $0.key == key }
  }

  enum CodingKeys: String, CodingKey {
    case projects, issues, requests, refused, faults, permissions
    case maxResults = "max_results"
    case rateLimitsEnabled = "rate_limits_enabled"
    case rateLimited = "rate_limited"
    case writeLevel = "write_level"
  }
}

/// The widest kind of Jira write the emulator accepts, as testbridge's `--jira-write`.
public enum JiraSandboxWriteLevel: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
  /// Reads and the `testbridge.runs` issue property.
  case properties
  /// Also remote links.
  case links
  /// Also comments.
  case comments

  private var rank: Int {
    switch self {
    case .properties: 0
    case .links: 1
    case .comments: 2
    }
  }

  public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rank < rhs.rank }
}

/// A project.
public struct JiraSandboxProject: Sendable, Hashable, Codable {
  public var id: String
  public var key: String
  public var name: String

  public init(id: String, key: String, name: String) {
    self.id = id
    self.key = key
    self.name = name
  }
}

/// An issue with everything stored on it.
public struct JiraSandboxIssue: Sendable, Hashable, Codable {
  public var id: String
  public var key: String
  public var summary: String
  public var status: String
  public var type: String
  public var project: String
  /// The parent issue key (team-managed hierarchy, sub-tasks).
  public var parent: String?
  /// The epic the issue belongs to (`"Epic Link"` in company-managed projects).
  public var epic: String?
  /// Sprint ids.
  public var sprints: [Int]
  /// Issue properties: key → value.
  public var properties: [String: JSONValue]
  /// Accepted property writes (PUT), counting replacements.
  public var propertyWrites: Int
  public var remoteLinks: [JiraSandboxRemoteLink]
  public var comments: [JiraSandboxComment]

  enum CodingKeys: String, CodingKey {
    case id, key, summary, status, type, project, parent, epic, sprints, properties
    case propertyWrites = "property_writes"
    case remoteLinks = "remote_links"
    case comments
  }

  /// The remote link with `globalID`, or nil.
  public func remoteLink(globalID: String) -> JiraSandboxRemoteLink? {
    remoteLinks.first { $0.globalID == globalID }
  }
}

/// A remote link as stored (the request body Jira keeps, plus its id).
public struct JiraSandboxRemoteLink: Sendable, Hashable, Codable {
  public var id: Int
  public var globalID: String?
  /// `application`, `relationship` and `object` as last sent.
  public var application: JSONValue?
  public var relationship: String?
  public var object: JSONValue
  /// How many POSTs with this link's global id updated it after it was created.
  public var updateCount: Int

  public var title: String? { object["title"]?.stringValue }
  public var url: String? { object["url"]?.stringValue }
  public var resolved: Bool? { object["status"]?["resolved"]?.boolValue }

  enum CodingKeys: String, CodingKey {
    case id
    case globalID = "global_id"
    case application, relationship, object
    case updateCount = "update_count"
  }
}

/// A comment as stored.
public struct JiraSandboxComment: Sendable, Hashable, Codable {
  public var id: String
  /// `adf` (posted through REST v3) or `wiki` (REST v2).
  public var format: String
  /// The body as sent: an ADF document object or a wiki-markup string.
  public var body: JSONValue
  public var created: String
  public var updated: String
  public var updateCount: Int

  enum CodingKeys: String, CodingKey {
    case id, format, body, created, updated
    case updateCount = "update_count"
  }
}

/// One logged Jira request: never a body or header value.
public struct JiraSandboxRequestRecord: Sendable, Hashable, Codable {
  public var method: String
  public var path: String
  /// The query with credential-like names redacted, or nil when empty.
  public var query: String?
  /// `basic`, `bearer`, `none` or `invalid` (present but not accepted).
  public var auth: String
  /// The status answered; 0 when the connection was dropped.
  public var status: Int
  /// Whether a fault rule produced (or delayed) the answer.
  public var fault: Bool
  /// Whether the request was outside the allowed operations.
  public var refused: Bool
}

/// A request the emulator refused because testbridge must never send it.
public struct JiraSandboxRefusal: Sendable, Hashable, Codable {
  public var method: String
  public var path: String
  public var reason: String
}
