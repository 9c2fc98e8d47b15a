import BridgeCore
import BridgeHTTP
import Foundation
import Jira

/// Options shared by every command that talks to Jira. Each one names the environment
/// variable it falls back to; flags win. Jira is off when neither `--jira-url` nor `JIRA_URL`
/// is set.
enum JiraOptions {
  /// Where Jira is and how to sign in (also used by `doctor` and `flush`).
  static let connection: [OptionSpec] = [
    OptionSpec(
      "jira-url", valueName: "URL",
      help: "Jira site, e.g. https://acme.atlassian.net or https://jira.acme.com. Jira updates are off without it.",
      environment: [JiraConfig.Variable.url]),
    OptionSpec(
      "jira-email", valueName: "EMAIL", help: "Atlassian account email for Jira Cloud (with an API token).",
      environment: [JiraConfig.Variable.email]),
    OptionSpec(
      "jira-api-token", valueName: "TOKEN",
      help: "Jira Cloud API token. Prefer the environment variable: command lines are visible to other users.",
      environment: [JiraConfig.Variable.apiToken]),
    OptionSpec(
      "jira-pat", valueName: "TOKEN",
      help: "Jira Data Center personal access token (sent as a bearer token). Prefer the environment variable.",
      environment: [JiraConfig.Variable.pat]),
    OptionSpec(
      "jira-cloud-id", valueName: "ID",
      help: "Cloud id: send requests through https://api.atlassian.com/ex/jira/{id} (needed by scoped API tokens).",
      environment: [JiraConfig.Variable.cloudID]),
    OptionSpec(
      "jira-api-version", valueName: "VERSION",
      help: "Force the REST API version: 3 (Cloud default) or 2 (Data Center, or Cloud with wiki markup).",
      environment: [JiraConfig.Variable.apiVersion], allowedValues: ["2", "3"]),
    OptionSpec(
      "jira-deployment", valueName: "KIND",
      help: "cloud or datacenter. (default: Cloud for *.atlassian.net, a cloud id or an API token; else Data Center)",
      environment: [JiraConfig.Variable.deployment]),
    OptionSpec(
      "jira-gateway-url", valueName: "URL",
      help: "Replace the Atlassian API gateway used with a cloud id (for a local sandbox)."),
  ]

  /// What testbridge may write, and what it writes.
  static let writes: [OptionSpec] = [
    OptionSpec(
      "jira-write", valueName: "LEVEL",
      help: "The widest kind of Jira write allowed: properties (issue properties only), links (also remote links) or comments (also comments).",
      defaultValue: "links", allowedValues: ["properties", "links", "comments"]),
    .flag("jira-comment", help: "Also add a comment with the results to each issue, edited in place on reruns (needs --jira-write comments)."),
  ]

  /// Which issues a run touches besides the keys its results carry, and how links are named.
  static let scope: [OptionSpec] = [
    OptionSpec(
      "jira-link-key", valueName: "KEY",
      help: "What makes a remote link 'the same' across runs: reruns with this key update their link in place. (default: the run title)"),
    OptionSpec("jira-project", valueName: "KEY", help: "Also update the issues of this Jira project that have linked tests in the run."),
    OptionSpec("jira-epic", valueName: "KEY", help: "Also update the issues of this epic that have linked tests in the run."),
    OptionSpec("jira-parent", valueName: "KEY", help: "Also update the children of this issue that have linked tests in the run."),
    OptionSpec("jira-sprint", valueName: "ID", help: "Also update the issues of this sprint that have linked tests in the run."),
    OptionSpec("jira-jql", valueName: "JQL", help: "Also update the issues this JQL finds that have linked tests in the run (ANDed with the flags above)."),
    OptionSpec(
      "testomatio-project", valueName: "SLUG",
      help: "Testomat.io project slug: linked tests are read from the issue property '{slug}.testomatio.tests'.",
      environment: ["TESTOMATIO_PROJECT"]),
  ]

  /// Every Jira option of a command that delivers results.
  static let specs: [OptionSpec] = connection + writes + scope

  /// Whether Jira is configured at all (`--jira-url` or `JIRA_URL`).
  static func isEnabled(_ arguments: ParsedArguments) -> Bool {
    guard let url = arguments.value("jira-url") else { return false }
    return !url.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
  }

  /// The connection from flags and `JIRA_*` variables. With `site` (a spooled file's), the
  /// site, deployment, API version and cloud id are the spooled ones, and only the credentials
  /// come from flags and the environment.
  static func config(
    _ arguments: ParsedArguments, context: CommandContext, site: JiraSpoolFile.Site? = nil
  ) throws(CLIError) -> JiraConfig {
    func flag(_ name: String) -> String? { arguments.source(name) == .flag ? arguments.value(name) : nil }
    var overrides = JiraConfig.Overrides(
      url: flag("jira-url"), email: flag("jira-email"), apiToken: flag("jira-api-token"), pat: flag("jira-pat"),
      cloudID: flag("jira-cloud-id"), apiVersion: flag("jira-api-version"), deployment: flag("jira-deployment"),
      gatewayURL: arguments.value("jira-gateway-url"))
    var environment = context.environment
    if let site {
      overrides.url = site.url
      overrides.deployment = site.deployment
      overrides.apiVersion = site.apiVersion
      overrides.cloudID = site.cloudID
      environment[JiraConfig.Variable.cloudID] = nil
      overrides.gatewayURL = site.gatewayURL
    }
    let config: JiraConfig
    do {
      config = try JiraConfig.resolve(environment: environment, overrides: overrides)
    } catch {
      throw CLIError(error.description, exitStatus: .usage)
    }
    do {
      try TransportPolicy.checkScheme(config.restBaseURL, allowInsecureHTTP: arguments.flag("allow-insecure-http"))
    } catch {
      throw CLIError("\(JiraConfig.Variable.url): \(error.reason)", exitStatus: .usage)
    }
    return config
  }

  /// The write level from `--jira-write`.
  static func level(_ arguments: ParsedArguments) throws(CLIError) -> JiraWriteLevel {
    let text = arguments.value("jira-write") ?? "links"
    guard let level = JiraWriteLevel(parsing: text) else {
      throw CLIError("The value '\(text)' is invalid for '--jira-write <LEVEL>': expected properties, links or comments", exitStatus: .usage)
    }
    return level
  }

  /// Whether comments are on; `--jira-comment` below the comments level is a usage error.
  static func comment(_ arguments: ParsedArguments, level: JiraWriteLevel) throws(CLIError) -> Bool {
    let wanted = arguments.flag("jira-comment")
    if wanted, level < .comments {
      throw CLIError(
        "--jira-comment needs --jira-write comments (the write level is '\(level.rawValue)': \(level.summary))",
        exitStatus: .usage)
    }
    return wanted
  }
}

/// Everything the Jira step of a delivery needs, read once from the command line.
struct JiraSettings: Sendable {
  var config: JiraConfig
  var level: JiraWriteLevel
  var comment: Bool
  /// `--jira-link-key`, when given (the run title otherwise).
  var linkKey: String?
  var runTitle: String?
  /// The run's own issues (`--jira`, `TESTOMATIO_JIRA_ID`).
  var runIssues: [String]
  var scope: JiraScope
  /// The Testomat.io project slug (`TESTOMATIO_PROJECT`).
  var projectSlug: String?
  var ciBuildURL: String?
  var timeout: TimeInterval

  /// Nil when Jira is off (no `JIRA_URL`); throws a usage error for an unusable configuration.
  static func parse(_ arguments: ParsedArguments, context: CommandContext) throws(CLIError) -> JiraSettings? {
    guard JiraOptions.isEnabled(arguments) else { return nil }
    let config = try JiraOptions.config(arguments, context: context)
    let level = try JiraOptions.level(arguments)
    let comment = try JiraOptions.comment(arguments, level: level)
    let runIssues = JiraIssuePlanner.runIssues(arguments.value("jira"))
    let scope = JiraScope(
      project: arguments.value("jira-project"), epic: arguments.value("jira-epic"),
      parent: arguments.value("jira-parent"), sprint: arguments.value("jira-sprint"), jql: arguments.value("jira-jql"))
    let slug = arguments.value("testomatio-project")?.trimmingCharacters(in: .whitespaces)
    return JiraSettings(
      config: config, level: level, comment: comment,
      linkKey: arguments.value("jira-link-key").flatMap { $0.isEmpty ? nil : $0 },
      runTitle: arguments.value("title").flatMap { $0.isEmpty ? nil : $0 }, runIssues: runIssues, scope: scope,
      projectSlug: slug?.isEmpty == false ? slug : nil,
      ciBuildURL: arguments.value("ci-build-url") ?? CIEnvironment.detect(context.environment).buildURL,
      timeout: try TestomatioOptions.requestTimeout(arguments))
  }
}

/// The composition root for Jira HTTP: the real transport with retries (429 `Retry-After`
/// honoured), pacing under Jira's rate limits (``JiraPacingTransport``) and the audit log, or a
/// dry-run recorder that answers reads with empty results.
/// Either way every request goes through the client's least-privilege guard.
struct JiraServices: Sendable {
  let client: JiraClient
  /// Set in dry-run mode: what would have been sent.
  let dryRun: DryRunTransport?
  /// `--dry-run-out`: where the requests are written whole.
  let dryRunDirectory: URL?

  init(config: JiraConfig, level: JiraWriteLevel, timeout: TimeInterval, arguments: ParsedArguments, context: CommandContext)
    throws(CLIError)
  {
    dryRunDirectory = try DryRunFiles.directory(arguments, context: context)
    if arguments.flag("dry-run") {
      let recorder = DryRunTransport(responseBody: JiraServices.dryRunAnswer)
      dryRun = recorder
      client = JiraClient(config: config, transport: recorder, level: level, timeout: timeout)
      return
    }
    dryRun = nil
    let observer = try HTTPServices.auditObserver(arguments, context: context)
    // No redirect is followed: it would be a request the least-privilege guard never checked.
    let base = URLSessionTransport(allowInsecureHTTP: arguments.flag("allow-insecure-http"), followRedirects: false)
    // Every attempt, retries included, is paced below Jira's burst and per-issue limits.
    let paced = JiraPacingTransport(base: base)
    let transport = RetryingTransport(base: paced, policy: RetryPolicy(), sleeper: TaskSleeper(), observer: observer)
    client = JiraClient(config: config, transport: transport, level: level, timeout: timeout)
  }

  /// Prints the Jira requests a dry run collected.
  func printDryRun(to sink: any TextSink) {
    guard let dryRun else { return }
    let requests = dryRun.requests
    sink.write(
      "Jira dry run: \(requests.count) request(s) would be sent, none was. Reads were answered with canned empty "
        + "results here (no issues found, no properties, links or comments), so a real run may make more calls:\n")
    for request in requests { sink.write("  \(dryRun.describe(request))\n") }
    if let dryRunDirectory, !requests.isEmpty {
      sink.write(DryRunFiles.write(requests, label: "jira", to: dryRunDirectory) + "\n")
    }
  }

  /// Empty but well-formed answers, so a dry run goes through every step without a server.
  @Sendable static func dryRunAnswer(_ request: HTTPRequest) -> [UInt8] {
    let segments = JiraRequestGuard.apiSegments(of: request.url) ?? []
    let text: String
    switch (request.method, segments.first, segments.count) {
    case (.GET, "search", _): text = #"{"issues": [], "isLast": true, "startAt": 0, "total": 0}"#
    case (.GET, "myself", _): text = #"{"displayName": "(dry run)"}"#
    case (.GET, "mypermissions", _): text = #"{"permissions": {}}"#
    case (.GET, "issue", 4) where segments[2] == "properties": text = #"{"value": {}}"#
    case (.GET, "issue", 3) where segments[2] == "remotelink": text = "[]"
    case (.GET, "issue", 3) where segments[2] == "comment": text = #"{"comments": [], "startAt": 0, "total": 0}"#
    case (.POST, "issue", 3) where segments[2] == "remotelink": text = #"{"id": 0}"#
    case (_, "issue", _) where segments.contains("comment"): text = #"{"id": "0", "body": ""}"#
    default: text = "{}"
    }
    return Array(text.utf8)
  }
}
