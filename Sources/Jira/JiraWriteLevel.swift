import Foundation

/// How much testbridge may write to Jira. Each level includes the ones before it.
///
/// - ``properties``: reads plus issue property writes (`testbridge.runs`). Needs the *Browse
///   projects* and *Edit issues* project permissions: Jira requires *Edit issues* to set a
///   property even though no field changes.
/// - ``links``: also creates or updates remote links (*Link issues*).
/// - ``comments``: also adds and updates comments (*Add comments*).
///
/// No level permits editing, transitioning, creating or deleting issues, or any `DELETE`.
public enum JiraWriteLevel: String, Sendable, Hashable, CaseIterable, Comparable, Codable {
  case properties
  case links
  case comments

  /// Reads `properties`, `links` or `comments` (also singular, any casing); nil otherwise.
  public init?(parsing text: String) {
    switch text.trimmingCharacters(in: .whitespaces).lowercased() {
    case "properties", "property": self = .properties
    case "links", "link", "remotelinks", "remote-links": self = .links
    case "comments", "comment": self = .comments
    default: return nil
    }
  }

  public static func < (lhs: JiraWriteLevel, rhs: JiraWriteLevel) -> Bool {
    lhs.rank < rhs.rank
  }

  private var rank: Int {
    switch self {
    case .properties: 0
    case .links: 1
    case .comments: 2
    }
  }

  /// The project permission keys the Jira account needs at this level, as `mypermissions`
  /// names them.
  public var requiredPermissions: [String] {
    switch self {
    case .properties: ["BROWSE_PROJECTS", "EDIT_ISSUES"]
    case .links: ["BROWSE_PROJECTS", "EDIT_ISSUES", "LINK_ISSUES"]
    case .comments: ["BROWSE_PROJECTS", "EDIT_ISSUES", "LINK_ISSUES", "ADD_COMMENTS"]
    }
  }

  /// What the level permits, in words, for error messages and help.
  public var summary: String {
    switch self {
    case .properties: "reads and issue property writes"
    case .links: "reads, issue property writes and remote links"
    case .comments: "reads, issue property writes, remote links and comments"
    }
  }
}
