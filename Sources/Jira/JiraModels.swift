import Foundation

/// The account testbridge authenticates as (`GET myself`).
public struct JiraUser: Sendable, Hashable {
  /// Cloud account id.
  public var accountID: String?
  /// Data Center user name.
  public var name: String?
  public var displayName: String?
  public var emailAddress: String?
  public var active: Bool?

  public init(
    accountID: String? = nil, name: String? = nil, displayName: String? = nil, emailAddress: String? = nil,
    active: Bool? = nil
  ) {
    self.accountID = accountID
    self.name = name
    self.displayName = displayName
    self.emailAddress = emailAddress
    self.active = active
  }

  /// The best name to show: display name, then user name, then account id.
  public var label: String { displayName ?? name ?? accountID ?? "unknown user" }
}

/// Project permission keys testbridge asks about.
public enum JiraPermission {
  public static let browseProjects = "BROWSE_PROJECTS"
  public static let editIssues = "EDIT_ISSUES"
  public static let linkIssues = "LINK_ISSUES"
  public static let addComments = "ADD_COMMENTS"
  /// Every key any ``JiraWriteLevel`` needs.
  public static let all = [browseProjects, editIssues, linkIssues, addComments]
}

/// The answer of `GET mypermissions`: permission key → whether the account holds it.
public struct JiraPermissions: Sendable, Hashable {
  public var granted: [String: Bool]

  public init(granted: [String: Bool]) {
    self.granted = granted
  }

  /// Whether the account holds `permission` (false when Jira did not mention it).
  public func has(_ permission: String) -> Bool { granted[permission] == true }

  /// The permissions `level` needs that the account lacks, in ``JiraWriteLevel/requiredPermissions`` order.
  public func missing(for level: JiraWriteLevel) -> [String] {
    level.requiredPermissions.filter { !has($0) }
  }
}

/// An issue as testbridge reads it: identity, a few fields and any requested properties.
public struct JiraIssue: Sendable, Hashable {
  public var id: String
  public var key: String
  public var summary: String?
  /// The status name, such as `In Progress`.
  public var status: String?
  public var projectKey: String?
  public var issueType: String?
  public var parentKey: String?
  /// Issue properties returned inline (search `properties=`): key → the value as JSON bytes.
  public var properties: [String: Data]

  public init(
    id: String, key: String, summary: String? = nil, status: String? = nil, projectKey: String? = nil,
    issueType: String? = nil, parentKey: String? = nil, properties: [String: Data] = [:]
  ) {
    self.id = id
    self.key = key
    self.summary = summary
    self.status = status
    self.projectKey = projectKey
    self.issueType = issueType
    self.parentKey = parentKey
    self.properties = properties
  }
}

/// A remote link on an issue (the web links testbridge attaches reports with).
public struct JiraRemoteLink: Sendable, Hashable {
  public var id: Int
  public var globalID: String?
  public var title: String
  public var url: String
  public var summary: String?
  /// Shown struck through in Jira when true.
  public var resolved: Bool
  public var applicationType: String?
  public var applicationName: String?
  public var relationship: String?

  public init(
    id: Int, globalID: String?, title: String, url: String, summary: String? = nil, resolved: Bool = false,
    applicationType: String? = nil, applicationName: String? = nil, relationship: String? = nil
  ) {
    self.id = id
    self.globalID = globalID
    self.title = title
    self.url = url
    self.summary = summary
    self.resolved = resolved
    self.applicationType = applicationType
    self.applicationName = applicationName
    self.relationship = relationship
  }
}

/// The outcome of ``JiraClient/upsertRemoteLink(issue:globalID:title:url:resolved:summary:)``.
public struct JiraRemoteLinkResult: Sendable, Hashable {
  public var id: Int
  /// True for a new link (201), false when the link with the same global id was updated (200).
  public var created: Bool

  public init(id: Int, created: Bool) {
    self.id = id
    self.created = created
  }
}

/// A comment's body as Jira stores it.
public enum JiraCommentBody: Sendable, Hashable {
  /// Wiki markup (REST v2).
  case wiki(String)
  /// An Atlassian Document Format document as JSON bytes (REST v3).
  case adf(Data)

  /// The text without markup: ADF text nodes (and link targets of cards) or the raw wiki text.
  public var plainText: String {
    switch self {
    case .wiki(let text): text
    case .adf(let data): JiraCommentDocument.plainText(fromADF: data)
    }
  }
}

/// A comment on an issue.
public struct JiraComment: Sendable, Hashable {
  public var id: String
  public var body: JiraCommentBody
  public var authorName: String?
  public var created: String?
  public var updated: String?

  public init(id: String, body: JiraCommentBody, authorName: String? = nil, created: String? = nil, updated: String? = nil) {
    self.id = id
    self.body = body
    self.authorName = authorName
    self.created = created
    self.updated = updated
  }
}

/// Jira's limits that testbridge checks before sending.
public enum JiraLimits {
  /// The largest issue property value: 32,768 characters of JSON. testbridge counts UTF-8
  /// bytes, which is never less than the character count, so what it accepts Jira accepts.
  public static let maxPropertyBytes = 32_768
  /// The longest issue property key.
  public static let maxPropertyKeyLength = 255
  /// The longest remote link `globalId`.
  public static let maxGlobalIDLength = 255
  /// The longest remote link title testbridge sends.
  public static let maxRemoteLinkTitleLength = 255
  /// Issue properties the enhanced search returns inline at most.
  public static let maxSearchProperties = 5
}
