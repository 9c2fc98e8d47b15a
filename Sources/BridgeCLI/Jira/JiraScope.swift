import Foundation
import Jira

/// The issues a user names beyond the run's own results: `--jira-project`, `--jira-epic`,
/// `--jira-parent`, `--jira-sprint` and `--jira-jql`, combined with AND into one JQL query.
///
/// - project: `project = "ABC"`
/// - epic: `parent = "ABC-1"` on Jira Cloud (where the parent field replaced Epic Link) and
///   `"Epic Link" = "ABC-1"` on Data Center
/// - parent: `parent = "ABC-2"` (sub-tasks and the team-managed hierarchy)
/// - sprint: `sprint = 42`
/// - JQL: the user's own query, in parentheses when combined with the others (it must not
///   carry its own `ORDER BY` then)
struct JiraScope: Sendable, Hashable, Codable {
  var project: String?
  var epic: String?
  var parent: String?
  var sprint: String?
  var jql: String?

  init(project: String? = nil, epic: String? = nil, parent: String? = nil, sprint: String? = nil, jql: String? = nil) {
    self.project = Self.clean(project)
    self.epic = Self.clean(epic)
    self.parent = Self.clean(parent)
    self.sprint = Self.clean(sprint)
    self.jql = Self.clean(jql)
  }

  /// True when no scope flag was given.
  var isEmpty: Bool { query(deployment: .cloud) == nil }

  /// The JQL for `deployment`, or nil when no scope was named. Pure.
  func query(deployment: JiraDeployment) -> String? {
    var clauses: [String] = []
    if let project { clauses.append("project = \(Self.quoted(project))") }
    if let epic {
      clauses.append(deployment == .cloud ? "parent = \(Self.quoted(epic))" : "\"Epic Link\" = \(Self.quoted(epic))")
    }
    if let parent { clauses.append("parent = \(Self.quoted(parent))") }
    if let sprint { clauses.append("sprint = \(Self.sprintValue(sprint))") }
    if let jql { clauses.append(clauses.isEmpty ? jql : "(\(jql))") }
    guard !clauses.isEmpty else { return nil }
    return clauses.joined(separator: " AND ") + (jql == nil ? " ORDER BY key ASC" : "")
  }

  /// A sprint id stays a bare number; a sprint name is quoted.
  private static func sprintValue(_ text: String) -> String {
    text.allSatisfy({ $0.isASCII && $0.isNumber }) ? text : quoted(text)
  }

  /// A JQL string literal: double quotes, with `"` and `\` escaped.
  static func quoted(_ text: String) -> String {
    var result = "\""
    for character in text {
      if character == "\"" || character == "\\" { result.append("\\") }
      result.append(character)
    }
    return result + "\""
  }

  private static func clean(_ text: String?) -> String? {
    guard let trimmed = text?.trimmingCharacters(in: .whitespacesAndNewlines), !trimmed.isEmpty else { return nil }
    return trimmed
  }
}
