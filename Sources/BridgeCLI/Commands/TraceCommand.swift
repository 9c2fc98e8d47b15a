import Foundation
import Jira
import Testomatio

/// `testbridge trace`: the traceability matrix of a Jira scope (which issues have tests, and
/// are they green?), read-only, as a table, Markdown, JSON or one HTML page; with
/// `--fail-under`, a release gate on coverage.
struct TraceCommand: Command {
  static let spec = CommandSpec(
    name: "trace",
    abstract: "Show which Jira issues in a sprint, epic or project have tests, and their latest outcomes.",
    discussion: """
      Read-only. Searches the issues in scope (at least one of --jira-project, --jira-epic, \
      --jira-parent, --jira-sprint, --jira-jql), reads the tests linked to each from \
      Testomat.io's '{slug}.testomatio.tests' issue property (--testomatio-project) and, when \
      TESTOMATIO is set, from Testomat.io's test_grep. Each test's latest outcome comes from \
      --results FILE (a testbridge-results/1 file or a 'parse --format json' document), or else \
      from each issue's testbridge.runs property: then the issue's latest run verdict stands for \
      all of its tests, as the property keeps counts, not test ids.

      Coverage is the share of issues in scope with at least one linked test.

      With --config, a profile supplies the Jira site, the Testomat.io project and the names of \
      the variables holding their secrets: the one named by --profile, else the one owning the \
      scope's Jira project.

      Exit status: 0, or 1 when coverage is below --fail-under or Jira cannot be read; 64 for \
      usage errors.
      """,
    options: JiraOptions.connection.map { spec in
      var spec = spec
      if spec.long == "jira-url" { spec.help = "Jira site, e.g. https://acme.atlassian.net or https://jira.acme.com (required)." }
      return spec
    } + scopeOptions + TestomatioOptions.connection.filter { !$0.long.hasPrefix("dry-run") }
      + ProjectConfig.options + [
      OptionSpec(
        "results", valueName: "FILE",
        help: "Latest outcomes from this results file (testbridge-results/1 or 'parse --format json'). (default: each issue's testbridge.runs)"),
      OptionSpec(
        "format", valueName: "FORMAT", help: "table (for a terminal), markdown, json (documented schema) or html (one self-contained page).",
        defaultValue: "table", allowedValues: ["table", "markdown", "json", "html"]),
      OptionSpec("output", short: "o", valueName: "FILE", help: "Write the matrix to FILE instead of stdout."),
      OptionSpec(
        "fail-under", valueName: "PERCENT",
        help: "Exit 1 when fewer than PERCENT % of the issues in scope have a linked test (a release gate)."),
    ]
  )

  static let scopeOptions: [OptionSpec] = [
    OptionSpec("jira-project", valueName: "KEY", help: "The issues of this Jira project."),
    OptionSpec("jira-epic", valueName: "KEY", help: "The issues of this epic."),
    OptionSpec("jira-parent", valueName: "KEY", help: "The children of this issue."),
    OptionSpec("jira-sprint", valueName: "ID", help: "The issues of this sprint (id or name)."),
    OptionSpec("jira-jql", valueName: "JQL", help: "The issues this JQL finds (ANDed with the flags above)."),
    OptionSpec(
      "testomatio-project", valueName: "SLUG",
      help: "Testomat.io project slug: linked tests are read from the issue property '{slug}.testomatio.tests'.",
      environment: ["TESTOMATIO_PROJECT"]),
  ]

  static func run(_ arguments: ParsedArguments, context: CommandContext) async throws -> ExitStatus {
    let scope = JiraScope(
      project: arguments.value("jira-project"), epic: arguments.value("jira-epic"),
      parent: arguments.value("jira-parent"), sprint: arguments.value("jira-sprint"), jql: arguments.value("jira-jql"))
    guard !scope.isEmpty else {
      throw CLIError(
        "no scope: pass at least one of --jira-project, --jira-epic, --jira-parent, --jira-sprint or --jira-jql",
        exitStatus: .usage)
    }
    guard JiraOptions.isEnabled(arguments) else {
      throw CLIError("Jira is not configured: set JIRA_URL (or pass --jira-url)", exitStatus: .usage)
    }
    let gate = try failUnder(arguments)
    let format = arguments.value("format") ?? "table"
    let config = try JiraOptions.config(arguments, context: context)
    let timeout = try TestomatioOptions.requestTimeout(arguments)
    let results: TraceResults? = try arguments.value("results").map { path throws(CLIError) in
      let absolute = context.absolutePath(path)
      guard let data = FileManager.default.contents(atPath: absolute) else {
        throw CLIError("cannot read the results file '\(path)'", exitStatus: .usage)
      }
      return try TraceResults.read(data, path: path)
    }
    let slug = arguments.value("testomatio-project")?.trimmingCharacters(in: .whitespaces).nilIfEmpty
    var testomatio: TestomatioClient?
    if let key = TestomatioOptions.apiKey(arguments) {
      let services = try HTTPServices(arguments, context: context)
      testomatio = TestomatioClient(
        transport: services.transport, baseURL: try TestomatioOptions.baseURL(arguments), apiKey: key, timeout: timeout)
    }
    if slug == nil && testomatio == nil {
      context.warn(
        "linked tests cannot be read: set TESTOMATIO_PROJECT (to read '{slug}.testomatio.tests') or TESTOMATIO (to ask Testomat.io)"
          + (results == nil ? "" : "; only tests the results file tags with an issue key count"))
    }
    // Read-only: the lowest write level, and nothing here writes.
    let services = try JiraServices(
      config: config, level: .properties, timeout: timeout, arguments: arguments, context: context)
    guard let jql = scope.query(deployment: config.deployment) else { return .usage }
    let loader = TraceLoader(client: services.client, projectSlug: slug, testomatio: testomatio, readHistory: results == nil)
    let loaded: (issues: [TraceIssueData], problems: [String])
    do {
      loaded = try await loader.load(jql: jql)
    } catch {
      throw CLIError("reading the Jira scope: \(error.description)")
    }
    for problem in loaded.problems { context.warn(problem) }
    let matrix = TraceBuilder.matrix(scope: jql, issues: loaded.issues, results: results)
    if matrix.rows.isEmpty { context.warn("no issue in scope: \(jql)") }

    let text: String
    switch format {
    case "json": text = TraceRenderer.json(matrix)
    case "markdown": text = TraceRenderer.markdown(matrix)
    case "html": text = TraceHTML.render(matrix, generatedAt: Self.timestamp(Date()))
    default: text = TraceRenderer.table(matrix)
    }
    if let path = arguments.value("output") {
      do {
        try Data(text.utf8).write(to: URL(fileURLWithPath: context.absolutePath(path)), options: .atomic)
      } catch {
        throw CLIError("cannot write '\(path)': \(error.localizedDescription)")
      }
      context.stdout.write(
        "Traceability: \(matrix.figures.issuesWithTests) of \(matrix.figures.issues) issue(s) have tests "
          + "(\(TraceFigures.format(matrix.figures.coveragePercent))%); written to \(path)\n")
    } else {
      context.stdout.write(text)
    }

    if let gate {
      let coverage = matrix.figures.coveragePercent
      if coverage < gate {
        context.error(
          "coverage \(TraceFigures.format(coverage))% is below --fail-under \(TraceFigures.format(gate))%: "
            + "\(matrix.figures.issuesUntested) issue(s) in scope have no linked test")
        return .failure
      }
    }
    return .success
  }

  /// `--fail-under PERCENT`: a number from 0 to 100 (a trailing `%` is allowed).
  static func failUnder(_ arguments: ParsedArguments) throws(CLIError) -> Double? {
    guard let text = arguments.value("fail-under") else { return nil }
    var trimmed = text.trimmingCharacters(in: .whitespaces)
    if trimmed.hasSuffix("%") { trimmed.removeLast() }
    guard let value = Double(trimmed), value.isFinite, value >= 0, value <= 100 else {
      throw CLIError("The value '\(text)' is invalid for '--fail-under <PERCENT>': expected 0 to 100", exitStatus: .usage)
    }
    return value
  }

  static func timestamp(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.string(from: date)
  }
}

extension String {
  fileprivate var nilIfEmpty: String? { isEmpty ? nil : self }
}
