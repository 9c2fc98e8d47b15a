import BridgeCore
import BridgeHTTP
import Foundation
import Jira
import Testomatio

/// The Jira half of a delivery: after the results went to Testomat.io, attach the report to
/// every issue the run touches. Built by ``ResultsDelivery`` when Jira is configured, so every
/// command that delivers results (`report`, `run`, `manual`) gets it.
///
/// Jira trouble never touches the Testomat.io report or the exit status: updates that could not
/// be made are spooled for `testbridge flush` and reported as warnings.
struct JiraStep: Sendable {
  let settings: JiraSettings
  let services: JiraServices
  let spoolRoot: URL
  /// How the user completes spooled updates (names `--spool-dir` when it is not the default).
  let flushCommand: String
  /// For `test_grep` when a scope is named; nil without a Testomat.io API key.
  let testomatio: TestomatioClient?

  init(
    settings: JiraSettings, arguments: ParsedArguments, context: CommandContext, testomatio: TestomatioClient?
  ) throws(CLIError) {
    self.settings = settings
    self.services = try JiraServices(
      config: settings.config, level: settings.level, timeout: settings.timeout, arguments: arguments, context: context)
    self.spoolRoot = TestomatioOptions.spool(arguments, context: context).root
    self.flushCommand = TestomatioOptions.flushCommand(arguments)
    self.testomatio = testomatio
  }

  /// The index the report streamer fills: keys always, Testomat.io ids only when a scope
  /// search will need them.
  var emptyIndex: JiraResultIndex {
    JiraResultIndex(includesTestomatioIDs: !settings.scope.isEmpty)
  }

  /// What the run tells each issue.
  func reference(run: RunInfo?, finishedAt: Date) -> JiraRunReference {
    let at = JiraRunReference.timestamp(finishedAt)
    let linkKey = settings.linkKey ?? settings.runTitle ?? "testbridge"
    return JiraRunReference(
      historyID: run?.uid ?? "\(linkKey) \(at)", testomatioRunID: run?.uid, title: settings.runTitle, linkKey: linkKey,
      url: JiraRunReference.reportURL([run?.publicURL, run?.url, settings.ciBuildURL]), at: at)
  }

  /// Works out the issues, writes to them, and spools what failed.
  func deliver(streamed: StreamedReports, run: RunInfo?, finishedAt: Date) async -> JiraDeliveryReport {
    var report = JiraDeliveryReport(site: settings.config.siteURL.absoluteString)
    let index = streamed.jiraIndex ?? emptyIndex
    let reference = reference(run: run, finishedAt: finishedAt)
    let writer = JiraIssueWriter(client: services.client, comment: settings.comment)

    var linked: [String: [String]] = [:]
    var deferredJQL: String?
    var jiraIsDown = false
    if let jql = settings.scope.query(deployment: settings.config.deployment) {
      if settings.projectSlug == nil && testomatio == nil {
        report.problems.append(
          "the Jira scope cannot be matched to tests: set TESTOMATIO_PROJECT (to read '{slug}.testomatio.tests') or TESTOMATIO (to ask Testomat.io)")
      }
      do {
        let found = try await JiraIssueWriter.linkedTests(
          client: services.client, jql: jql, projectSlug: settings.projectSlug, testomatio: testomatio)
        linked = found.linked
        report.problems += found.problems
        report.scopeIssues = found.linked.count
      } catch {
        if JiraIssueWriter.isPermanent(error) {
          report.problems.append("the Jira scope search was skipped: \(error.description)")
        } else {
          report.problems.append("the Jira scope search failed: \(error.description)")
          deferredJQL = jql
          jiraIsDown = JiraIssueWriter.isOutage(error)
        }
      }
    }

    let updates = JiraIssuePlanner.plan(
      index: index, runIssues: settings.runIssues, runTotals: streamed.totals, linkedTests: linked)
    report.results = await writer.apply(updates, run: reference, jiraIsDown: jiraIsDown)

    let retry = report.results.filter(\.isRetryable).map(\.update)
    guard services.dryRun == nil, !retry.isEmpty || deferredJQL != nil else { return report }
    let file = JiraSpoolFile(
      createdAt: reference.at, site: JiraSpoolFile.Site(settings.config), level: settings.level,
      comment: settings.comment, run: reference, updates: retry,
      deferredScope: deferredJQL.map { jql in
        JiraSpoolFile.DeferredScope(
          jql: jql, projectSlug: settings.projectSlug, testomatioURL: testomatio.flatMap { Redactor.withoutCredentials($0.baseURL)?.absoluteString }, index: index,
          settled: updates.map(\.key))
      })
    let url = JiraSpoolFile.newURL(in: spoolRoot, date: finishedAt)
    do {
      try file.write(to: url)
      report.spoolFile = url
      report.deferredScope = deferredJQL != nil
    } catch {
      report.problems.append("\(error.message); these Jira updates are lost")
    }
    return report
  }

  /// Prints the outcome, or the dry-run request list.
  func print(_ report: JiraDeliveryReport, context: CommandContext) {
    if services.dryRun != nil {
      context.stdout.write("\n")
      services.printDryRun(to: context.stdout)
      return
    }
    report.print(context: context, flushCommand: flushCommand)
  }
}

/// How the Jira step went.
struct JiraDeliveryReport: Sendable {
  var site: String
  var results: [JiraIssueResult] = []
  /// Issues the scope search found (nil when there was no scope or it failed).
  var scopeIssues: Int?
  /// Warnings for the user, in order.
  var problems: [String] = []
  /// Where the updates that failed were spooled.
  var spoolFile: URL?
  /// The scope search itself is waiting in the spool.
  var deferredScope = false

  var updated: [JiraIssueResult] { results.filter(\.isUpdated) }
  var spooled: [JiraIssueResult] { results.filter(\.isRetryable) }

  /// One line per issue on stdout; problems and the spool on stderr as warnings (Jira never
  /// changes the exit status).
  func print(context: CommandContext, heading: String = "Jira", flushCommand: String = "testbridge flush") {
    let updatedCount = updated.count
    var line = "\n\(heading) (\(site)): \(updatedCount) of \(results.count) issue(s) updated"
    if let scopeIssues { line += "; the scope search found \(scopeIssues)" }
    context.stdout.write(line + "\n")
    for result in results {
      let counts = result.update.counts.summary
      switch result.state {
      case .updated(let actions):
        context.stdout.write("  \(result.update.key): \(counts) (\(actions.joined(separator: ", ")))\n")
      case .failed(let error, let permanent):
        context.stdout.write("  \(result.update.key): \(counts) (not updated\(permanent ? "" : ", spooled"))\n")
        context.warn("Jira issue '\(result.update.key)' was not updated: \(error.description)")
      case .notAttempted:
        context.stdout.write("  \(result.update.key): \(counts) (not tried: Jira is unavailable; spooled)\n")
      }
    }
    if results.isEmpty && scopeIssues == nil {
      context.stdout.write("  no issue to update: no test carries a Jira key, and neither --jira nor a scope is set\n")
    }
    for problem in problems { context.warn(problem) }
    if let spoolFile {
      var what = "\(spooled.count) Jira issue update(s)"
      if deferredScope { what += " and the scope search" }
      context.warn("\(what) could not be made and are kept in '\(spoolFile.path)'; complete them with: \(flushCommand)")
    }
  }
}

/// `testbridge flush` for Jira spool files.
enum JiraFlush {
  /// Completes one spooled file; removes it when everything went through, or rewrites it with
  /// what is left. Returns false when something is still pending or failed.
  static func flush(
    _ url: URL, arguments: ParsedArguments, context: CommandContext, testomatioTransport: any HTTPTransport
  ) async -> Bool {
    let file: JiraSpoolFile
    let services: JiraServices
    do {
      file = try JiraSpoolFile.read(url)
      let config = try JiraOptions.config(arguments, context: context, site: file.site)
      func site(_ text: String) -> String {
        var text = Substring(text.trimmingCharacters(in: .whitespaces).lowercased())
        while text.hasSuffix("/") { text = text.dropLast() }
        return String(text)
      }
      if let configured = arguments.value("jira-url"), site(configured) != site(file.site.url) {
        context.warn("\(url.lastPathComponent) was spooled for \(file.site.url); completing it there, not at '\(configured)'")
      }
      services = try JiraServices(
        config: config, level: file.level, timeout: try TestomatioOptions.requestTimeout(arguments), arguments: arguments,
        context: context)
    } catch {
      context.error("\(url.lastPathComponent): \(error.message)")
      return false
    }
    let writer = JiraIssueWriter(client: services.client, comment: file.comment)
    var report = JiraDeliveryReport(site: file.site.url)
    var updates = file.updates
    var deferred = file.deferredScope
    var jiraIsDown = false
    if let scope = deferred {
      var testomatio: TestomatioClient?
      if let key = TestomatioOptions.apiKey(arguments), let text = scope.testomatioURL, let base = URL(string: text) {
        testomatio = TestomatioClient(
          transport: testomatioTransport, baseURL: base, apiKey: key, timeout: services.client.timeout)
      }
      do {
        let found = try await JiraIssueWriter.linkedTests(
          client: services.client, jql: scope.jql, projectSlug: scope.projectSlug, testomatio: testomatio)
        report.problems += found.problems
        report.scopeIssues = found.linked.count
        let settled = Set(scope.settled).union(updates.map(\.key))
        updates += JiraIssuePlanner.plan(
          index: scope.index, runIssues: [], runTotals: RunTotals(), linkedTests: found.linked
        ).filter { found.linked[$0.key] != nil && !settled.contains($0.key) }
        deferred = nil
      } catch {
        report.problems.append("the Jira scope search failed: \(error.description)")
        if JiraIssueWriter.isPermanent(error) { deferred = nil }
        jiraIsDown = JiraIssueWriter.isOutage(error)
      }
    }
    report.results = await writer.apply(updates, run: file.run, jiraIsDown: jiraIsDown)
    let remaining = report.results.filter(\.isRetryable).map(\.update)
    var ok = remaining.isEmpty && deferred == nil
    if ok {
      try? FileManager.default.removeItem(at: url)
    } else {
      var rest = file
      rest.updates = remaining
      if var scope = deferred {
        scope.settled = Array(Set(scope.settled).union(updates.map(\.key))).sorted()
        deferred = scope
      }
      rest.deferredScope = deferred
      do {
        try rest.write(to: url)
        report.spoolFile = url
        report.deferredScope = deferred != nil
      } catch {
        report.problems.append(error.message)
        ok = false
      }
    }
    report.print(
      context: context, heading: "Jira updates from \(url.lastPathComponent)",
      flushCommand: TestomatioOptions.flushCommand(arguments))
    return ok && report.results.allSatisfy(\.isUpdated)
  }
}
