import Foundation

/// Which tests `testbridge run` asks its command to run: a `--filter` looked up in
/// Testomat.io, or a grep string handed over by Testomat.io's CI inputs.
///
/// The command receives the selection in Testomat.io's grep form
/// (`T1a2b3c4d|T5e6f7a8b`) in `TESTBRIDGE_GREP` and `grep`, and wherever its
/// arguments say `{grep}`.
enum RunSelection {
  /// A `--filter` value: the Testomat.io `test_grep` query it stands for.
  struct Filter: Sendable, Hashable {
    /// `jira`, `tag`, `plan` or `label` (Testomat.io's `type`).
    var type: String
    /// The issue key, tag, plan id or label.
    var id: String
  }

  /// The filter names accepted, official CLI spellings included, and the type each means.
  static let filterTypes: [String: String] = [
    "jira": "jira", "jira-ticket": "jira", "tag": "tag", "tag-name": "tag", "plan": "plan", "plan-id": "plan",
    "label": "label",
  ]

  /// The placeholder replaced in the command's arguments.
  static let placeholder = "{grep}"

  /// Parses `testomatio:jira=KEY` (the `testomatio:` prefix may be left out).
  static func parseFilter(_ text: String) throws(CLIError) -> Filter {
    var body = Substring(text.trimmingCharacters(in: .whitespaces))
    if body.lowercased().hasPrefix("testomatio:") { body = body.dropFirst("testomatio:".count) }
    guard let equals = body.firstIndex(of: "="),
      let type = filterTypes[body[..<equals].trimmingCharacters(in: .whitespaces).lowercased()]
    else {
      throw CLIError(
        "The value '\(text)' is invalid for '--filter <FILTER>': expected testomatio:jira=KEY, "
          + "testomatio:tag=NAME, testomatio:plan=ID or testomatio:label=NAME",
        exitStatus: .usage)
    }
    let id = body[body.index(after: equals)...].trimmingCharacters(in: .whitespaces)
    guard !id.isEmpty else {
      throw CLIError("The value '\(text)' is invalid for '--filter <FILTER>': nothing after '='", exitStatus: .usage)
    }
    return Filter(type: type, id: id)
  }

  /// The command's words with every `{grep}` replaced by `grep` (empty when nothing is selected).
  static func substitute(_ words: [String], grep: String?) -> [String] {
    words.map { $0.replacingOccurrences(of: placeholder, with: grep ?? "") }
  }

  /// Variables the command gets on top of testbridge's own environment.
  static func childEnvironment(runID: String?, grep: String?) -> [String: String] {
    var environment: [String: String] = [:]
    if let runID, !runID.isEmpty { environment["TESTOMATIO_RUN"] = runID }
    if let grep {
      environment["TESTBRIDGE_GREP"] = grep
      environment["grep"] = grep
    }
    return environment
  }
}
