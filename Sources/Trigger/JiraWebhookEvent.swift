import BridgeCore
import BridgeHTTP
import Foundation

/// The parts of a Jira webhook that decide whether, and for which issue, tests are started.
///
/// Two kinds of body are understood (contract: Jira §7.2, §7.3):
/// - **Admin webhooks**: `webhookEvent` (e.g. `jira:issue_updated`), `issue_event_type_name`,
///   `issue.key`, `issue.fields.project.key`, `issue.fields.labels`, `issue.fields.status.name`
///   and `changelog.items[]`, whose `status` items (`fromString` → `toString`) are transitions.
/// - **Automation "Send web request"** bodies: `{"issue": {"key": …, "fields": {…}}}` (Jira
///   format), `{"key": …, "fields": {…}}`, or custom `{"issueKey": …}` / `{"key": …}`, each with
///   optional `"event"` (default `automation`), `"labels"` (array of strings) and `"status"`.
///   Automation bodies carry no changelog, so their `status` counts as the status moved to.
///
/// Parsing is strict on types (a member of the wrong type is an error naming it) and bounded:
/// bodies over ``maxBodyBytes`` or nested deeper than ``maxDepth`` are refused before any JSON
/// decoding, so hostile input cannot exhaust the stack.
public struct JiraWebhookEvent: Sendable, Hashable {
  /// Where the event came from.
  public enum Source: String, Sendable, Hashable {
    /// A Jira admin webhook (has `webhookEvent`).
    case webhook
    /// A Jira Automation rule's web request.
    case automation
  }

  /// A status change recorded in the changelog.
  public struct StatusChange: Sendable, Hashable {
    public var from: String?
    public var to: String?

    public init(from: String?, to: String?) {
      self.from = from
      self.to = to
    }
  }

  public var source: Source
  /// `webhookEvent` (`jira:issue_updated`, `jira:issue_created`, …), or the Automation body's
  /// `event`, or `automation`.
  public var event: String
  /// `issue_event_type_name` of admin webhooks (`issue_generic`, `issue_updated`, …).
  public var issueEventType: String?
  /// The issue key, e.g. `PROJ-123`.
  public var issueKey: String
  /// The project key: `fields.project.key`, or the part of the issue key before the dash.
  public var projectKey: String
  public var labels: [String]
  /// The issue's current status name, when the body has it.
  public var status: String?
  /// Status transitions in the changelog (admin webhooks only).
  public var statusChanges: [StatusChange]

  public init(
    source: Source, event: String, issueEventType: String? = nil, issueKey: String, projectKey: String? = nil,
    labels: [String] = [], status: String? = nil, statusChanges: [StatusChange] = []
  ) {
    self.source = source
    self.event = event
    self.issueEventType = issueEventType
    self.issueKey = issueKey
    self.projectKey = projectKey ?? Self.projectPart(of: issueKey)
    self.labels = labels
    self.status = status
    self.statusChanges = statusChanges
  }

  /// The largest body parsed (the HTTP server's own limit usually applies first).
  public static let maxBodyBytes = 4 << 20
  /// The deepest nesting of arrays and objects accepted.
  public static let maxDepth = 64
  /// The event name of Automation bodies that name none.
  public static let automationEvent = "automation"

  /// The status names the issue moved to: changelog targets, or for Automation bodies the status.
  public var transitionTargets: [String] {
    let targets = statusChanges.compactMap(\.to)
    if source == .automation && targets.isEmpty, let status { return [status] }
    return targets
  }

  /// Parses a webhook body.
  ///
  /// - Throws: ``TriggerError/invalidPayload(_:)`` naming the first problem.
  public static func parse(_ body: [UInt8]) throws(TriggerError) -> JiraWebhookEvent {
    try checkShape(body)
    guard let value = JSONValue.parse(body) else { throw .invalidPayload("the body is not valid JSON") }
    guard case .object(let root) = value else { throw .invalidPayload("the body must be a JSON object") }
    return try event(from: root)
  }

  // MARK: Reading

  private static func event(from root: [String: JSONValue]) throws(TriggerError) -> JiraWebhookEvent {
    let webhookEvent = try string(root, "webhookEvent", at: "webhookEvent")
    let source: Source = webhookEvent == nil ? .automation : .webhook
    let eventName: String
    if let webhookEvent {
      eventName = webhookEvent
    } else {
      eventName = try string(root, "event", at: "event") ?? automationEvent
    }
    try checkName(eventName, field: webhookEvent == nil ? "event" : "webhookEvent")
    let issueEventType = try string(root, "issue_event_type_name", at: "issue_event_type_name")

    let issue = try object(root, "issue", at: "issue")
    let key: String
    let keyField: String
    if let issue {
      guard let value = try string(issue, "key", at: "issue.key") else {
        throw .invalidPayload("'issue.key' is required")
      }
      (key, keyField) = (value, "issue.key")
    } else if let value = try string(root, "issueKey", at: "issueKey") {
      (key, keyField) = (value, "issueKey")
    } else if let value = try string(root, "key", at: "key") {
      (key, keyField) = (value, "key")
    } else {
      throw .invalidPayload("no issue key: expected 'issue.key', 'issueKey' or 'key'")
    }
    guard isIssueKey(key) else {
      throw .invalidPayload("'\(keyField)' is not a Jira issue key (like 'PROJ-123')")
    }

    let fieldsPath = issue == nil ? "fields" : "issue.fields"
    let fields = try object(issue ?? root, "fields", at: fieldsPath)
    var projectKey = projectPart(of: key)
    var labels: [String] = []
    var status: String?
    if let fields {
      if let project = try object(fields, "project", at: "\(fieldsPath).project"),
        let value = try string(project, "key", at: "\(fieldsPath).project.key")
      {
        guard isProjectKey(value) else {
          throw .invalidPayload("'\(fieldsPath).project.key' is not a Jira project key")
        }
        projectKey = value
      }
      labels = try stringArray(fields, "labels", at: "\(fieldsPath).labels") ?? []
      if let statusObject = try object(fields, "status", at: "\(fieldsPath).status") {
        status = try string(statusObject, "name", at: "\(fieldsPath).status.name")
      }
    }
    if source == .automation {
      if let extra = try stringArray(root, "labels", at: "labels") { labels += extra }
      if let value = try string(root, "status", at: "status") { status = value }
    }

    var changes: [StatusChange] = []
    if let changelog = try object(root, "changelog", at: "changelog"),
      let items = try array(changelog, "items", at: "changelog.items")
    {
      for (offset, item) in items.enumerated() {
        let path = "changelog.items[\(offset)]"
        guard case .object(let entry) = item else { throw .invalidPayload("'\(path)' must be an object") }
        let field = try string(entry, "field", at: "\(path).field")
        let fieldID = try string(entry, "fieldId", at: "\(path).fieldId")
        guard field?.lowercased() == "status" || fieldID == "status" else { continue }
        changes.append(
          StatusChange(
            from: try string(entry, "fromString", at: "\(path).fromString"),
            to: try string(entry, "toString", at: "\(path).toString")))
      }
    }

    return JiraWebhookEvent(
      source: source, event: eventName, issueEventType: issueEventType, issueKey: key, projectKey: projectKey,
      labels: labels, status: status, statusChanges: changes)
  }

  private static func string(_ object: [String: JSONValue], _ key: String, at path: String) throws(TriggerError)
    -> String?
  {
    switch object[key] {
    case nil, .null?: return nil
    case .string(let text)?: return text
    case let other?: throw .invalidPayload("'\(path)' must be a string, got \(kind(other))")
    }
  }

  private static func object(_ object: [String: JSONValue], _ key: String, at path: String) throws(TriggerError)
    -> [String: JSONValue]?
  {
    switch object[key] {
    case nil, .null?: return nil
    case .object(let members)?: return members
    case let other?: throw .invalidPayload("'\(path)' must be an object, got \(kind(other))")
    }
  }

  private static func array(_ object: [String: JSONValue], _ key: String, at path: String) throws(TriggerError)
    -> [JSONValue]?
  {
    switch object[key] {
    case nil, .null?: return nil
    case .array(let items)?: return items
    case let other?: throw .invalidPayload("'\(path)' must be an array, got \(kind(other))")
    }
  }

  private static func stringArray(_ object: [String: JSONValue], _ key: String, at path: String)
    throws(TriggerError) -> [String]?
  {
    guard let items = try array(object, key, at: path) else { return nil }
    var strings: [String] = []
    for (offset, item) in items.enumerated() {
      guard case .string(let text) = item else {
        throw .invalidPayload("'\(path)[\(offset)]' must be a string, got \(kind(item))")
      }
      strings.append(text)
    }
    return strings
  }

  private static func kind(_ value: JSONValue) -> String {
    switch value {
    case .null: "null"
    case .bool: "a boolean"
    case .number, .integer: "a number"
    case .string: "a string"
    case .array: "an array"
    case .object: "an object"
    }
  }

  // MARK: Validation

  /// Refuses oversized, non-object and too deeply nested bodies without decoding them.
  static func checkShape(_ body: [UInt8]) throws(TriggerError) {
    guard body.count <= maxBodyBytes else {
      throw .invalidPayload("the body is larger than \(maxBodyBytes) bytes")
    }
    let whitespace: Set<UInt8> = [0x20, 0x0A, 0x0D, 0x09]
    guard let first = body.first(where: { !whitespace.contains($0) }) else {
      throw .invalidPayload("the body is empty")
    }
    guard first == UInt8(ascii: "{") else { throw .invalidPayload("the body must be a JSON object") }
    var depth = 0
    var inString = false
    var escaped = false
    for byte in body {
      if inString {
        if escaped {
          escaped = false
        } else if byte == UInt8(ascii: "\\") {
          escaped = true
        } else if byte == UInt8(ascii: "\"") {
          inString = false
        }
        continue
      }
      switch byte {
      case UInt8(ascii: "{"), UInt8(ascii: "["):
        depth += 1
        guard depth <= maxDepth else { throw .invalidPayload("the body is nested deeper than \(maxDepth) levels") }
      case UInt8(ascii: "}"), UInt8(ascii: "]"):
        depth -= 1
      case UInt8(ascii: "\""):
        inString = true
      default:
        break
      }
    }
  }

  /// `PROJ-123`: a project key, a dash and a positive number.
  static func isIssueKey(_ text: String) -> Bool {
    guard text.utf8.count <= 64, let dash = text.lastIndex(of: "-") else { return false }
    let number = text[text.index(after: dash)...]
    guard (1...18).contains(number.count), number.allSatisfy({ $0.isASCII && $0.isNumber }) else { return false }
    return isProjectKey(text[..<dash])
  }

  /// A letter, then letters, digits or underscores (Jira's project key rule, either case).
  static func isProjectKey(_ text: some StringProtocol) -> Bool {
    guard let first = text.first, first.isASCII, first.isLetter, text.count <= 50 else { return false }
    return text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
  }

  /// Event names are short printable ASCII.
  private static func checkName(_ name: String, field: String) throws(TriggerError) {
    guard !name.isEmpty, name.utf8.count <= 100,
      name.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7F })
    else {
      throw .invalidPayload("'\(field)' must be 1 to 100 printable ASCII characters without spaces")
    }
  }

  static func projectPart(of key: String) -> String {
    guard let dash = key.lastIndex(of: "-") else { return key }
    return String(key[..<dash])
  }
}
