import BridgeCore
import Foundation
import HTTPServer

/// A local stand-in for the Testomat.io reporter API (contract §1), strict like a real server.
///
/// Routes:
/// - `POST /api/reporter`: create a run (`shared_run` joins an open run with the same title
///   created less than `shared_run_timeout` minutes ago, 20 by default).
/// - `PUT /api/reporter/{uid}`: update/adopt a run, or finish it when `status_event` is sent.
///   Adopting a finished run reopens it, as Testomat.io reuses a finished run when it is
///   relaunched in CI (its id handed to the job as `TESTOMATIO_RUN`).
/// - `POST /api/reporter/{uid}/testrun`: one test object, or `{tests: [...], batch_index}`.
/// - `GET /api/test_grep?type=&id=&api_key=`: seeded test IDs.
///
/// Answers 400 (not JSON), 401 (missing or wrong key), 404 (unknown route or run),
/// 409 (results for a finished run) and 422 (a field of the wrong type or value, named in
/// `message`). Control routes under `/_sandbox/` inspect and script it: `GET state`,
/// `POST reset`, `POST seed`, `GET|POST|DELETE faults`.
public actor TestomatioEmulator {
  /// The project API key every reporter request must carry.
  public let apiKey: String
  /// The project slug used in run URLs.
  public let projectSlug: String
  private var baseURL: String?

  private var runs: [RunRecord] = []
  private var runIndex: [String: Int] = [:]
  private var requestLog: [SandboxRequestRecord] = []
  private var testGrep: [String: [String: [String]]] = [:]
  private var faults: [SandboxFault] = []
  /// Added to the wall clock: lets tests age runs past the shared-run window.
  private var clockOffset: TimeInterval = 0

  /// Creates an empty emulator.
  ///
  /// - Parameter baseURL: the URL prefix for run URLs; when nil, the request's `Host` is used.
  public init(apiKey: String = "tstmt_sandbox", projectSlug: String = "sandbox", baseURL: String? = nil) {
    self.apiKey = apiKey
    self.projectSlug = projectSlug
    self.baseURL = baseURL.map(Self.trimmingSlash)
  }

  /// Sets the URL prefix for run URLs, e.g. `http://127.0.0.1:53124`.
  public func setBaseURL(_ url: String?) {
    baseURL = url.map(Self.trimmingSlash)
  }

  private static func trimmingSlash(_ url: String) -> String {
    var url = Substring(url)
    while url.hasSuffix("/") { url = url.dropLast() }
    return String(url)
  }

  // MARK: In-process control (the same operations as the `/_sandbox/` routes)

  /// A snapshot of everything seen so far.
  public func state() -> SandboxState {
    SandboxState(
      runs: runs.map { $0.snapshot(projectSlug: projectSlug) }, requests: requestLog, testGrep: testGrep,
      faults: faults.filter { $0.times > 0 })
  }

  /// Forgets runs, results, the request log, seeds and faults.
  public func reset() {
    runs = []
    runIndex = [:]
    requestLog = []
    testGrep = [:]
    faults = []
  }

  /// Makes `GET /api/test_grep?type=<type>&id=<id>` answer `tests`.
  public func seedTestGrep(type: String, id: String, tests: [String]) {
    testGrep[type, default: [:]][id] = tests
  }

  /// Pre-creates a run, as Testomat.io does when a run is started from the UI or CI
  /// (the CI job then adopts it with `PUT /api/reporter/{uid}`).
  @discardableResult
  public func seedRun(uid: String? = nil, title: String? = nil) -> String {
    let uid = uid ?? newUID()
    if let index = runIndex[uid] {
      if let title { runs[index].title = title }
      return uid
    }
    var run = RunRecord(uid: uid, base: baseURL ?? "http://127.0.0.1", origin: "seeded", status: "scheduled")
    run.title = title
    append(run)
    return uid
  }

  /// Moves the emulator's clock forward, as if `seconds` had passed (runs age, shared-run
  /// windows close).
  public func advanceClock(by seconds: TimeInterval) {
    clockOffset += seconds
  }

  private var now: Date { Date().addingTimeInterval(clockOffset) }

  /// Replaces the fault rules; they apply in order to matching reporter API requests.
  public func setFaults(_ rules: [SandboxFault]) {
    faults = rules
  }

  // MARK: Routing

  /// Answers one request.
  public func handle(_ request: ServerRequest) async -> ServerResponse {
    let segments = request.path.split(separator: "/").map(String.init)
    if segments.first == "_sandbox" {
      return control(request, segments: Array(segments.dropFirst()))
    }

    let shaping = SandboxFault.take(from: &faults, for: request)
    let faulted = shaping != nil
    if let rule = shaping {
      await rule.waitItsDelay()
      if rule.dropConnection {
        log(request, status: 0, fault: true)
        return .dropConnection
      }
      if let status = rule.status {
        let message = rule.message ?? "sandbox fault: injected \(status)"
        log(request, status: status, fault: true)
        return rule.shape(Self.message(message, status: status, headers: rule.statusHeaders))
      }
    }

    let response = route(request, segments: segments)
    log(request, status: response.status, fault: faulted)
    return shaping?.shape(response) ?? response
  }

  private func route(_ request: ServerRequest, segments: [String]) -> ServerResponse {
    switch (request.method, segments.count) {
    case ("POST", 2) where segments == ["api", "reporter"]:
      return createRun(request)
    case ("PUT", 3) where segments[0] == "api" && segments[1] == "reporter":
      return updateRun(request, uid: segments[2])
    case ("POST", 4) where segments[0] == "api" && segments[1] == "reporter" && segments[3] == "testrun":
      return postResults(request, uid: segments[2])
    case ("GET", 2) where segments == ["api", "test_grep"]:
      return testGrep(request)
    default:
      return Self.message("no route matches '\(request.method) \(request.path)'", status: 404)
    }
  }

  // MARK: Reporter API

  private func createRun(_ request: ServerRequest) -> ServerResponse {
    let body: [String: JSONValue]
    switch authorizedBody(request) {
    case .success(let value): body = value
    case .failure(let rejection): return rejection.response
    }
    if body["status_event"] != nil {
      return Self.message("'status_event' is only accepted when updating a run (PUT /api/reporter/{uid})", status: 422)
    }
    do throws(ValidationFailure) {
      try ReporterSchemas.createRun.validate(body)
    } catch {
      return Self.message(error.message, status: 422)
    }

    let base = baseURL(for: request)
    let title = body["title"]?.stringValue
    let now = self.now
    if body["shared_run"]?.boolValue == true, let title,
      let index = runs.lastIndex(where: { $0.sharedRun && !$0.finished && $0.title == title && $0.acceptsJoiners(at: now) })
    {
      runs[index].sharedJoins += 1
      runs[index].merge(attributes: scrub(body))
      runs[index].base = base
      return Self.runReply(runs[index], base: base, projectSlug: projectSlug)
    }
    var run = RunRecord(uid: newUID(), base: base, origin: "created", status: "running")
    run.createdAt = now
    run.merge(attributes: scrub(body))
    append(run)
    return Self.runReply(run, base: base, projectSlug: projectSlug)
  }

  private func updateRun(_ request: ServerRequest, uid: String) -> ServerResponse {
    let body: [String: JSONValue]
    switch authorizedBody(request) {
    case .success(let value): body = value
    case .failure(let rejection): return rejection.response
    }
    guard let index = runIndex[uid] else {
      return Self.message("run '\(uid)' not found", status: 404)
    }
    let tests: [[String: JSONValue]]
    do throws(ValidationFailure) {
      try ReporterSchemas.updateRun.validate(body)
      tests = try validatedTests(body["tests"])
    } catch {
      return Self.message(error.message, status: 422)
    }
    let event = body["status_event"]?.stringValue
    if runs[index].finished && !tests.isEmpty {
      return Self.message("run '\(uid)' is already finished; it cannot take results", status: 409)
    }
    if runs[index].finished && event == nil {
      // Adopting a finished run (a relaunch, a re-run CI job) opens it again.
      runs[index].finished = false
      runs[index].status = "running"
      runs[index].reopenCount += 1
    }

    var attributes = scrub(body)
    for key in ["status_event", "duration", "detach", "tests"] { attributes[key] = nil }
    runs[index].merge(attributes: attributes)
    if runs[index].status == "scheduled" { runs[index].status = "running" }
    store(tests, in: index, via: "finish")

    if let event {
      runs[index].statusEvents.append(event)
      if let duration = body["duration"]?.doubleValue { runs[index].duration = duration }
      if let detach = body["detach"], !detach.isNull { runs[index].detach = detach }
      if ReporterSchemas.closingEvents.contains(event) {
        runs[index].finishCount += 1
        if !runs[index].finished {
          runs[index].finished = true
          runs[index].status = Self.finalStatus(event: event, results: runs[index].results)
        }
      } else {
        runs[index].parallelFinishCount += 1
      }
    } else {
      runs[index].updateCount += 1
    }
    runs[index].base = baseURL(for: request)
    return Self.runReply(runs[index], base: runs[index].base, projectSlug: projectSlug)
  }

  private func postResults(_ request: ServerRequest, uid: String) -> ServerResponse {
    let body: [String: JSONValue]
    switch authorizedBody(request) {
    case .success(let value): body = value
    case .failure(let rejection): return rejection.response
    }
    guard let index = runIndex[uid] else {
      return Self.message("run '\(uid)' not found", status: 404)
    }
    let tests: [[String: JSONValue]]
    let via: String
    var batchIndex: Int?
    do throws(ValidationFailure) {
      if let list = body["tests"] {
        try ReporterSchemas.batch.validate(body)
        guard !list.isNull else {
          throw ValidationFailure(field: "tests", problem: "must be an array, got null")
        }
        tests = try validatedTests(list)
        batchIndex = body["batch_index"]?.intValue
        via = "batch"
      } else {
        var single = try ReporterSchemas.validateTest(.object(body), field: "")
        single["api_key"] = nil
        tests = [single]
        via = "single"
      }
    } catch {
      return Self.message(error.message, status: 422)
    }
    guard !runs[index].finished else {
      return Self.message("run '\(uid)' is already finished; it cannot take results", status: 409)
    }
    if runs[index].status == "scheduled" { runs[index].status = "running" }
    if let batchIndex { runs[index].batchIndexes.append(batchIndex) }
    store(tests, in: index, via: via)
    return ServerResponse.json(JSONValue.object(["status": .string("ok"), "accepted": .integer(Int64(tests.count))]))
  }

  private func testGrep(_ request: ServerRequest) -> ServerResponse {
    guard let key = request.queryValue("api_key"), !key.isEmpty else {
      return Self.message("api key is missing: pass 'api_key' in the query", status: 401)
    }
    guard key == apiKey else { return Self.message("invalid api key", status: 401) }
    guard let type = request.queryValue("type"), !type.isEmpty else {
      return Self.message("'type' is required (one of \(ReporterSchemas.grepTypes.joined(separator: ", ")))", status: 422)
    }
    guard ReporterSchemas.grepTypes.contains(type) else {
      return Self.message(
        "'type' must be one of \(ReporterSchemas.grepTypes.joined(separator: ", ")), got '\(type)'", status: 422)
    }
    guard let id = request.queryValue("id"), !id.isEmpty else {
      return Self.message("'id' is required", status: 422)
    }
    let tests = testGrep[type]?[id] ?? []
    return ServerResponse.json(JSONValue.object(["tests": .array(tests.map(JSONValue.string))]))
  }

  // MARK: Helpers

  private struct Rejection: Error {
    var response: ServerResponse
  }

  /// Parses the JSON body and checks the API key (body `api_key`, else query `api_key`).
  private func authorizedBody(_ request: ServerRequest) -> Result<[String: JSONValue], Rejection> {
    if let type = request.headers["Content-Type"], !type.lowercased().contains("json") {
      return .failure(Rejection(response: Self.message("Content-Type must be application/json, got '\(type)'", status: 415)))
    }
    var body: [String: JSONValue] = [:]
    if !request.body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
      guard let parsed = JSONValue.parse(request.body) else {
        return .failure(Rejection(response: Self.message("request body is not valid JSON", status: 400)))
      }
      guard let object = parsed.objectValue else {
        return .failure(
          Rejection(response: Self.message("request body must be a JSON object, got \(parsed.kindDescription)", status: 400)))
      }
      body = object
    }
    let key: String?
    if let value = body["api_key"], !value.isNull {
      guard let string = value.stringValue else {
        return .failure(Rejection(response: Self.message("'api_key' must be a string, got \(value.kindDescription)", status: 422)))
      }
      key = string
    } else {
      key = request.queryValue("api_key")
    }
    guard let key, !key.isEmpty else {
      return .failure(
        Rejection(response: Self.message("api key is missing: send 'api_key' in the JSON body or the query", status: 401)))
    }
    guard key == apiKey else {
      return .failure(Rejection(response: Self.message("invalid api key", status: 401)))
    }
    return .success(body)
  }

  private func validatedTests(_ value: JSONValue?) throws(ValidationFailure) -> [[String: JSONValue]] {
    guard let value, !value.isNull else { return [] }
    guard let items = value.arrayValue else {
      throw ValidationFailure(field: "tests", problem: "must be an array, got \(value.kindDescription)")
    }
    var tests: [[String: JSONValue]] = []
    for (offset, item) in items.enumerated() {
      var test = try ReporterSchemas.validateTest(item, field: "tests[\(offset)]")
      test["api_key"] = nil
      tests.append(test)
    }
    return tests
  }

  /// Stores results; a result whose `rid` was seen in this run replaces the earlier one in place.
  private func store(_ tests: [[String: JSONValue]], in index: Int, via: String) {
    for test in tests {
      let rid = test["rid"]?.stringValue
      let result = SandboxResult(rid: rid, via: via, test: scrubValue(.object(test)))
      if let rid {
        runs[index].ridCounts[rid, default: 0] += 1
        if let position = runs[index].resultPositions[rid] {
          runs[index].results[position] = result
          continue
        }
        runs[index].resultPositions[rid] = runs[index].results.count
      }
      runs[index].results.append(result)
    }
  }

  private func append(_ run: RunRecord) {
    runIndex[run.uid] = runs.count
    runs.append(run)
  }

  private func newUID() -> String {
    while true {
      let hex = String(UInt32.random(in: .min ... .max), radix: 16)
      let uid = String(repeating: "0", count: 8 - hex.count) + hex
      if runIndex[uid] == nil { return uid }
    }
  }

  private func baseURL(for request: ServerRequest) -> String {
    if let baseURL { return baseURL }
    if let host = request.headers["Host"], !host.isEmpty,
      host.allSatisfy({ $0.isLetter || $0.isNumber || ".-:[]".contains($0) })
    {
      return "http://\(host)"
    }
    return "http://127.0.0.1"
  }

  private static func finalStatus(event: String, results: [SandboxResult]) -> String {
    switch event {
    case "pass": return "passed"
    case "fail": return "failed"
    default: return results.contains { $0.status == "failed" } ? "failed" : "passed"
    }
  }

  private static func runReply(_ run: RunRecord, base: String, projectSlug: String) -> ServerResponse {
    var reply: [String: JSONValue] = [
      "uid": .string(run.uid),
      "url": .string(run.url(base: base, projectSlug: projectSlug)),
    ]
    if let publicURL = run.publicURL(base: base) { reply["public_url"] = .string(publicURL) }
    if run.finished { reply["status"] = .string(run.status) }
    return ServerResponse.json(JSONValue.object(reply))
  }

  static func message(_ text: String, status: Int, headers: HTTPHeaders = HTTPHeaders()) -> ServerResponse {
    ServerResponse.json(JSONValue.object(["message": .string(text)]), status: status, headers: headers)
  }

  /// Removes `api_key` members at any depth and masks the key's value anywhere else.
  private func scrub(_ object: [String: JSONValue]) -> [String: JSONValue] {
    scrubValue(.object(object)).objectValue ?? [:]
  }

  private func scrubValue(_ value: JSONValue) -> JSONValue {
    switch value {
    case .string(let text):
      return text.contains(apiKey) ? .string(text.replacingOccurrences(of: apiKey, with: "[REDACTED]")) : value
    case .array(let items):
      return .array(items.map(scrubValue))
    case .object(let members):
      var cleaned: [String: JSONValue] = [:]
      for (key, member) in members where key != "api_key" {
        cleaned[key] = scrubValue(member)
      }
      return .object(cleaned)
    default:
      return value
    }
  }

  /// The request log keeps this many most recent entries, so a long-running sandbox stays small.
  private static let maxLoggedRequests = 10_000

  private func log(_ request: ServerRequest, status: Int, fault: Bool) {
    if requestLog.count >= Self.maxLoggedRequests {
      requestLog.removeFirst(requestLog.count - Self.maxLoggedRequests + 1)
    }
    requestLog.append(
      SandboxRequestRecord(
        method: request.method, path: request.path, query: Self.redactedQuery(request.query, apiKey: apiKey),
        status: status, fault: fault))
  }

  private static let credentialNames: Set<String> = ["api_key", "apikey", "token", "access_token", "key", "password"]

  static func redactedQuery(_ query: [(name: String, value: String)], apiKey: String) -> String? {
    guard !query.isEmpty else { return nil }
    var allowed = CharacterSet.urlQueryAllowed
    allowed.remove(charactersIn: "&=+")
    return query.map { item in
      let secret = credentialNames.contains(item.name.lowercased()) || item.value.contains(apiKey)
      let value = secret ? "[REDACTED]" : (item.value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")
      let name = item.name.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
      return "\(name)=\(value)"
    }.joined(separator: "&")
  }

  // MARK: Control routes

  private func control(_ request: ServerRequest, segments: [String]) -> ServerResponse {
    switch (request.method, segments) {
    case ("GET", ["state"]):
      return ServerResponse.json(state())
    case ("POST", ["reset"]):
      reset()
      return ServerResponse.json(JSONValue.object(["status": .string("reset")]))
    case ("POST", ["seed"]):
      return seed(request)
    case ("GET", ["faults"]):
      return ServerResponse.json(faults.filter { $0.times > 0 })
    case ("POST", ["faults"]):
      return installFaults(request)
    case ("DELETE", ["faults"]):
      faults = []
      return ServerResponse.json(JSONValue.object(["rules": .integer(0)]))
    default:
      return Self.message("no sandbox route matches '\(request.method) \(request.path)'", status: 404)
    }
  }

  private func seed(_ request: ServerRequest) -> ServerResponse {
    guard let body = JSONValue.parse(request.body), let object = body.objectValue else {
      return Self.message("seed body must be a JSON object", status: 400)
    }
    if let unknown = object.keys.sorted().first(where: { $0 != "test_grep" && $0 != "runs" }) {
      return Self.message("'\(unknown)' is not a seed section (expected test_grep, runs)", status: 422)
    }
    var grep: [(type: String, id: String, tests: [String])] = []
    if let sections = object["test_grep"], !sections.isNull {
      guard let types = sections.objectValue else {
        return Self.message("'test_grep' must be an object, got \(sections.kindDescription)", status: 422)
      }
      for (type, ids) in types.sorted(by: { $0.key < $1.key }) {
        guard ReporterSchemas.grepTypes.contains(type) else {
          return Self.message(
            "'test_grep.\(type)' is not a grep type (one of \(ReporterSchemas.grepTypes.joined(separator: ", ")))",
            status: 422)
        }
        guard let map = ids.objectValue else {
          return Self.message("'test_grep.\(type)' must be an object, got \(ids.kindDescription)", status: 422)
        }
        for (id, tests) in map {
          guard let list = tests.arrayValue?.compactMap(\.stringValue), list.count == tests.arrayValue?.count else {
            return Self.message("'test_grep.\(type).\(id)' must be an array of strings", status: 422)
          }
          grep.append((type, id, list))
        }
      }
    }
    var seededRuns: [(uid: String?, title: String?)] = []
    if let list = object["runs"], !list.isNull {
      guard let items = list.arrayValue else {
        return Self.message("'runs' must be an array, got \(list.kindDescription)", status: 422)
      }
      for (offset, item) in items.enumerated() {
        guard let run = item.objectValue else {
          return Self.message("'runs[\(offset)]' must be an object", status: 422)
        }
        let uid = run["uid"]?.stringValue
        if let uid, uid.isEmpty || !uid.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) {
          return Self.message("'runs[\(offset)].uid' must be letters, digits, '-' or '_'", status: 422)
        }
        seededRuns.append((uid, run["title"]?.stringValue))
      }
    }
    for entry in grep { seedTestGrep(type: entry.type, id: entry.id, tests: entry.tests) }
    let uids = seededRuns.map { seedRun(uid: $0.uid, title: $0.title) }
    return ServerResponse.json(JSONValue.object(["runs": .array(uids.map(JSONValue.string))]))
  }

  private func installFaults(_ request: ServerRequest) -> ServerResponse {
    switch SandboxFault.parseRules(request.body) {
    case .failure(let failure):
      return Self.message(failure.message, status: failure.status)
    case .success(let rules):
      faults = rules
      return ServerResponse.json(JSONValue.object(["rules": .integer(Int64(rules.count))]))
    }
  }
}

/// The emulator's mutable view of one run.
private struct RunRecord: Sendable {
  var uid: String
  /// The URL prefix last used to answer about this run.
  var base: String
  var origin: String
  var status: String
  var title: String?
  var sharedRun = false
  var createdAt = Date()
  var finished = false
  var reopenCount = 0
  var statusEvents: [String] = []
  var finishCount = 0
  var parallelFinishCount = 0
  var duration: Double?
  var detach: JSONValue?
  var updateCount = 0
  var sharedJoins = 0
  var batchIndexes: [Int] = []
  var attributes: [String: JSONValue] = [:]
  var results: [SandboxResult] = []
  /// Where each rid's result sits in `results` (a re-sent rid replaces in place).
  var resultPositions: [String: Int] = [:]
  var ridCounts: [String: Int] = [:]

  init(uid: String, base: String, origin: String, status: String) {
    self.uid = uid
    self.base = base
    self.origin = origin
    self.status = status
  }

  mutating func merge(attributes incoming: [String: JSONValue]) {
    for (key, value) in incoming where !value.isNull {
      attributes[key] = value
    }
    if let title = incoming["title"]?.stringValue { self.title = title }
    if let shared = incoming["shared_run"]?.boolValue { sharedRun = shared }
  }

  /// A shared run takes joiners for `shared_run_timeout` minutes after its creation (20 by default).
  func acceptsJoiners(at now: Date) -> Bool {
    let minutes = attributes["shared_run_timeout"]?.doubleValue ?? 20
    return now.timeIntervalSince(createdAt) < minutes * 60
  }

  func url(base: String, projectSlug: String) -> String {
    "\(base)/projects/\(projectSlug)/runs/\(uid)"
  }

  func publicURL(base: String) -> String? {
    attributes["access_event"]?.stringValue == "publish" ? "\(base)/public/runs/\(uid)" : nil
  }

  func snapshot(projectSlug: String) -> SandboxRun {
    SandboxRun(
      uid: uid,
      url: url(base: base, projectSlug: projectSlug),
      publicURL: publicURL(base: base),
      origin: origin,
      status: status,
      title: title,
      env: attributes["env"]?.stringValue,
      groupTitle: attributes["group_title"]?.stringValue,
      label: attributes["label"],
      jiraID: attributes["jira_id"]?.stringValue,
      sharedRun: sharedRun,
      parallel: attributes["parallel"]?.boolValue,
      kind: attributes["kind"]?.stringValue,
      ciBuildURL: attributes["ci_build_url"]?.stringValue,
      accessEvent: attributes["access_event"]?.stringValue,
      statusEvents: statusEvents,
      finished: finished,
      finishCount: finishCount,
      parallelFinishCount: parallelFinishCount,
      reopenCount: reopenCount,
      duration: duration,
      detach: detach,
      updateCount: updateCount,
      sharedJoins: sharedJoins,
      batchIndexes: batchIndexes,
      attributes: attributes,
      results: results,
      ridCounts: ridCounts)
  }
}
