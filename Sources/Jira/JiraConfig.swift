import Foundation

/// Which Jira product testbridge talks to.
public enum JiraDeployment: String, Sendable, Hashable, Codable, CaseIterable {
  /// Jira Cloud: REST v3 by default, enhanced search (`search/jql` with `nextPageToken`), ADF comments.
  case cloud
  /// Jira Data Center / Server: REST v2, `search` with `startAt`, wiki-markup comments.
  case dataCenter = "datacenter"

  /// Reads `cloud`, `datacenter`, `data-center`, `dc` or `server` (any casing).
  public init?(parsing text: String) {
    switch text.trimmingCharacters(in: .whitespaces).lowercased() {
    case "cloud": self = .cloud
    case "datacenter", "data-center", "data_center", "dc", "server": self = .dataCenter
    default: return nil
    }
  }
}

/// The platform REST API version in paths: `/rest/api/2` or `/rest/api/3`.
public enum JiraAPIVersion: String, Sendable, Hashable, Codable, CaseIterable {
  /// Wiki-markup text fields; the only version on Data Center.
  case v2 = "2"
  /// Atlassian Document Format text fields; Cloud only.
  case v3 = "3"

  /// Reads `2`, `3`, `v2` or `v3`.
  public init?(parsing text: String) {
    var value = text.trimmingCharacters(in: .whitespaces).lowercased()
    if value.hasPrefix("v") { value.removeFirst() }
    self.init(rawValue: value)
  }
}

/// How testbridge authenticates. Descriptions never show the secret.
public enum JiraAuth: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
  /// Jira Cloud: the Atlassian account email and an API token, as HTTP basic auth.
  case basic(email: String, apiToken: String)
  /// Jira Data Center personal access token (or a Cloud OAuth access token), as a bearer token.
  case bearer(token: String)

  /// The `Authorization` header value.
  public var authorizationHeader: String {
    switch self {
    case .basic(let email, let token): "Basic " + Data("\(email):\(token)".utf8).base64EncodedString()
    case .bearer(let token): "Bearer " + token
    }
  }

  /// The values to scrub from anything shown to users.
  public var secrets: [String] {
    switch self {
    case .basic(let email, let token):
      [token, Data("\(email):\(token)".utf8).base64EncodedString()]
    case .bearer(let token): [token]
    }
  }

  public var description: String {
    switch self {
    case .basic: "basic auth (email and API token)"
    case .bearer: "bearer token"
    }
  }

  public var debugDescription: String { description }
}

/// Where and how to reach Jira, resolved from flags and `JIRA_*` environment variables.
///
/// ```swift
/// let config = try JiraConfig.resolve(environment: ["JIRA_URL": "https://acme.atlassian.net",
///   "JIRA_EMAIL": "ci@acme.com", "JIRA_API_TOKEN": token])
/// config.restBaseURL   // https://acme.atlassian.net/rest/api/3
/// ```
///
/// With `JIRA_CLOUD_ID` (needed by scoped API tokens and service accounts) requests go through
/// the Atlassian gateway, `https://api.atlassian.com/ex/jira/{cloudId}/rest/api/3`; a scoped
/// token sent to the site itself gets 401.
public struct JiraConfig: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
  /// The Atlassian API gateway scoped tokens must use.
  public static let defaultGatewayURL = URL(string: "https://api.atlassian.com")!

  /// The site, such as `https://acme.atlassian.net` or `https://jira.acme.com/jira`; no trailing slash.
  public var siteURL: URL
  public var auth: JiraAuth
  public var deployment: JiraDeployment
  public var apiVersion: JiraAPIVersion
  /// Set when requests go through the gateway (`JIRA_CLOUD_ID`).
  public var cloudID: String?
  /// The gateway base used with ``cloudID``; ``defaultGatewayURL`` unless a sandbox replaces it.
  public var gatewayURL: URL

  public init(
    siteURL: URL, auth: JiraAuth, deployment: JiraDeployment, apiVersion: JiraAPIVersion? = nil,
    cloudID: String? = nil, gatewayURL: URL = JiraConfig.defaultGatewayURL
  ) {
    self.siteURL = siteURL
    self.auth = auth
    self.deployment = deployment
    self.apiVersion = apiVersion ?? (deployment == .cloud ? .v3 : .v2)
    self.cloudID = cloudID
    self.gatewayURL = gatewayURL
  }

  /// The REST base every request path is appended to: `…/rest/api/3`.
  public var restBaseURL: URL {
    let root: String
    if let cloudID {
      root = Self.trimmedSlash(gatewayURL.absoluteString) + "/ex/jira/" + cloudID
    } else {
      root = Self.trimmedSlash(siteURL.absoluteString)
    }
    return URL(string: root + "/rest/api/" + apiVersion.rawValue) ?? siteURL
  }

  /// The page of an issue on the site, `https://acme.atlassian.net/browse/ABC-1`.
  public func browseURL(issue: String) -> URL {
    let key = issue.addingPercentEncoding(withAllowedCharacters: JiraPath.unreserved) ?? issue
    return URL(string: Self.trimmedSlash(siteURL.absoluteString) + "/browse/" + key) ?? siteURL
  }

  /// Whether comments and other rich text go as Atlassian Document Format (v3) or wiki markup (v2).
  public var usesADF: Bool { apiVersion == .v3 }

  public var description: String {
    let product = deployment == .cloud ? "Jira Cloud" : "Jira Data Center"
    let via = cloudID.map { " via \(Self.trimmedSlash(gatewayURL.absoluteString)) (cloud id '\($0)')" } ?? ""
    return "\(product) at \(siteURL.absoluteString)\(via), REST v\(apiVersion.rawValue), \(auth.description)"
  }

  public var debugDescription: String { description }

  // MARK: - Resolution

  /// Values given explicitly (command-line flags); each one wins over its environment variable.
  public struct Overrides: Sendable, Hashable {
    public var url: String?
    public var email: String?
    public var apiToken: String?
    public var pat: String?
    public var cloudID: String?
    /// `2` or `3`.
    public var apiVersion: String?
    /// `cloud` or `datacenter`.
    public var deployment: String?
    /// Replaces the Atlassian gateway (for the sandbox); used only with a cloud id.
    public var gatewayURL: String?

    public init(
      url: String? = nil, email: String? = nil, apiToken: String? = nil, pat: String? = nil, cloudID: String? = nil,
      apiVersion: String? = nil, deployment: String? = nil, gatewayURL: String? = nil
    ) {
      self.url = url
      self.email = email
      self.apiToken = apiToken
      self.pat = pat
      self.cloudID = cloudID
      self.apiVersion = apiVersion
      self.deployment = deployment
      self.gatewayURL = gatewayURL
    }
  }

  /// Environment variables read by ``resolve(environment:overrides:)``.
  public enum Variable {
    public static let url = "JIRA_URL"
    public static let email = "JIRA_EMAIL"
    public static let apiToken = "JIRA_API_TOKEN"
    public static let pat = "JIRA_PAT"
    public static let cloudID = "JIRA_CLOUD_ID"
    public static let apiVersion = "JIRA_API_VERSION"
    public static let deployment = "JIRA_DEPLOYMENT"
  }

  /// Command-line flags named in errors.
  public enum Flag {
    public static let url = "--jira-url"
    public static let email = "--jira-email"
    public static let cloudID = "--jira-cloud-id"
    public static let apiVersion = "--jira-api-version"
    public static let deployment = "--jira-deployment"
    public static let gatewayURL = "--jira-gateway-url"
  }

  /// Resolves the connection from `environment` and explicit `overrides` (which win). Pure.
  ///
  /// - Authentication: `JIRA_EMAIL` + `JIRA_API_TOKEN` (basic, Cloud) or `JIRA_PAT` (bearer,
  ///   Data Center). When both a token and a PAT are set at the same precedence, that is an error.
  /// - Deployment: an explicit `JIRA_DEPLOYMENT`; otherwise Cloud for `*.atlassian.net` sites or
  ///   when a cloud id is set, and otherwise it follows the auth kind (basic → Cloud,
  ///   bearer → Data Center).
  /// - API version: an explicit `JIRA_API_VERSION`; otherwise 3 on Cloud and 2 on Data Center.
  ///   Data Center has no v3.
  ///
  /// Empty values count as unset; surrounding whitespace (a trailing newline from a secret
  /// file) is removed.
  /// - Throws: ``JiraError/missingConfiguration(variable:flag:)`` naming the missing variable,
  ///   or ``JiraError/invalidConfiguration(setting:reason:)``.
  public static func resolve(
    environment: [String: String], overrides: Overrides = Overrides()
  ) throws(JiraError) -> JiraConfig {
    func pick(_ explicit: String?, _ variable: String, flag: String?) -> (value: String, setting: String, explicit: Bool)? {
      if let value = clean(explicit) { return (value, flag ?? variable, true) }
      if let value = clean(environment[variable]) { return (value, variable, false) }
      return nil
    }

    guard let url = pick(overrides.url, Variable.url, flag: Flag.url) else {
      throw .missingConfiguration(variable: Variable.url, flag: Flag.url)
    }
    let siteURL = try parseSiteURL(url.value, setting: url.setting)

    let email = pick(overrides.email, Variable.email, flag: Flag.email)
    let token = pick(overrides.apiToken, Variable.apiToken, flag: nil)
    let pat = pick(overrides.pat, Variable.pat, flag: nil)

    let auth: JiraAuth
    switch (token, pat) {
    case (nil, nil):
      throw .missingConfiguration(
        variable: email == nil ? "\(Variable.apiToken) (with \(Variable.email)) or \(Variable.pat)" : Variable.apiToken,
        flag: nil)
    case (let token?, let pat?) where token.explicit == pat.explicit:
      throw .invalidConfiguration(
        setting: Variable.pat,
        reason:
          "both \(Variable.apiToken) and \(Variable.pat) are set; keep one (\(Variable.email) + \(Variable.apiToken) for Jira Cloud, \(Variable.pat) for Data Center)"
      )
    case (let token?, let pat) where pat == nil || token.explicit:
      guard let email else { throw .missingConfiguration(variable: Variable.email, flag: Flag.email) }
      guard email.value.contains("@"), !email.value.contains(":") else {
        throw .invalidConfiguration(
          setting: email.setting, reason: "'\(email.value)' is not an email address (the Atlassian account's email)")
      }
      auth = .basic(email: email.value, apiToken: token.value)
    case (_, let pat?):
      auth = .bearer(token: pat.value)
    default:
      throw .missingConfiguration(variable: Variable.apiToken, flag: nil)
    }

    var cloudID: String?
    if let id = pick(overrides.cloudID, Variable.cloudID, flag: Flag.cloudID) {
      guard id.value.count <= 64, id.value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") })
      else {
        throw .invalidConfiguration(
          setting: id.setting, reason: "'\(id.value)' is not a cloud id (letters, digits and '-')")
      }
      cloudID = id.value
    }

    let host = siteURL.host?.lowercased() ?? ""
    let deployment: JiraDeployment
    if let given = pick(overrides.deployment, Variable.deployment, flag: Flag.deployment) {
      guard let parsed = JiraDeployment(parsing: given.value) else {
        throw .invalidConfiguration(setting: given.setting, reason: "'\(given.value)' is not 'cloud' or 'datacenter'")
      }
      deployment = parsed
    } else if cloudID != nil || host.hasSuffix(".atlassian.net") || host == "api.atlassian.com" {
      deployment = .cloud
    } else if case .basic = auth {
      deployment = .cloud
    } else {
      deployment = .dataCenter
    }
    if deployment == .dataCenter, let cloudID {
      throw .invalidConfiguration(
        setting: Variable.cloudID, reason: "cloud id '\(cloudID)' is only meaningful for Jira Cloud")
    }

    var apiVersion = deployment == .cloud ? JiraAPIVersion.v3 : .v2
    if let given = pick(overrides.apiVersion, Variable.apiVersion, flag: Flag.apiVersion) {
      guard let parsed = JiraAPIVersion(parsing: given.value) else {
        throw .invalidConfiguration(setting: given.setting, reason: "'\(given.value)' is not 2 or 3")
      }
      guard deployment == .cloud || parsed == .v2 else {
        throw .invalidConfiguration(setting: given.setting, reason: "Jira Data Center has no REST v3; use 2")
      }
      apiVersion = parsed
    }

    var gatewayURL = defaultGatewayURL
    if let gateway = clean(overrides.gatewayURL) {
      gatewayURL = try parseSiteURL(gateway, setting: Flag.gatewayURL)
    }

    return JiraConfig(
      siteURL: siteURL, auth: auth, deployment: deployment, apiVersion: apiVersion, cloudID: cloudID,
      gatewayURL: gatewayURL)
  }

  private static func clean(_ value: String?) -> String? {
    guard let trimmed = value?.trimmingCharacters(in: .whitespacesAndNewlines), !trimmed.isEmpty else { return nil }
    return trimmed
  }

  private static func parseSiteURL(_ text: String, setting: String) throws(JiraError) -> URL {
    guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
      scheme == "https" || scheme == "http", let host = components.host, !host.isEmpty
    else {
      throw .invalidConfiguration(setting: setting, reason: "expected an http(s) URL such as https://acme.atlassian.net")
    }
    guard components.user == nil, components.password == nil else {
      throw .invalidConfiguration(
        setting: setting, reason: "the URL must not carry credentials; use \(Variable.email) and \(Variable.apiToken) or \(Variable.pat)")
    }
    guard components.query == nil, components.fragment == nil else {
      throw .invalidConfiguration(setting: setting, reason: "the URL must not have a query or fragment")
    }
    let path = trimmedSlash(components.path)
    if path.lowercased().contains("/rest/api") {
      throw .invalidConfiguration(setting: setting, reason: "give the site URL without '/rest/api/…'")
    }
    var cleaned = components
    cleaned.path = path
    guard let url = cleaned.url else {
      throw .invalidConfiguration(setting: setting, reason: "expected an http(s) URL such as https://acme.atlassian.net")
    }
    return url
  }

  static func trimmedSlash(_ text: String) -> String {
    var text = Substring(text)
    while text.hasSuffix("/") { text = text.dropLast() }
    return String(text)
  }
}
