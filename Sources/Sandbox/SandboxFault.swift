import BridgeCore
import HTTPServer

/// A scripted failure: matching requests are answered with a status, delayed, have
/// their connection dropped, or have their answer cut off mid-body, `times` times,
/// before being served normally again.
///
/// JSON form, as posted to `POST /_sandbox/faults`:
/// `{"method": "POST", "path_prefix": "/api/reporter/", "status": 503, "times": 2,
///   "retry_after": 1, "delay_ms": 0, "drop_connection": false, "cut_body_after": 4,
///   "reset": false}`.
///
/// `cut_body_after` sends the status line, the headers (with the full `Content-Length`)
/// and that many bytes of the body (never all of it), then closes the connection, or
/// resets it (RST) when `reset` is true. Without `status` the request is served
/// normally first, so the state changed although the client never saw the whole
/// answer; with `status` it is that answer that is cut. Every emulator honours it by
/// passing its answer through ``shape(_:)``.
public struct SandboxFault: Sendable, Hashable, Codable {
  /// The method to match (any when nil).
  public var method: String?
  /// The path prefix to match (any when nil or empty).
  public var pathPrefix: String?
  /// The status to answer with, without touching state; nil for delay-only or drop rules.
  public var status: Int?
  /// How many matching requests the rule applies to (uses left, in the state view).
  public var times: Int
  /// The `Retry-After` value in seconds for status answers.
  public var retryAfter: Double?
  /// Milliseconds to wait before answering (or dropping, or serving normally).
  public var delayMilliseconds: Int
  /// Close the connection without answering.
  public var dropConnection: Bool
  /// The `message` of a status answer.
  public var message: String?
  /// Body bytes of the answer to send before ending the connection (nil: the whole answer).
  public var cutBodyAfter: Int?
  /// With ``cutBodyAfter``: end the connection with a TCP reset instead of a close.
  public var reset: Bool

  public init(
    method: String? = nil, pathPrefix: String? = nil, status: Int? = nil, times: Int = 1,
    retryAfter: Double? = nil, delayMilliseconds: Int = 0, dropConnection: Bool = false,
    message: String? = nil, cutBodyAfter: Int? = nil, reset: Bool = false
  ) {
    self.method = method
    self.pathPrefix = pathPrefix
    self.status = status
    self.times = times
    self.retryAfter = retryAfter
    self.delayMilliseconds = delayMilliseconds
    self.dropConnection = dropConnection
    self.message = message
    self.cutBodyAfter = cutBodyAfter
    self.reset = reset
  }

  /// The answer as this rule sends it: cut off mid-body when ``cutBodyAfter`` is set.
  public func shape(_ response: ServerResponse) -> ServerResponse {
    guard let cutBodyAfter else { return response }
    return response.cutOff(afterBodyBytes: cutBodyAfter, reset: reset)
  }

  enum CodingKeys: String, CodingKey {
    case method
    case pathPrefix = "path_prefix"
    case status, times
    case retryAfter = "retry_after"
    case delayMilliseconds = "delay_ms"
    case dropConnection = "drop_connection"
    case message
    case cutBodyAfter = "cut_body_after"
    case reset
  }

  /// Takes the first rule of `faults` that matches the request and counts one use of it.
  static func take(from faults: inout [SandboxFault], for request: ServerRequest) -> SandboxFault? {
    guard let index = faults.firstIndex(where: { $0.matches(method: request.method, path: request.path) }) else {
      return nil
    }
    faults[index].times -= 1
    return faults[index]
  }

  /// Waits the rule's delay, if it has one.
  func waitItsDelay() async {
    guard delayMilliseconds > 0 else { return }
    try? await Task.sleep(for: .milliseconds(delayMilliseconds))
  }

  /// The headers of a status answer: `Retry-After` when the rule gives one.
  var statusHeaders: HTTPHeaders {
    var headers = HTTPHeaders()
    if let retryAfter {
      headers["Retry-After"] = retryAfter.rounded() == retryAfter ? String(Int(retryAfter)) : String(retryAfter)
    }
    return headers
  }

  /// Whether the rule applies to a request.
  func matches(method: String, path: String) -> Bool {
    guard times > 0 else { return false }
    if let expected = self.method, expected.uppercased() != method.uppercased() { return false }
    if let prefix = pathPrefix, !prefix.isEmpty, !path.hasPrefix(prefix) { return false }
    return true
  }

  /// Reads the body of a `POST …/faults` control request: an array of rules or
  /// `{"rules": [...]}`, every rule read strictly.
  static func parseRules(_ body: [UInt8]) -> Result<[SandboxFault], ValidationFailure> {
    guard let value = JSONValue.parse(body) else {
      return .failure(ValidationFailure(field: "body", problem: "is not valid JSON", status: 400))
    }
    guard let list = value.arrayValue ?? value["rules"]?.arrayValue else {
      return .failure(ValidationFailure(field: "body", problem: "must be an array of rules or {\"rules\": [...]}"))
    }
    var rules: [SandboxFault] = []
    for (offset, item) in list.enumerated() {
      switch parse(item, at: "rules[\(offset)]") {
      case .success(let rule): rules.append(rule)
      case .failure(let failure): return .failure(failure)
      }
    }
    return .success(rules)
  }

  /// Reads one rule strictly: unknown members and wrong types are errors naming the field.
  static func parse(_ value: JSONValue, at field: String) -> Result<SandboxFault, ValidationFailure> {
    guard let object = value.objectValue else {
      return .failure(ValidationFailure(field: field, problem: "must be an object, got \(value.kindDescription)"))
    }
    let known: Set<String> = Set(CodingKeys.allNames)
    if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
      return .failure(ValidationFailure(field: "\(field).\(unknown)", problem: "is not a fault rule field"))
    }
    var rule = SandboxFault()
    do {
      rule.method = try object.optionalString("method", at: field)
      rule.pathPrefix = try object.optionalString("path_prefix", at: field)
      rule.message = try object.optionalString("message", at: field)
      if let status = try object.optionalInt("status", at: field) {
        guard (100...599).contains(status) else {
          throw ValidationFailure(field: "\(field).status", problem: "must be within 100...599")
        }
        rule.status = status
      }
      if let times = try object.optionalInt("times", at: field) {
        guard times >= 1 else { throw ValidationFailure(field: "\(field).times", problem: "must be at least 1") }
        rule.times = times
      }
      if let retryAfter = object["retry_after"], !retryAfter.isNull {
        guard let seconds = retryAfter.doubleValue, seconds >= 0 else {
          throw ValidationFailure(field: "\(field).retry_after", problem: "must be a non-negative number")
        }
        rule.retryAfter = seconds
      }
      if let delay = try object.optionalInt("delay_ms", at: field) {
        guard (0...60_000).contains(delay) else {
          throw ValidationFailure(field: "\(field).delay_ms", problem: "must be within 0...60000")
        }
        rule.delayMilliseconds = delay
      }
      if let drop = object["drop_connection"], !drop.isNull {
        guard let flag = drop.boolValue else {
          throw ValidationFailure(field: "\(field).drop_connection", problem: "must be a boolean, got \(drop.kindDescription)")
        }
        rule.dropConnection = flag
      }
      if let cut = try object.optionalInt("cut_body_after", at: field) {
        guard cut >= 0 else { throw ValidationFailure(field: "\(field).cut_body_after", problem: "must be at least 0") }
        rule.cutBodyAfter = cut
      }
      if let reset = object["reset"], !reset.isNull {
        guard let flag = reset.boolValue else {
          throw ValidationFailure(field: "\(field).reset", problem: "must be a boolean, got \(reset.kindDescription)")
        }
        rule.reset = flag
      }
    } catch let failure as ValidationFailure {
      return .failure(failure)
    } catch {
      return .failure(ValidationFailure(field: field, problem: "is invalid"))
    }
    return .success(rule)
  }
}

extension SandboxFault.CodingKeys: CaseIterable {
  static var allNames: [String] { allCases.map(\.stringValue) }
}

extension [String: JSONValue] {
  fileprivate func optionalString(_ key: String, at field: String) throws -> String? {
    guard let value = self[key], !value.isNull else { return nil }
    guard let string = value.stringValue else {
      throw ValidationFailure(field: "\(field).\(key)", problem: "must be a string, got \(value.kindDescription)")
    }
    return string
  }

  fileprivate func optionalInt(_ key: String, at field: String) throws -> Int? {
    guard let value = self[key], !value.isNull else { return nil }
    guard let number = value.intValue else {
      throw ValidationFailure(field: "\(field).\(key)", problem: "must be an integer, got \(value.kindDescription)")
    }
    return number
  }
}
