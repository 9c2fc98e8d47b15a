import Foundation
import Jira
import Testomatio

/// Reads a scope for `testbridge trace`, read-only: one paginated search (summary, status and
/// the `{slug}.testomatio.tests` and `testbridge.runs` properties inline), then Testomat.io's
/// `test_grep` per issue at most ``concurrency`` at a time. O(issues + links).
struct TraceLoader: Sendable {
  /// Testomat.io requests in flight at once.
  static let concurrency = 4

  let client: JiraClient
  let projectSlug: String?
  let testomatio: TestomatioClient?
  /// Read `testbridge.runs` (outcomes from the history, without a results file).
  let readHistory: Bool

  /// The issues of `jql` in Jira's order, and warnings (a failed `test_grep` leaves that issue
  /// with its property links only).
  func load(jql: String) async throws(JiraError) -> (issues: [TraceIssueData], problems: [String]) {
    let testsKey = projectSlug.map(TestomatioTestsProperty.key(projectSlug:))
    var properties: [String] = []
    if let testsKey { properties.append(testsKey) }
    if readHistory { properties.append(RunHistoryProperty.key) }
    let found = try await client.search(jql: jql, fields: ["summary", "status"], properties: properties)
    var issues = found.map { issue in
      TraceIssueData(
        key: issue.key, summary: issue.summary ?? "", status: issue.status ?? "",
        testIDs: testsKey.flatMap { issue.properties[$0] }.map(TestomatioTestsProperty.testIDs(in:)) ?? [],
        history: readHistory ? RunHistoryProperty.decode(issue.properties[RunHistoryProperty.key]).runs : [])
    }
    var problems: [String] = []
    if let testomatio {
      let keys = issues.map(\.key)
      let answers = await Concurrently.map(keys, limit: Self.concurrency) { key -> Result<[String], TestomatioError> in
        do throws(TestomatioError) {
          return .success(try await testomatio.testGrep(type: "jira", id: key))
        } catch {
          return .failure(error)
        }
      }
      for (index, answer) in answers.enumerated() {
        switch answer {
        case .success(let ids):
          var seen = Set(issues[index].testIDs)
          for id in ids.map(JiraResultIndex.normalisedTestomatioID) where !id.isEmpty && seen.insert(id).inserted {
            issues[index].testIDs.append(id)
          }
        case .failure(let error):
          problems.append("test_grep for \(issues[index].key): \(error.description)")
        }
      }
    }
    return (issues, problems)
  }
}
