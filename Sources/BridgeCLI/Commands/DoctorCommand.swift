import BridgeHTTP
import Foundation
import Jira
import Testomatio

/// `testbridge doctor`: checks the Jira and Testomat.io configuration with read-only calls
/// and says what works, what is missing and which permission to grant.
struct DoctorCommand: Command {
  static let spec = CommandSpec(
    name: "doctor",
    abstract: "Check the Jira and Testomat.io configuration with read-only calls.",
    discussion: """
      Jira: resolves the connection, reads the account (GET myself) and the project permissions \
      the write level needs (GET mypermissions): Browse projects, Edit issues (issue properties), \
      Link issues (remote links), and Add comments and Edit own comments with --jira-comment. Pass --jira-project to check one \
      project; without it Jira answers whether the account holds each permission in any project. \
      Testomat.io: asks test_grep about an issue that does not exist, which proves the URL and \
      API key without creating anything. Nothing is ever written.

      Exit status: 0 when everything needed is in place, 1 otherwise.
      """,
    options: JiraOptions.connection + JiraOptions.writes + [
      OptionSpec("jira-project", valueName: "KEY", help: "Check the permissions in this Jira project.")
    ] + TestomatioOptions.connection.filter { !$0.long.hasPrefix("dry-run") }
  )

  /// Jira's names for the permissions, and why testbridge needs each.
  static let permissionInfo: [String: (name: String, why: String)] = [
    JiraPermission.browseProjects: ("Browse Projects", "to read issues, search and read properties"),
    JiraPermission.editIssues: ("Edit Issues", "to write the testbridge.runs issue property (Jira requires it for any property write)"),
    JiraPermission.linkIssues: ("Link Issues", "to add the report's remote link"),
    JiraPermission.addComments: ("Add Comments", "to add testbridge's comment"),
    editOwnComments: ("Edit Own Comments", "to edit testbridge's comment in place on reruns"),
  ]

  /// Editing a comment needs this besides Add Comments (checked only with `--jira-comment`).
  static let editOwnComments = "EDIT_OWN_COMMENTS"

  static func run(_ arguments: ParsedArguments, context: CommandContext) async throws -> ExitStatus {
    var checks = DoctorChecks(sink: context.stdout)
    context.stdout.write("testbridge doctor\n")
    let jiraOn = JiraOptions.isEnabled(arguments)
    let testomatioKey = TestomatioOptions.apiKey(arguments)
    if !jiraOn && testomatioKey == nil {
      context.stdout.write("\n")
      checks.fail("nothing is configured: set JIRA_URL (with JIRA_EMAIL + JIRA_API_TOKEN, or JIRA_PAT) and/or TESTOMATIO")
      return checks.finish()
    }
    await checkJira(arguments, context: context, enabled: jiraOn, checks: &checks)
    await checkTestomatio(arguments, context: context, key: testomatioKey, checks: &checks)
    return checks.finish()
  }

  // MARK: - Jira

  private static func checkJira(
    _ arguments: ParsedArguments, context: CommandContext, enabled: Bool, checks: inout DoctorChecks
  ) async {
    context.stdout.write("\nJira\n")
    guard enabled else {
      checks.note("off: JIRA_URL is not set, so runs update no Jira issue")
      return
    }
    let config: JiraConfig
    let level: JiraWriteLevel
    let comment: Bool
    let services: JiraServices
    do {
      config = try JiraOptions.config(arguments, context: context)
      level = try JiraOptions.level(arguments)
      comment = try JiraOptions.comment(arguments, level: level)
      services = try JiraServices(
        config: config, level: level, timeout: try TestomatioOptions.requestTimeout(arguments), arguments: arguments,
        context: context)
    } catch {
      checks.fail("configuration: \(error.message)")
      return
    }
    checks.pass("configuration: \(config.description)")
    checks.note(
      "write level '\(level.rawValue)': \(level.summary); comments \(comment ? "on" : "off") (--jira-write, --jira-comment)")
    let client = services.client
    do {
      let user = try await client.myself()
      checks.pass("signed in as \(user.label) (GET myself)")
    } catch {
      checks.fail("signing in: \(error.description)")
      if error.statusCode == 401 {
        checks.hint(
          config.deployment == .cloud
            ? "check JIRA_EMAIL and JIRA_API_TOKEN; a scoped API token also needs JIRA_CLOUD_ID"
            : "check JIRA_PAT (a personal access token of the Jira account)")
      }
      return
    }
    let project = arguments.value("jira-project").flatMap { $0.isEmpty ? nil : $0 }
    let permissions: JiraPermissions
    do {
      permissions = try await client.myPermissions(projectKey: project, permissions: JiraPermission.all + [editOwnComments])
    } catch {
      checks.fail("reading permissions: \(error.description)")
      if error.statusCode == 404, let project { checks.hint("project '\(project)' does not exist or the account cannot see it") }
      return
    }
    let place = project.map { "in project '\($0)'" } ?? "in at least one project"
    let required = level.requiredPermissions + (comment ? [editOwnComments] : [])
    for key in required {
      let info = permissionInfo[key] ?? (name: key, why: "")
      if permissions.has(key) {
        checks.pass("\(info.name) (\(key)) \(place)")
      } else {
        checks.fail("\(info.name) (\(key)) \(place) is missing: needed \(info.why)")
        checks.hint(
          "grant the Jira account the '\(info.name)' project permission"
            + (project.map { " in project '\($0)'" } ?? "") + ", or lower --jira-write")
      }
    }
    if project == nil { checks.note("pass --jira-project KEY to check the permissions in one project") }
  }

  // MARK: - Testomat.io

  private static func checkTestomatio(
    _ arguments: ParsedArguments, context: CommandContext, key: String?, checks: inout DoctorChecks
  ) async {
    context.stdout.write("\nTestomat.io\n")
    guard let key else {
      checks.note("off: TESTOMATIO is not set, so results are not reported to Testomat.io")
      return
    }
    let base: URL
    let services: HTTPServices
    let timeout: TimeInterval
    do {
      base = try TestomatioOptions.baseURL(arguments)
      services = try HTTPServices(arguments, context: context)
      timeout = try TestomatioOptions.requestTimeout(arguments)
    } catch {
      checks.fail("configuration: \(error.message)")
      return
    }
    if !key.hasPrefix("tstmt_") { checks.note("the API key does not start with 'tstmt_' as project keys do") }
    let client = TestomatioClient(transport: services.transport, baseURL: base, apiKey: key, timeout: timeout)
    do {
      _ = try await client.testGrep(type: "jira", id: "TESTBRIDGE-0")
      checks.pass("API key accepted by \(base.absoluteString) (GET /api/test_grep, a read)")
    } catch {
      checks.fail("Testomat.io: \(error.description)")
    }
  }
}

/// The doctor's running tally and its output lines.
struct DoctorChecks {
  let sink: any TextSink
  private(set) var failures = 0

  init(sink: any TextSink) {
    self.sink = sink
  }

  mutating func pass(_ text: String) { sink.write("  ok       \(text)\n") }
  mutating func note(_ text: String) { sink.write("  note     \(text)\n") }
  mutating func hint(_ text: String) { sink.write("           -> \(text)\n") }

  mutating func fail(_ text: String) {
    failures += 1
    sink.write("  FAIL     \(text)\n")
  }

  func finish() -> ExitStatus {
    if failures == 0 {
      sink.write("\nEverything testbridge needs is in place.\n")
      return .success
    }
    sink.write("\n\(failures) problem(s) found.\n")
    return .failure
  }
}
