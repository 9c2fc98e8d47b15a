import BridgeCore
import Foundation
import Jira
import Testomatio

/// What happened to one issue.
struct JiraIssueResult: Sendable {
  enum State: Sendable {
    /// Every write for the issue was made; `actions` says which.
    case updated(actions: [String])
    /// A write failed. `permanent` failures (the issue does not exist or is not visible, a
    /// request Jira or the guard refuses as such) are not worth repeating; the others are spooled.
    case failed(JiraError, permanent: Bool)
    /// Not tried: Jira had already failed in a way that affects every issue (unreachable,
    /// credentials refused, overloaded), so the update went straight to the spool.
    case notAttempted
  }

  var update: JiraIssueUpdate
  var state: State

  var isUpdated: Bool {
    if case .updated = state { return true }
    return false
  }

  /// True when a later `flush` may succeed.
  var isRetryable: Bool {
    switch state {
    case .updated: return false
    case .failed(_, let permanent): return !permanent
    case .notAttempted: return true
    }
  }
}

/// Makes a run's writes on Jira issues, and finds the issues of a scope. Used by every
/// command that delivers results and by `flush`.
///
/// Per issue, in order and only as the write level allows: the remote link (upserted by
/// its global id), the `testbridge.runs` property (read, recorded, written) and, with
/// `--jira-comment`, the comment (found by its marker and edited, or added). That is at most
/// three writes per issue per run, far below Jira's per-issue limits (20 writes per 2 s, 100
/// per 30 s); at most ``concurrency`` issues are worked on at once, the client's transport paces
/// requests below Jira's burst limits (``JiraPacingTransport``), and a 429 is retried after its
/// `Retry-After`.
struct JiraIssueWriter: Sendable {
  /// Issues (and `test_grep` calls) in flight at once.
  static let concurrency = 4

  let client: JiraClient
  let comment: Bool

  // MARK: - Scope

  /// The issues `jql` finds, each with the Testomat.io ids linked to it: from the issue
  /// property `{slug}.testomatio.tests` (returned inline by the search) and from Testomat.io's
  /// `test_grep?type=jira`. `problems` collects `test_grep` failures (the property still counts).
  static func linkedTests(
    client: JiraClient, jql: String, projectSlug: String?, testomatio: TestomatioClient?
  ) async throws(JiraError) -> (linked: [String: [String]], problems: [String]) {
    let propertyKey = projectSlug.map(TestomatioTestsProperty.key(projectSlug:))
    let issues = try await client.search(jql: jql, fields: ["key"], properties: propertyKey.map { [$0] } ?? [])
    var linked: [String: [String]] = [:]
    for issue in issues {
      var ids: [String] = []
      if let propertyKey, let value = issue.properties[propertyKey] {
        ids = TestomatioTestsProperty.testIDs(in: value)
      }
      linked[issue.key] = ids
    }
    var problems: [String] = []
    if let testomatio {
      let keys = issues.map(\.key)
      let answers = await Concurrently.map(keys, limit: concurrency) { key -> (String, Result<[String], TestomatioError>) in
        do throws(TestomatioError) {
          return (key, .success(try await testomatio.testGrep(type: "jira", id: key)))
        } catch {
          return (key, .failure(error))
        }
      }
      for (key, answer) in answers {
        switch answer {
        case .success(let ids):
          for id in ids.map(JiraResultIndex.normalisedTestomatioID) where !(linked[key]?.contains(id) ?? false) {
            linked[key, default: []].append(id)
          }
        case .failure(let error): problems.append(error.description)
        }
      }
    }
    return (linked, problems)
  }

  // MARK: - Writes

  /// Writes every update, at most ``concurrency`` issues at once; results in `updates` order.
  ///
  /// Once a failure shows Jira is unusable for every issue (see ``isOutage(_:)``), the issues
  /// not yet started are not tried: they are returned as ``JiraIssueResult/State/notAttempted``
  /// for the spool, instead of waiting out the retries of each one against a service that is down.
  /// - Parameter jiraIsDown: an earlier call already showed an outage; nothing is tried.
  func apply(_ updates: [JiraIssueUpdate], run: JiraRunReference, jiraIsDown: Bool = false) async -> [JiraIssueResult] {
    let outage = OutageFlag()
    if jiraIsDown { outage.set() }
    return await Concurrently.map(updates, limit: Self.concurrency) { update in
      if outage.isSet { return JiraIssueResult(update: update, state: .notAttempted) }
      let result = await write(update, run: run)
      if case .failed(let error, _) = result.state, Self.isOutage(error) { outage.set() }
      return result
    }
  }

  /// Failures that will hit every issue alike: no answer, refused credentials (401), or an
  /// overloaded server (429 or 5xx after the transport's retries).
  static func isOutage(_ error: JiraError) -> Bool {
    switch error {
    case .transport: return true
    case .status(_, _, let code, _, _): return code == 401 || code == 429 || code >= 500
    default: return false
    }
  }

  /// Makes every write for one issue; the first failure stops the issue (a later flush redoes
  /// all of them, and each is idempotent: the link by global id, the history by run id, the
  /// comment by its marker).
  func write(_ update: JiraIssueUpdate, run: JiraRunReference) async -> JiraIssueResult {
    var actions: [String] = []
    do throws(JiraError) {
      if client.level >= .links {
        if let url = run.url {
          let result = try await client.upsertRemoteLink(
            issue: update.key, globalID: run.globalID,
            title: RemoteLinkTitle.make(counts: update.counts, runTitle: run.shownTitle), url: url,
            resolved: update.allPassed, summary: "\(update.counts.summary) · \(run.at)")
          actions.append(result.created ? "link created" : "link updated")
        } else {
          actions.append("no link (no report URL)")
        }
      }
      let history = try await client.property(issue: update.key, key: RunHistoryProperty.key)
      var property = RunHistoryProperty.decode(history)
      property.record(
        RunSummary(
          runID: run.historyID, title: run.title, url: run.url, status: update.status, passed: update.counts.passed,
          failed: update.counts.failed, skipped: update.counts.skipped, flaky: update.counts.flaky, at: run.at))
      try await client.setProperty(issue: update.key, key: RunHistoryProperty.key, json: property.encoded())
      actions.append("run history")
      if comment, client.level >= .comments {
        let document = Self.commentDocument(update, run: run)
        let marker = Self.commentMarker(run)
        let existing = try await client.comments(issue: update.key).last { $0.body.plainText.contains(marker) }
        if let existing {
          try await client.updateComment(issue: update.key, id: existing.id, document)
          actions.append("comment updated")
        } else {
          try await client.addComment(issue: update.key, document)
          actions.append("comment added")
        }
      }
    } catch {
      return JiraIssueResult(update: update, state: .failed(error, permanent: Self.isPermanent(error)))
    }
    return JiraIssueResult(update: update, state: .updated(actions: actions))
  }

  /// The text that identifies testbridge's own comment for a link key (no wiki-markup characters,
  /// so it reads the same in ADF and wiki bodies).
  static func commentMarker(_ run: JiraRunReference) -> String {
    "testbridge-link \(run.globalID)"
  }

  /// The comment: the counts and report link, then a line with the marker.
  static func commentDocument(_ update: JiraIssueUpdate, run: JiraRunReference) -> JiraCommentDocument {
    var first: [JiraCommentDocument.Inline] = [
      .strong("testbridge"), .text(": \(update.counts.summary) · \(run.shownTitle)"),
    ]
    if let url = run.url {
      first.append(.text(" · "))
      first.append(.link(text: "report", url: url))
    }
    let runName = run.testomatioRunID.map { "Testomat.io run \($0)" } ?? "Run"
    let second: [JiraCommentDocument.Inline] = [
      .text("\(runName), \(run.at). Updated in place by later runs (\(commentMarker(run))).")
    ]
    return JiraCommentDocument(paragraphs: [first, second])
  }

  /// Failures a repeat cannot fix: a missing or invisible issue, a bad request, a guard refusal
  /// or an argument testbridge itself rejected.
  static func isPermanent(_ error: JiraError) -> Bool {
    switch error {
    case .forbiddenRequest, .foreignRequest, .invalidArgument, .invalidPropertyValue, .missingConfiguration,
      .invalidConfiguration:
      return true
    case .status(_, _, let code, _, _):
      return [400, 404, 410].contains(code)
    case .transport, .unexpectedResponse:
      return false
    }
  }
}

/// Set once any issue shows Jira is down; read by the tasks starting later issues.
private final class OutageFlag: Sendable {
  private let flag = Locked(false)
  var isSet: Bool { flag.withLock { $0 } }
  func set() { flag.withLock { $0 = true } }
}

/// Bounded concurrency over a list.
enum Concurrently {
  /// `body` over `items` with at most `limit` running at once; results in `items` order.
  static func map<Item: Sendable, Result: Sendable>(
    _ items: [Item], limit: Int, _ body: @escaping @Sendable (Item) async -> Result
  ) async -> [Result] {
    var results: [Result?] = Array(repeating: nil, count: items.count)
    await withTaskGroup(of: (Int, Result).self) { group in
      var next = 0
      while next < min(max(1, limit), items.count) {
        let index = next
        group.addTask { (index, await body(items[index])) }
        next += 1
      }
      while let (index, result) = await group.next() {
        results[index] = result
        if next < items.count {
          let index = next
          group.addTask { (index, await body(items[index])) }
          next += 1
        }
      }
    }
    return results.compactMap { $0 }
  }
}
