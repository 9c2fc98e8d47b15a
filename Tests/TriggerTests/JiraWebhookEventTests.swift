import Testing
import Trigger

@Suite struct JiraWebhookEventTests {
  private func parse(_ text: String) throws(TriggerError) -> JiraWebhookEvent {
    try JiraWebhookEvent.parse(Array(text.utf8))
  }

  private func failure(_ text: String) -> String? {
    do {
      _ = try parse(text)
      return nil
    } catch {
      return error.reason
    }
  }

  @Test func adminWebhookWithTransition() throws {
    let event = try JiraWebhookEvent.parse(adminWebhook(key: "PROJ-12", to: "In QA", labels: ["checkout", "smoke"]))
    #expect(event.source == .webhook)
    #expect(event.event == "jira:issue_updated")
    #expect(event.issueEventType == "issue_generic")
    #expect(event.issueKey == "PROJ-12")
    #expect(event.projectKey == "PROJ")
    #expect(event.labels == ["checkout", "smoke"])
    #expect(event.status == "In QA")
    #expect(event.statusChanges == [JiraWebhookEvent.StatusChange(from: "Open", to: "In QA")])
    #expect(event.transitionTargets == ["In QA"])
  }

  @Test func adminWebhookWithoutChangelog() throws {
    let event = try JiraWebhookEvent.parse(adminWebhook(key: "WEB-3", event: "jira:issue_created"))
    #expect(event.event == "jira:issue_created")
    #expect(event.statusChanges.isEmpty)
    #expect(event.transitionTargets.isEmpty)
    #expect(event.status == "Open")
  }

  @Test func projectKeyComesFromFieldsWhenPresent() throws {
    let event = try parse(
      #"{"webhookEvent":"jira:issue_updated","issue":{"key":"AB-1","fields":{"project":{"key":"ABC"}}}}"#)
    #expect(event.projectKey == "ABC")
  }

  @Test(
    "automation bodies",
    arguments: [
      (#"{"issue": {"key": "PROJ-7"}}"#, "PROJ-7", "automation"),
      (#"{"issueKey": "PROJ-8", "event": "release"}"#, "PROJ-8", "release"),
      (#"{"key": "OPS-9"}"#, "OPS-9", "automation"),
      (#"{"key": "OPS-10", "fields": {"labels": ["x"], "status": {"name": "Done"}}}"#, "OPS-10", "automation"),
      (#"  {"issue": {"key": "A_B-1", "fields": {"project": {"key": "A_B"}}}}  "#, "A_B-1", "automation"),
    ])
  func automationBodies(body: String, key: String, event: String) throws {
    let parsed = try parse(body)
    #expect(parsed.source == .automation)
    #expect(parsed.issueKey == key)
    #expect(parsed.event == event)
  }

  @Test func automationLabelsAndStatus() throws {
    let event = try parse(#"{"issueKey": "PROJ-8", "labels": ["run-tests"], "status": "Ready for QA"}"#)
    #expect(event.labels == ["run-tests"])
    #expect(event.status == "Ready for QA")
    #expect(event.transitionTargets == ["Ready for QA"])
    #expect(event.projectKey == "PROJ")
  }

  @Test func automationJiraFormatWithFields() throws {
    let event = try parse(
      #"{"issue": {"key": "PROJ-4", "fields": {"labels": ["a"], "status": {"name": "In QA"}, "project": {"key": "PROJ"}}}}"#)
    #expect(event.labels == ["a"])
    #expect(event.status == "In QA")
    #expect(event.transitionTargets == ["In QA"])
  }

  @Test(
    "malformed and wrongly typed bodies",
    arguments: [
      ("", "empty"),
      ("   ", "empty"),
      ("not json", "JSON object"),
      ("[1, 2]", "JSON object"),
      (#""PROJ-1""#, "JSON object"),
      ("42", "JSON object"),
      ("{", "valid JSON"),
      (#"{"issueKey": "PROJ-1" "x": 1}"#, "valid JSON"),
      (#"{"issueKey": 'PROJ-1'}"#, "valid JSON"),
      (#"{"webhookEvent": 5, "issue": {"key": "PROJ-1"}}"#, "'webhookEvent' must be a string"),
      (#"{"issue": "PROJ-1"}"#, "'issue' must be an object"),
      (#"{"issue": {"key": 17}}"#, "'issue.key' must be a string"),
      (#"{"issue": {}}"#, "'issue.key' is required"),
      (#"{"issue": {"key": "PROJ-1", "fields": []}}"#, "'issue.fields' must be an object"),
      (#"{"issue": {"key": "PROJ-1", "fields": {"labels": "smoke"}}}"#, "'issue.fields.labels' must be an array"),
      (#"{"issue": {"key": "PROJ-1", "fields": {"labels": ["a", 1]}}}"#, "'issue.fields.labels[1]' must be a string"),
      (#"{"issue": {"key": "PROJ-1", "fields": {"status": "Done"}}}"#, "'issue.fields.status' must be an object"),
      (#"{"issue": {"key": "PROJ-1", "fields": {"project": {"key": "1X"}}}}"#, "not a Jira project key"),
      (#"{"issueKey": ["PROJ-1"]}"#, "'issueKey' must be a string"),
      (#"{"key": "PROJ-1", "labels": [null]}"#, "'labels[0]' must be a string"),
      (#"{"key": "PROJ-1", "status": true}"#, "'status' must be a string"),
      (#"{"key": "PROJ-1", "event": "has space"}"#, "'event' must be"),
      (#"{"key": "PROJ-1", "event": ""}"#, "'event' must be"),
      (#"{"summary": "no key"}"#, "no issue key"),
      (#"{"key": "not a key"}"#, "not a Jira issue key"),
      (#"{"key": "PROJ-"}"#, "not a Jira issue key"),
      (#"{"key": "PROJ-0x1"}"#, "not a Jira issue key"),
      (#"{"key": "-1"}"#, "not a Jira issue key"),
      (#"{"key": "PROJ-1/../../x"}"#, "not a Jira issue key"),
      (#"{"webhookEvent": "jira:issue_updated", "issue": {"key": "P-1"}, "changelog": {"items": {}}}"#, "'changelog.items' must be an array"),
      (#"{"webhookEvent": "jira:issue_updated", "issue": {"key": "P-1"}, "changelog": {"items": [3]}}"#, "'changelog.items[0]' must be an object"),
      (#"{"webhookEvent": "jira:issue_updated", "issue": {"key": "P-1"}, "changelog": {"items": [{"field": "status", "toString": 3}]}}"#, "'changelog.items[0].toString' must be a string"),
    ])
  func malformed(body: String, problem: String) {
    let reason = failure(body)
    #expect(reason?.contains(problem) == true, "\(reason ?? "parsed")")
  }

  @Test func hostileNestingIsRefusedWithoutRecursion() {
    let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
    #expect(failure(#"{"key": "PROJ-1", "x": \#(deep)}"#)?.contains("nested deeper") == true)
    let deepObjects = String(repeating: #"{"a":"#, count: 70) + "1" + String(repeating: "}", count: 70)
    #expect(failure(deepObjects)?.contains("nested deeper") == true)
  }

  @Test func bracketsInsideStringsDoNotCountAsNesting() throws {
    let brackets = String(repeating: "[{", count: 500)
    let event = try parse(#"{"key": "PROJ-1", "summary": "\#(brackets) \" \\ ]"}"#)
    #expect(event.issueKey == "PROJ-1")
  }

  @Test func moderateNestingIsAccepted() throws {
    let nested = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
    let event = try parse(#"{"key": "PROJ-1", "description": \#(nested)}"#)
    #expect(event.issueKey == "PROJ-1")
  }

  @Test func oversizedBodyIsRefused() {
    let filler = String(repeating: "x", count: JiraWebhookEvent.maxBodyBytes)
    #expect(failure(#"{"key": "PROJ-1", "f": "\#(filler)"}"#)?.contains("larger than") == true)
  }

  @Test func invalidUTF8IsRefused() {
    var bytes = Array(#"{"key": "PROJ-1", "x": ""}"#.utf8)
    bytes.insert(0xFF, at: bytes.count - 2)
    #expect(throws: TriggerError.self) { try JiraWebhookEvent.parse(bytes) }
  }

  @Test func unknownMembersAndNullsAreTolerated() throws {
    let event = try parse(
      #"{"webhookEvent": "jira:issue_updated", "issue_event_type_name": null, "matchedWebhookIds": [1], "issue": {"key": "PROJ-1", "fields": {"labels": null, "status": null, "customfield_10000": {"a": [1, {"b": null}]}}}, "changelog": null}"#
    )
    #expect(event.labels.isEmpty)
    #expect(event.status == nil)
    #expect(event.issueEventType == nil)
  }
}
