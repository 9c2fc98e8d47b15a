import BridgeHTTP
import Foundation

/// A run as Testomat.io describes it after creating or adopting it.
public struct RunInfo: Sendable, Hashable, Codable {
  public var uid: String
  public var url: String?
  public var publicURL: String?

  public init(uid: String, url: String? = nil, publicURL: String? = nil) {
    self.uid = uid
    self.url = url
    self.publicURL = publicURL
  }

  enum CodingKeys: String, CodingKey {
    case uid, url, publicURL = "public_url"
  }
}

/// The Testomat.io reporter API: one method per endpoint, no policy.
///
/// The API key goes in the JSON body of POST/PUT (as the official reporter sends
/// it) and in the query only for `GET /api/test_grep`. Requests that cannot
/// apply twice are marked retry-safe: PUTs, and result uploads (each result
/// carries a `rid`, so a re-sent batch replaces rather than adds). Creating a
/// run is retried only when the failure proves it was not applied (a 429, a
/// refused connection, a name that did not resolve: ``RetryPolicy/isNotApplied(_:)``),
/// never after a response could have been lost: the reporter API has no
/// idempotency key that would make a repeat safe.
public struct TestomatioClient: Sendable {
  public let transport: any HTTPTransport
  public let baseURL: URL
  public let apiKey: String
  public let timeout: TimeInterval

  public init(transport: any HTTPTransport, baseURL: URL, apiKey: String, timeout: TimeInterval = 20) {
    self.transport = transport
    self.baseURL = baseURL
    self.apiKey = apiKey
    self.timeout = timeout
  }

  static let encoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return encoder
  }()

  public func createRun(_ body: RunRequestBody) async throws(TestomatioError) -> RunInfo {
    var body = body
    body.apiKey = apiKey
    let response = try await send(.POST, "api/reporter", body: body, retrySafe: false, action: "creating a Testomat.io run")
    return try decodeRun(response, action: "creating a Testomat.io run", fallbackUID: nil)
  }

  /// Adopts a run created elsewhere (`TESTOMATIO_RUN`), sending the same fields as create.
  public func updateRun(_ runID: String, _ body: RunRequestBody) async throws(TestomatioError) -> RunInfo {
    var body = body
    body.apiKey = apiKey
    let action = "adopting Testomat.io run '\(runID)'"
    let response = try await send(.PUT, "api/reporter/\(escaped(runID))", body: body, retrySafe: true, action: action)
    return (try? decodeRun(response, action: action, fallbackUID: runID)) ?? RunInfo(uid: runID)
  }

  public func uploadBatch(_ runID: String, _ batch: BatchBody) async throws(TestomatioError) {
    var batch = batch
    batch.apiKey = apiKey
    _ = try await send(
      .POST, "api/reporter/\(escaped(runID))/testrun", body: batch, retrySafe: true,
      action: "uploading results batch \(batch.batchIndex) to run '\(runID)'")
  }

  public func finishRun(_ runID: String, _ body: FinishBody) async throws(TestomatioError) {
    var body = body
    body.apiKey = apiKey
    _ = try await send(
      .PUT, "api/reporter/\(escaped(runID))", body: body, retrySafe: true, action: "finishing run '\(runID)'")
  }

  /// `GET /api/test_grep?type=…&id=…`: ids of the tests linked to a Jira issue, tag, plan or label.
  public func testGrep(type: String, id: String) async throws(TestomatioError) -> [String] {
    var components = URLComponents(url: url("api/test_grep"), resolvingAgainstBaseURL: false)
    components?.queryItems = [
      URLQueryItem(name: "type", value: type), URLQueryItem(name: "id", value: id),
      URLQueryItem(name: "api_key", value: apiKey),
    ]
    let action = "asking Testomat.io for tests linked to \(type) '\(id)'"
    guard let url = components?.url else { throw .unexpectedResponse(action: action, detail: "bad URL") }
    let request = HTTPRequest(method: .GET, url: url, timeout: timeout)
    let response = try await perform(request, action: action)
    guard let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
      let tests = object["tests"] as? [Any]
    else {
      throw .unexpectedResponse(action: action, detail: "no 'tests' list")
    }
    return tests.compactMap { item in
      if let text = item as? String { return text }
      if let object = item as? [String: Any] { return (object["id"] ?? object["test_id"]) as? String }
      return nil
    }
  }

  // MARK: - Plumbing

  private func url(_ path: String) -> URL {
    baseURL.appendingPathComponent(path)
  }

  private func escaped(_ segment: String) -> String {
    segment.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-_."))) ?? segment
  }

  private func send(
    _ method: HTTPMethod, _ path: String, body: some Encodable, retrySafe: Bool, action: String
  ) async throws(TestomatioError) -> HTTPResponse {
    let data: Data
    do {
      data = try Self.encoder.encode(body)
    } catch {
      throw .unexpectedResponse(action: action, detail: "could not encode the request")
    }
    let request = HTTPRequest(
      method: method, url: url(path), headers: ["Content-Type": "application/json", "Accept": "application/json"],
      body: Array(data), retrySafe: retrySafe, timeout: timeout)
    return try await perform(request, action: action)
  }

  private func perform(_ request: HTTPRequest, action: String) async throws(TestomatioError) -> HTTPResponse {
    let response: HTTPResponse
    do {
      response = try await transport.send(request)
    } catch {
      throw .request(action: action, error)
    }
    guard response.isSuccess else { throw .request(action: action, HTTPError.status(response, request: request)) }
    return response
  }

  private func decodeRun(_ response: HTTPResponse, action: String, fallbackUID: String?) throws(TestomatioError) -> RunInfo {
    guard let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] else {
      if let fallbackUID { return RunInfo(uid: fallbackUID) }
      throw .unexpectedResponse(action: action, detail: "the body is not a JSON object")
    }
    guard let uid = (object["uid"] as? String) ?? fallbackUID, !uid.isEmpty else {
      throw .unexpectedResponse(action: action, detail: "no run 'uid' in the answer")
    }
    return RunInfo(uid: uid, url: object["url"] as? String, publicURL: object["public_url"] as? String)
  }
}
