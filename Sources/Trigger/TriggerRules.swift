import BridgeCore
import BridgeHTTP
import Foundation

/// Which issues and events start tests, and on which CI: a small JSON file.
///
/// ```json
/// {
///   "rules": [
///     {
///       "name": "ready for QA",
///       "projects": ["PROJ", "WEB"],
///       "events": ["jira:issue_updated"],
///       "transition_to": "Ready for QA",
///       "ci": "github",
///       "title": "Jira {issue}: {status}"
///     },
///     { "issues": ["OPS-7"], "label": "run-tests", "ci": "gitlab" }
///   ]
/// }
/// ```
///
/// Every member of a rule is optional, and an absent one matches anything:
/// - `name`: shown in logs and replies (default `rule N`).
/// - `projects`: project keys; `issues`: issue keys (both case-insensitive).
/// - `events`: `webhookEvent` names such as `jira:issue_updated` or `jira:issue_created`, or
///   `automation` for any Jira Automation request (case-insensitive).
/// - `transition_to`: a status name the issue moved to in this event, from the changelog
///   (case-insensitive); an Automation body's `status` counts as the status moved to.
/// - `label`: a label the issue must carry (case-insensitive).
/// - `ci`: `github` or `gitlab`; default the configured CI (`TESTBRIDGE_CI`).
/// - `title`: the Testomat.io run title; `{issue}`, `{project}`, `{event}` and `{status}` are
///   replaced (default `Jira {issue}`).
///
/// The first matching rule wins; when none matches the webhook is answered 200 `ignored` with
/// the reason. Unknown members and wrong types are errors naming the member. Without a file,
/// ``default`` applies: every authenticated event for any issue starts the configured CI.
/// See `Sources/Trigger/RULES.md` for examples.
public struct TriggerRules: Sendable, Hashable {
  public var rules: [TriggerRule]

  public init(rules: [TriggerRule]) {
    self.rules = rules
  }

  /// One rule matching everything: trigger on any authenticated event, configured CI.
  public static let `default` = TriggerRules(rules: [TriggerRule(name: "default")])

  /// The largest rules file read.
  public static let maxFileBytes = 1 << 20

  /// Reads and parses a rules file.
  ///
  /// - Throws: ``TriggerError/invalidRules(_:)`` naming the path when it cannot be read.
  public static func load(path: String) throws(TriggerError) -> TriggerRules {
    let data: Data
    do {
      let attributes = try FileManager.default.attributesOfItem(atPath: path)
      if let size = attributes[.size] as? NSNumber, size.intValue > maxFileBytes {
        throw TriggerError.invalidRules("'\(path)' is larger than \(maxFileBytes) bytes")
      }
      data = try Data(contentsOf: URL(fileURLWithPath: path))
    } catch let error as TriggerError {
      throw error
    } catch {
      throw .invalidRules("cannot read '\(path)': \(error.localizedDescription)")
    }
    do {
      return try parse(Array(data))
    } catch {
      throw .invalidRules("'\(path)': \(error.reason)")
    }
  }

  /// Parses the JSON text of a rules file (pure).
  ///
  /// - Throws: ``TriggerError/invalidRules(_:)`` naming the first problem, e.g.
  ///   `'rules[1].ci' must be one of github, gitlab, got 'jenkins'`.
  public static func parse(_ bytes: [UInt8]) throws(TriggerError) -> TriggerRules {
    guard bytes.count <= maxFileBytes else { throw .invalidRules("the rules file is larger than \(maxFileBytes) bytes") }
    guard let value = JSONValue.parse(bytes) else { throw .invalidRules("the rules file is not valid JSON") }
    guard case .object(let root) = value else { throw .invalidRules("the rules file must be a JSON object") }
    if let unknown = root.keys.sorted().first(where: { $0 != "rules" }) {
      throw .invalidRules("'\(unknown)' is not a rules file member (expected 'rules')")
    }
    guard case .array(let items)? = root["rules"] else {
      throw .invalidRules("'rules' must be an array of rules")
    }
    guard !items.isEmpty else { throw .invalidRules("'rules' is empty: no event would ever start tests") }
    var rules: [TriggerRule] = []
    for (offset, item) in items.enumerated() {
      rules.append(try TriggerRule.parse(item, at: "rules[\(offset)]", index: offset + 1))
    }
    return TriggerRules(rules: rules)
  }

  /// The first rule matching `event`, resolved into what to start, or why nothing starts.
  ///
  /// - Parameter defaultCI: the CI used by rules that name none.
  public func decide(_ event: JiraWebhookEvent, defaultCI: CIKind) -> TriggerDecision {
    var misses: [String] = []
    for rule in rules {
      if let miss = rule.mismatch(event) {
        misses.append(rules.count == 1 ? miss : "\(rule.displayName): \(miss)")
        continue
      }
      return .trigger(
        TriggerPlan(ruleName: rule.displayName, ci: rule.ci ?? defaultCI, title: rule.title(for: event)))
    }
    var reason = "no rule matches: " + misses.joined(separator: "; ")
    if reason.count > 500 { reason = String(reason.prefix(499)) + "…" }
    return .ignore(reason: reason)
  }

  /// The CI systems the rules can ask for, given the default; the composition root checks
  /// that a dispatcher exists for each.
  public func ciKinds(defaultCI: CIKind) -> Set<CIKind> {
    Set(rules.map { $0.ci ?? defaultCI })
  }
}

/// What a matching rule asks for.
public struct TriggerPlan: Sendable, Hashable {
  public var ruleName: String
  public var ci: CIKind
  /// The Testomat.io run title, placeholders replaced.
  public var title: String

  public init(ruleName: String, ci: CIKind, title: String) {
    self.ruleName = ruleName
    self.ci = ci
    self.title = title
  }
}

/// The outcome of matching an event against the rules.
public enum TriggerDecision: Sendable, Hashable {
  case trigger(TriggerPlan)
  case ignore(reason: String)
}

/// One rule of a ``TriggerRules`` file.
public struct TriggerRule: Sendable, Hashable {
  public var name: String?
  public var projects: [String]?
  public var issues: [String]?
  public var events: [String]?
  public var transitionTo: String?
  public var label: String?
  public var ci: CIKind?
  public var titleTemplate: String?

  /// The title used when a rule sets none.
  public static let defaultTitle = "Jira {issue}"
  /// The placeholders a title may use.
  public static let placeholders: Set<String> = ["issue", "project", "event", "status"]

  public init(
    name: String? = nil, projects: [String]? = nil, issues: [String]? = nil, events: [String]? = nil,
    transitionTo: String? = nil, label: String? = nil, ci: CIKind? = nil, titleTemplate: String? = nil
  ) {
    self.name = name
    self.projects = projects
    self.issues = issues
    self.events = events
    self.transitionTo = transitionTo
    self.label = label
    self.ci = ci
    self.titleTemplate = titleTemplate
  }

  var displayName: String { "rule '\(name ?? "unnamed")'" }

  /// Why the rule does not match `event`, or nil when it does.
  public func mismatch(_ event: JiraWebhookEvent) -> String? {
    if let events, !events.contains(where: { Self.same($0, event.event) || (Self.same($0, JiraWebhookEvent.automationEvent) && event.source == .automation) }) {
      return "event '\(event.event)' is not one of \(events.joined(separator: ", "))"
    }
    if let projects, !projects.contains(where: { Self.same($0, event.projectKey) }) {
      return "project '\(event.projectKey)' is not one of \(projects.joined(separator: ", "))"
    }
    if let issues, !issues.contains(where: { Self.same($0, event.issueKey) }) {
      return "issue '\(event.issueKey)' is not one of \(issues.joined(separator: ", "))"
    }
    if let label, !event.labels.contains(where: { Self.same($0, label) }) {
      return "issue '\(event.issueKey)' has no label '\(label)'"
    }
    if let transitionTo, !event.transitionTargets.contains(where: { Self.same($0, transitionTo) }) {
      return "no transition to '\(transitionTo)'"
    }
    return nil
  }

  /// The run title for `event`: the template with its placeholders replaced, at most 255 characters.
  public func title(for event: JiraWebhookEvent) -> String {
    let values: [String: String] = [
      "issue": event.issueKey, "project": event.projectKey, "event": event.event,
      "status": event.transitionTargets.last ?? event.status ?? "",
    ]
    var result = ""
    var rest = Substring(titleTemplate ?? Self.defaultTitle)
    while let open = rest.firstIndex(of: "{") {
      result += rest[..<open]
      let afterOpen = rest.index(after: open)
      if let close = rest[afterOpen...].firstIndex(of: "}"), let value = values[String(rest[afterOpen..<close])] {
        result += value
        rest = rest[rest.index(after: close)...]
      } else {
        result += "{"
        rest = rest[afterOpen...]
      }
    }
    result += rest
    let cleaned = String(String.UnicodeScalarView(result.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : $0 }))
    let trimmed = cleaned.trimmingCharacters(in: .whitespaces)
    let title = trimmed.isEmpty ? "Jira \(event.issueKey)" : trimmed
    return title.count > 255 ? String(title.prefix(255)) : title
  }

  private static func same(_ lhs: String, _ rhs: String) -> Bool {
    lhs.caseInsensitiveCompare(rhs) == .orderedSame
  }

  private static let members: Set<String> = [
    "name", "projects", "issues", "events", "transition_to", "label", "ci", "title",
  ]

  static func parse(_ value: JSONValue, at path: String, index: Int) throws(TriggerError) -> TriggerRule {
    guard case .object(let object) = value else { throw .invalidRules("'\(path)' must be an object") }
    if let unknown = object.keys.sorted().first(where: { !members.contains($0) }) {
      throw .invalidRules(
        "'\(path).\(unknown)' is not a rule member (expected one of \(members.sorted().joined(separator: ", ")))")
    }
    var rule = TriggerRule()
    rule.name = try string(object, "name", at: path) ?? "rule \(index)"
    rule.projects = try list(object, "projects", at: path)
    rule.issues = try list(object, "issues", at: path)
    rule.events = try list(object, "events", at: path)
    rule.transitionTo = try string(object, "transition_to", at: path)
    rule.label = try string(object, "label", at: path)
    if let ci = try string(object, "ci", at: path) {
      guard let kind = CIKind(rawValue: ci.lowercased()) else {
        throw .invalidRules(
          "'\(path).ci' must be one of \(CIKind.allCases.map(\.rawValue).joined(separator: ", ")), got '\(ci)'")
      }
      rule.ci = kind
    }
    if let title = try string(object, "title", at: path) {
      try checkTemplate(title, at: "\(path).title")
      rule.titleTemplate = title
    }
    return rule
  }

  private static func string(_ object: [String: JSONValue], _ key: String, at path: String) throws(TriggerError)
    -> String?
  {
    switch object[key] {
    case nil, .null?: return nil
    case .string(let text)?:
      guard !text.trimmingCharacters(in: .whitespaces).isEmpty else {
        throw .invalidRules("'\(path).\(key)' must not be empty")
      }
      return text
    default: throw .invalidRules("'\(path).\(key)' must be a string")
    }
  }

  private static func list(_ object: [String: JSONValue], _ key: String, at path: String) throws(TriggerError)
    -> [String]?
  {
    switch object[key] {
    case nil, .null?: return nil
    case .array(let items)?:
      guard !items.isEmpty else {
        throw .invalidRules("'\(path).\(key)' is empty: it would match nothing (leave it out to match anything)")
      }
      var strings: [String] = []
      for (offset, item) in items.enumerated() {
        guard case .string(let text) = item, !text.isEmpty else {
          throw .invalidRules("'\(path).\(key)[\(offset)]' must be a non-empty string")
        }
        strings.append(text)
      }
      return strings
    default: throw .invalidRules("'\(path).\(key)' must be an array of strings")
    }
  }

  private static func checkTemplate(_ template: String, at path: String) throws(TriggerError) {
    var rest = Substring(template)
    while let open = rest.firstIndex(of: "{") {
      let afterOpen = rest.index(after: open)
      guard let close = rest[afterOpen...].firstIndex(of: "}") else { return }
      let name = String(rest[afterOpen..<close])
      guard placeholders.contains(name) else {
        throw .invalidRules(
          "'\(path)' uses unknown placeholder '{\(name)}' (known: \(placeholders.sorted().map { "{\($0)}" }.joined(separator: ", ")))")
      }
      rest = rest[rest.index(after: close)...]
    }
  }
}
