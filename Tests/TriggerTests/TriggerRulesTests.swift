import Foundation
import Testing
import Trigger

@Suite struct TriggerRulesTests {
  private func rules(_ text: String) throws(TriggerError) -> TriggerRules {
    try TriggerRules.parse(Array(text.utf8))
  }

  private func event(
    key: String = "PROJ-1", event: String = "jira:issue_updated", source: JiraWebhookEvent.Source = .webhook,
    labels: [String] = [], status: String? = nil, to: String? = nil
  ) -> JiraWebhookEvent {
    JiraWebhookEvent(
      source: source, event: event, issueKey: key, labels: labels, status: status,
      statusChanges: to.map { [JiraWebhookEvent.StatusChange(from: "Open", to: $0)] } ?? [])
  }

  private let config = #"""
    {
      "rules": [
        {"name": "qa", "projects": ["PROJ"], "events": ["jira:issue_updated"], "transition_to": "Ready for QA",
         "ci": "github", "title": "Jira {issue} ({status})"},
        {"name": "ops", "issues": ["OPS-7"], "label": "run-tests", "ci": "gitlab"},
        {"name": "automation", "events": ["automation"], "projects": ["WEB"]}
      ]
    }
    """#

  @Test func defaultRulesTriggerEverything() {
    let decision = TriggerRules.default.decide(event(), defaultCI: .gitlab)
    #expect(decision == .trigger(TriggerPlan(ruleName: "rule 'default'", ci: .gitlab, title: "Jira PROJ-1")))
  }

  @Test(
    "first matching rule wins",
    arguments: [
      // transition to the right status, any case
      ("PROJ-1", "jira:issue_updated", JiraWebhookEvent.Source.webhook, [String](), String?.none, "ready for qa", "qa"),
      // label + issue
      ("OPS-7", "jira:issue_updated", .webhook, ["Run-Tests"], nil, nil, "ops"),
      // automation source matches "automation" whatever its event name
      ("WEB-2", "release", .automation, [], nil, nil, "automation"),
      // automation status counts as the transition target
      ("PROJ-3", "jira:issue_updated", .automation, [], "Ready for QA", nil, "qa"),
    ] as [(String, String, JiraWebhookEvent.Source, [String], String?, String?, String)])
  func matching(
    key: String, name: String, source: JiraWebhookEvent.Source, labels: [String], status: String?, to: String?,
    rule: String
  ) throws {
    let decision = try rules(config).decide(
      event(key: key, event: name, source: source, labels: labels, status: status, to: to), defaultCI: .github)
    guard case .trigger(let plan) = decision else {
      Issue.record("expected a trigger, got \(decision)")
      return
    }
    #expect(plan.ruleName == "rule '\(rule)'")
  }

  @Test(
    "events that match no rule",
    arguments: [
      ("PROJ-1", "jira:issue_updated", [String](), String?.none, "In Progress", "no transition to 'Ready for QA'"),
      ("PROJ-1", "jira:issue_created", [], nil, "Ready for QA", "event 'jira:issue_created' is not one of"),
      ("OPS-7", "jira:issue_updated", ["other"], nil, nil, "has no label 'run-tests'"),
      ("OPS-8", "jira:issue_updated", ["run-tests"], nil, nil, "issue 'OPS-8' is not one of OPS-7"),
      ("XYZ-1", "jira:issue_updated", [], nil, nil, "project 'XYZ' is not one of PROJ"),
    ] as [(String, String, [String], String?, String?, String)])
  func ignored(key: String, name: String, labels: [String], status: String?, to: String?, reason: String) throws {
    let decision = try rules(config).decide(
      event(key: key, event: name, labels: labels, status: status, to: to), defaultCI: .github)
    guard case .ignore(let text) = decision else {
      Issue.record("expected ignore, got \(decision)")
      return
    }
    #expect(text.hasPrefix("no rule matches"))
    #expect(text.contains(reason), "\(text)")
  }

  @Test func ciAndTitleComeFromTheRule() throws {
    let parsed = try rules(config)
    let qa = parsed.decide(event(to: "Ready for QA"), defaultCI: .gitlab)
    #expect(qa == .trigger(TriggerPlan(ruleName: "rule 'qa'", ci: .github, title: "Jira PROJ-1 (Ready for QA)")))
    let automation = parsed.decide(event(key: "WEB-1", event: "automation", source: .automation), defaultCI: .gitlab)
    #expect(automation == .trigger(TriggerPlan(ruleName: "rule 'automation'", ci: .gitlab, title: "Jira WEB-1")))
    #expect(parsed.ciKinds(defaultCI: .github) == [.github, .gitlab])
  }

  @Test func titleTemplates() {
    let rule = TriggerRule(titleTemplate: "{project}/{issue} on {event} {unknown} {status")
    #expect(rule.title(for: event()) == "PROJ/PROJ-1 on jira:issue_updated {unknown} {status")
    let blank = TriggerRule(titleTemplate: "{status}")
    #expect(blank.title(for: event()) == "Jira PROJ-1")
    let long = TriggerRule(titleTemplate: String(repeating: "x", count: 400))
    #expect(long.title(for: event()).count == 255)
  }

  @Test func rulesWithoutNamesAreNumbered() throws {
    let parsed = try rules(#"{"rules": [{"projects": ["A"]}, {"projects": ["B"]}]}"#)
    #expect(parsed.rules.map(\.name) == ["rule 1", "rule 2"])
  }

  @Test(
    "invalid rules files",
    arguments: [
      ("", "not valid JSON"),
      ("[]", "must be a JSON object"),
      (#"{"rule": []}"#, "'rule' is not a rules file member"),
      (#"{"rules": {}}"#, "'rules' must be an array"),
      (#"{"rules": []}"#, "'rules' is empty"),
      (#"{"rules": [3]}"#, "'rules[0]' must be an object"),
      (#"{"rules": [{"project": ["A"]}]}"#, "'rules[0].project' is not a rule member"),
      (#"{"rules": [{"projects": "A"}]}"#, "'rules[0].projects' must be an array of strings"),
      (#"{"rules": [{"projects": []}]}"#, "'rules[0].projects' is empty"),
      (#"{"rules": [{"events": [1]}]}"#, "'rules[0].events[0]' must be a non-empty string"),
      (#"{"rules": [{}, {"ci": "jenkins"}]}"#, "'rules[1].ci' must be one of github, gitlab, got 'jenkins'"),
      (#"{"rules": [{"label": 5}]}"#, "'rules[0].label' must be a string"),
      (#"{"rules": [{"transition_to": " "}]}"#, "'rules[0].transition_to' must not be empty"),
      (#"{"rules": [{"title": "Run {ticket}"}]}"#, "unknown placeholder '{ticket}'"),
    ])
  func invalid(text: String, problem: String) {
    do {
      _ = try rules(text)
      Issue.record("parsed: \(text)")
    } catch {
      #expect(error.reason.contains(problem), "\(error.reason)")
    }
  }

  @Test func loadsFromAFileAndNamesThePathOnErrors() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("trigger-rules-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let good = directory.appendingPathComponent("rules.json")
    try Data(config.utf8).write(to: good)
    #expect(try TriggerRules.load(path: good.path).rules.count == 3)

    let bad = directory.appendingPathComponent("bad.json")
    try Data(#"{"rules": [{"ci": "x"}]}"#.utf8).write(to: bad)
    do {
      _ = try TriggerRules.load(path: bad.path)
      Issue.record("loaded an invalid file")
    } catch {
      #expect(error.description.contains(bad.path))
      #expect(error.description.contains("rules[0].ci"))
    }
    #expect(throws: TriggerError.self) { try TriggerRules.load(path: directory.appendingPathComponent("none.json").path) }
  }
}
