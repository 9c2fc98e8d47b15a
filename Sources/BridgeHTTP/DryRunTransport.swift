import BridgeCore
import Foundation

/// A transport for `--dry-run`: records every request, sends nothing, and answers 200.
///
/// The response body comes from a closure, so a client can be handed what it needs to carry on
/// (for example a fake Testomat.io run id).
public struct DryRunTransport: HTTPTransport {
  private final class Log: Sendable {
    let requests = Locked<[HTTPRequest]>([])
  }

  private let log = Log()
  private let responseBody: @Sendable (HTTPRequest) -> [UInt8]

  /// - Parameter responseBody: the body of the 200 answer to each request; `{}` by default.
  public init(responseBody: @escaping @Sendable (HTTPRequest) -> [UInt8] = { _ in Array("{}".utf8) }) {
    self.responseBody = responseBody
  }

  /// Every request received so far, in order.
  public var requests: [HTTPRequest] { log.requests.withLock { $0 } }

  public func send(_ request: HTTPRequest) async throws(HTTPError) -> HTTPResponse {
    log.requests.withLock { $0.append(request) }
    return HTTPResponse(
      status: 200, headers: ["Content-Type": "application/json"], body: responseBody(request))
  }

  /// One line saying what would have been sent, secrets redacted:
  /// `POST https://app.testomat.io/api/reporter (body: 1.2 KB JSON; api_key=REDACTED, title="nightly", tests[3])`.
  public func describe(_ request: HTTPRequest) -> String {
    let line = request.redactedLine
    guard let body = request.body else { return line }
    return "\(line) (body: \(DryRunTransport.summary(of: body)))"
  }

  /// Size, then for a JSON object its top-level keys in sorted order: short scalar values shown
  /// (credential-named keys as `REDACTED`), arrays as `key[count]`, objects as `key{count}`.
  static func summary(of body: [UInt8]) -> String {
    let size = formatSize(body.count)
    guard let json = JSONValue.parse(body) else { return size }
    switch json {
    case .object(let fields):
      guard !fields.isEmpty else { return "\(size) JSON, empty object" }
      let parts = fields.keys.sorted().map { key -> String in
        let value = fields[key] ?? .null
        if Redactor.isSensitiveFieldName(key), value != .null { return "\(key)=REDACTED" }
        switch value {
        case .array(let items): return "\(key)[\(items.count)]"
        case .object(let members): return "\(key){\(members.count)}"
        case .null: return "\(key)=null"
        case .bool(let flag): return "\(key)=\(flag)"
        case .integer(let number): return "\(key)=\(number)"
        case .number(let number):
          let shown = number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) : String(number)
          return "\(key)=\(shown)"
        case .string(let text):
          guard text.count <= 40, !text.contains(where: \.isNewline) else {
            return "\(key)=\"…\"(\(text.utf8.count) B)"
          }
          return "\(key)=\(AuditLog.jsonString(Redactor.redact(text: text, secrets: [])))"
        }
      }
      return "\(size) JSON; " + parts.joined(separator: ", ")
    case .array(let items):
      return "\(size) JSON array of \(items.count)"
    default:
      return "\(size) JSON"
    }
  }

  static func formatSize(_ bytes: Int) -> String {
    if bytes < 1024 { return "\(bytes) B" }
    if bytes < 1024 * 1024 { return "\(oneDecimal(Double(bytes) / 1024)) KB" }
    return "\(oneDecimal(Double(bytes) / (1024 * 1024))) MB"
  }

  private static func oneDecimal(_ value: Double) -> String {
    let tenths = Int((value * 10).rounded())
    return "\(tenths / 10).\(tenths % 10)"
  }
}

extension DryRunTransport {
  /// The whole request as one pretty-printed JSON document, secrets redacted: what
  /// `--dry-run-out` writes.
  ///
  /// `method`, `url` (credentials removed), `headers` (credential values replaced) and `body`:
  /// a JSON body as JSON with credential-named fields replaced, other text as a string, bytes
  /// that are not UTF-8 as their size only. The request's own secrets and credential-shaped
  /// text are then masked wherever they appear in the document.
  public static func redactedDocument(of request: HTTPRequest) -> String {
    var document: [String: JSONValue] = [
      "method": .string(request.method.rawValue),
      "url": .string(Redactor.redact(url: request.url)),
      "headers": .object(Redactor.redactedHeaders(request.headers).mapValues { .string($0) }),
    ]
    if let body = request.body {
      if let json = JSONValue.parse(body) {
        document["body"] = withoutCredentialFields(json)
      } else if let text = String(validating: body, as: UTF8.self) {
        document["body"] = .string(text)
      } else {
        document["body"] = .string("(\(formatSize(body.count)), not UTF-8 text)")
      }
    }
    // One pass over the whole text: a secret is masked wherever it sits, at any depth.
    return Redactor.redact(text: JSONValue.object(document).prettyJSONText, secrets: Redactor.secrets(in: request))
  }

  private static func withoutCredentialFields(_ value: JSONValue) -> JSONValue {
    switch value {
    case .object(let fields):
      var result: [String: JSONValue] = [:]
      for (name, field) in fields {
        let hidden = Redactor.isSensitiveFieldName(name) && field != .null
        result[name] = hidden ? .string("REDACTED") : withoutCredentialFields(field)
      }
      return .object(result)
    case .array(let items):
      return .array(items.map(withoutCredentialFields))
    default:
      return value
    }
  }
}
