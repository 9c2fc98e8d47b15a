import BridgeCore
import Foundation
import Testomatio

/// Lists the Testomat.io tests linked to a Jira issue.
public protocol LinkedTestsSource: Sendable {
  /// The linked test ids, without `@` (e.g. `T1a2b3c4d`), in Testomat.io's order, no duplicates.
  ///
  /// - Throws: ``TriggerError/testomatio(_:)`` when Testomat.io cannot answer.
  func linkedTests(jiraKey: String) async throws(TriggerError) -> [String]
}

/// A Testomat.io run created ahead of the CI job, which adopts it through `TESTOMATIO_RUN`.
public struct ScheduledRun: Sendable, Hashable {
  public var id: String
  public var url: String?

  public init(id: String, url: String? = nil) {
    self.id = id
    self.url = url
  }
}

/// Creates the Testomat.io run before CI starts, and closes it if CI never does.
public protocol RunScheduler: Sendable {
  /// Creates a run attached to the Jira issue.
  func createRun(jiraKey: String, title: String) async throws(TriggerError) -> ScheduledRun
  /// Finishes the run as failed because CI could not be started.
  func markFailed(runID: String, reason: String) async throws(TriggerError)
}

/// ``LinkedTestsSource`` over `GET /api/test_grep?type=jira&id=KEY`.
public struct TestomatioLinkedTests: LinkedTestsSource {
  public let client: TestomatioClient

  public init(client: TestomatioClient) {
    self.client = client
  }

  public func linkedTests(jiraKey: String) async throws(TriggerError) -> [String] {
    do {
      return Self.normalized(try await client.testGrep(type: "jira", id: jiraKey))
    } catch {
      throw .testomatio(error.description)
    }
  }

  /// Ids in Testomat.io's grep form (`T1a2b3c4d`, see ``TestIdentifiers/grepForm(_:)``),
  /// empty ones and repeats dropped, order kept; ids that would break the `|`-joined grep
  /// are dropped too.
  public static func normalized(_ ids: [String]) -> [String] {
    var seen: Set<String> = []
    var result: [String] = []
    for raw in ids {
      let id = TestIdentifiers.grepForm(raw)
      guard !id.isEmpty, !id.contains("|"), id.allSatisfy({ !$0.isWhitespace }) else { continue }
      if seen.insert(id).inserted { result.append(id) }
    }
    return result
  }
}

/// ``RunScheduler`` over the reporter API: `POST /api/reporter` with `jira_id`, and
/// `PUT /api/reporter/{id}` with `status_event: fail`.
///
/// The reporter API's finish body has no field for a reason, so the reason of a failed start is
/// reported to Jira and logged, not stored on the run.
public struct TestomatioRunScheduler: RunScheduler {
  public let client: TestomatioClient

  public init(client: TestomatioClient) {
    self.client = client
  }

  public func createRun(jiraKey: String, title: String) async throws(TriggerError) -> ScheduledRun {
    do {
      let run = try await client.createRun(RunRequestBody(title: title, jiraID: jiraKey, kind: "automated"))
      return ScheduledRun(id: run.uid, url: run.url)
    } catch {
      throw .testomatio(error.description)
    }
  }

  public func markFailed(runID: String, reason: String) async throws(TriggerError) {
    do {
      try await client.finishRun(runID, FinishBody(statusEvent: "fail"))
    } catch {
      throw .testomatio(error.description)
    }
  }
}
