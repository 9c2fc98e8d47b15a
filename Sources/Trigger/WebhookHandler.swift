import BridgeHTTP
import Foundation
import HTTPServer

/// Turns a Jira webhook into a Testomat.io run and a CI run: the request handler of
/// `testbridge serve`.
///
/// Routes: `POST /hooks/jira` (the webhook), `GET /healthz` (200 `{"status":"ok"}`); other
/// paths 404, other methods 405.
///
/// A webhook goes through these steps, each answered as soon as it decides:
/// 1. authentication (``WebhookAuthenticator``): 401 `unauthenticated`;
/// 2. replay check on `X-Atlassian-Webhook-Identifier` (``DeliveryLog``): 200 `duplicate`;
/// 3. parsing (``JiraWebhookEvent``): 400 `invalid`;
/// 4. routing (``WebhookRoutes``) by the issue's Jira project: 200 `ignored` when no target owns it;
///    rules (``TriggerRules``): 200 `ignored` with the reason, also when no test is linked;
/// 5. linked tests from Testomat.io: 502 `testomatio_failed`, nothing created;
/// 6. the Testomat.io run, created with `jira_id` and the rule's title: 502 `testomatio_failed`;
/// 7. the CI dispatch: 202 `accepted` with `run`, `run_url`, `tests` and `ci`; if CI refuses,
///    the run is finished as failed and the answer is 502 `ci_failed` with the run and reason.
///
/// Answers of 5xx forget the delivery id again, so Jira's retry of that delivery is processed.
/// Nothing before step 6 has a side effect. Replies and log lines carry no secrets (every
/// reason is redacted against the configured secrets) and never the body.
public struct WebhookHandler: Sendable {
  /// The webhook path.
  public static let hookPath = "/hooks/jira"
  /// The health-check path.
  public static let healthPath = "/healthz"

  public let authenticator: WebhookAuthenticator
  public let deliveryLog: DeliveryLog
  public let rules: TriggerRules
  /// Where each webhook's tests run, by its issue's Jira project.
  public let routes: WebhookRoutes
  private let secrets: [String]
  private let log: @Sendable (String) -> Void

  /// One target for every issue.
  ///
  /// - Parameters:
  ///   - dispatchers: one per configured CI; a rule asking for another CI is answered 500.
  ///   - additionalSecrets: further values to keep out of replies and logs (CI tokens, API keys).
  ///   - log: receives one line per decision.
  public init(
    authenticator: WebhookAuthenticator,
    deliveryLog: DeliveryLog = DeliveryLog(),
    rules: TriggerRules = .default,
    linkedTests: any LinkedTestsSource,
    scheduler: any RunScheduler,
    dispatchers: [any CIDispatcher],
    defaultCI: CIKind,
    testomatioURL: String? = nil,
    additionalSecrets: [String] = [],
    log: @escaping @Sendable (String) -> Void = { _ in }
  ) {
    self.init(
      authenticator: authenticator, deliveryLog: deliveryLog, rules: rules,
      routes: WebhookRoutes(
        WebhookTarget(
          linkedTests: linkedTests, scheduler: scheduler, dispatchers: dispatchers, defaultCI: defaultCI,
          testomatioURL: testomatioURL)),
      additionalSecrets: additionalSecrets, log: log)
  }

  /// Targets chosen per webhook by the issue's Jira project; an issue no target owns is
  /// answered 200 `ignored`.
  ///
  /// - Parameter additionalSecrets: every target's API key and CI token, kept out of replies and logs.
  public init(
    authenticator: WebhookAuthenticator,
    deliveryLog: DeliveryLog = DeliveryLog(),
    rules: TriggerRules = .default,
    routes: WebhookRoutes,
    additionalSecrets: [String] = [],
    log: @escaping @Sendable (String) -> Void = { _ in }
  ) {
    self.authenticator = authenticator
    self.deliveryLog = deliveryLog
    self.rules = rules
    self.routes = routes
    self.secrets = (authenticator.secrets.values + additionalSecrets).filter { !$0.isEmpty }
    self.log = log
  }

  /// The JSON answer body.
  struct Reply: Encodable {
    var status: String
    var reason: String?
    var issue: String?
    var run: String?
    var runURL: String?
    var tests: Int?
    var ci: String?
    var rule: String?
    var pipeline: String?
    var pipelineURL: String?

    enum CodingKeys: String, CodingKey {
      case status, reason, issue, run
      case runURL = "run_url"
      case tests, ci, rule, pipeline
      case pipelineURL = "pipeline_url"
    }
  }

  /// Answers one request (the ``HTTPServer`` handler).
  public func handle(_ request: ServerRequest) async -> ServerResponse {
    switch request.path {
    case Self.healthPath:
      guard request.method == "GET" || request.method == "HEAD" else { return methodNotAllowed(allow: "GET, HEAD") }
      return .json(Reply(status: "ok"))
    case Self.hookPath:
      guard request.method == "POST" else { return methodNotAllowed(allow: "POST") }
      return await handleWebhook(request)
    default:
      return .json(Reply(status: "not_found", reason: "no route for this path"), status: 404)
    }
  }

  private func methodNotAllowed(allow: String) -> ServerResponse {
    .json(Reply(status: "method_not_allowed", reason: "use \(allow)"), status: 405, headers: ["Allow": allow])
  }

  private func handleWebhook(_ request: ServerRequest) async -> ServerResponse {
    let delivery = request.headers[DeliveryLog.identifierHeader].flatMap { $0.isEmpty ? nil : $0 }
    let tag = "webhook delivery=\(delivery.map(Self.printable) ?? "-")"

    let method: WebhookAuthentication
    switch authenticator.authenticate(headers: request.headers, body: request.body) {
    case .success(let value):
      method = value
    case .failure(let error):
      let reason = redact(error.reason)
      log("\(tag): refused (401): \(reason)")
      return .json(Reply(status: "unauthenticated", reason: reason), status: 401)
    }

    if let delivery {
      guard await deliveryLog.register(delivery) else {
        log("\(tag): duplicate delivery, ignored")
        return .json(Reply(status: "duplicate"))
      }
    }

    let outcome = await process(request.body, tag: "\(tag) auth=\(method.rawValue)")
    if let delivery, outcome.status >= 500 {
      await deliveryLog.forget(delivery)
    }
    return outcome
  }

  private func process(_ body: [UInt8], tag: String) async -> ServerResponse {
    let event: JiraWebhookEvent
    do {
      event = try JiraWebhookEvent.parse(body)
    } catch {
      let reason = redact(error.reason)
      log("\(tag): invalid payload (400): \(reason)")
      return .json(Reply(status: "invalid", reason: reason), status: 400)
    }
    var tag = "\(tag) issue=\(event.issueKey) event=\(Self.printable(event.event))"

    guard let target = routes.target(forProject: event.projectKey) else {
      let reason = "no profile owns Jira project \(Self.printable(event.projectKey))"
      log("\(tag): ignored: \(reason)")
      return .json(Reply(status: "ignored", reason: reason, issue: event.issueKey))
    }
    if let name = target.name { tag += " profile=\(Self.printable(name))" }

    let plan: TriggerPlan
    switch rules.decide(event, defaultCI: target.defaultCI) {
    case .ignore(let reason):
      let reason = redact(reason)
      log("\(tag): ignored: \(reason)")
      return .json(Reply(status: "ignored", reason: reason, issue: event.issueKey))
    case .trigger(let value):
      plan = value
    }
    guard let dispatcher = target.dispatchers[plan.ci] else {
      let reason = "\(plan.ci.displayName) is not configured (asked for by \(plan.ruleName))"
      log("\(tag): error (500): \(reason)")
      return .json(Reply(status: "error", reason: reason, issue: event.issueKey), status: 500)
    }

    let tests: [String]
    do {
      tests = try await target.linkedTests.linkedTests(jiraKey: event.issueKey)
    } catch {
      let reason = redact(error.reason)
      log("\(tag): linked tests unavailable (502): \(reason)")
      return .json(Reply(status: "testomatio_failed", reason: reason, issue: event.issueKey), status: 502)
    }
    guard !tests.isEmpty else {
      let reason = "no Testomat.io tests are linked to \(event.issueKey)"
      log("\(tag): ignored: \(reason)")
      return .json(Reply(status: "ignored", reason: reason, issue: event.issueKey))
    }

    let run: ScheduledRun
    do {
      run = try await target.scheduler.createRun(jiraKey: event.issueKey, title: plan.title)
    } catch {
      let reason = redact(error.reason)
      log("\(tag): run not created (502): \(reason)")
      return .json(Reply(status: "testomatio_failed", reason: reason, issue: event.issueKey), status: 502)
    }
    log("\(tag): \(plan.ruleName) matched; run \(run.id) created for \(tests.count) test(s)")

    let dispatch = CIDispatchRequest(
      runID: run.id, grep: tests.joined(separator: "|"), jiraKey: event.issueKey, testomatioURL: target.testomatioURL)
    do {
      let receipt = try await dispatcher.dispatch(dispatch)
      log("\(tag): accepted (202): run \(run.id), \(plan.ci.rawValue) \(redact(receipt.summary))")
      return .json(
        Reply(
          status: "accepted", issue: event.issueKey, run: run.id, runURL: run.url, tests: tests.count,
          ci: plan.ci.rawValue, rule: plan.ruleName, pipeline: receipt.pipelineID,
          pipelineURL: receipt.webURL.map(redact)),
        status: 202)
    } catch {
      let reason = redact(error.reason)
      log("\(tag): \(plan.ci.rawValue) dispatch failed (502): \(reason)")
      do {
        try await target.scheduler.markFailed(runID: run.id, reason: reason)
        log("\(tag): run \(run.id) finished as failed")
      } catch {
        log("\(tag): run \(run.id) could not be marked failed: \(redact(error.reason))")
      }
      return .json(
        Reply(
          status: "ci_failed", reason: reason, issue: event.issueKey, run: run.id, runURL: run.url,
          tests: tests.count, ci: plan.ci.rawValue, rule: plan.ruleName),
        status: 502)
    }
  }

  private func redact(_ text: String) -> String {
    Redactor.redact(text: text, secrets: secrets)
  }

  /// At most 80 characters of a sender-chosen value, printable ASCII only, for log lines.
  static func printable(_ text: String) -> String {
    let kept = text.unicodeScalars.prefix(80).map { scalar -> Character in
      scalar.isASCII && scalar.value >= 0x21 && scalar.value < 0x7F ? Character(scalar) : "?"
    }
    return String(kept)
  }
}
