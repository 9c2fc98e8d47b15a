import BridgeCore
import BridgeHTTP
import Foundation

/// An ``HTTPTransport`` for tests: answers from a script, in order, and records every request.
///
/// ```swift
/// let stub = StubTransport([.status(503), .json(200, #"{"uid":"r1"}"#)])
/// let response = try await stub.send(request)   // 503
/// #expect(stub.requests.count == 1)
/// ```
/// When the script runs out the stub answers with `fallback` if one was given, otherwise it
/// throws a non-connection transport error naming the request, so an unexpected extra call fails
/// the test visibly. A `handler` answers requests instead of the script, for routing by path.
public final class StubTransport: HTTPTransport, Sendable {
  /// One scripted answer.
  public enum Reply: Sendable, Hashable {
    case response(HTTPResponse)
    /// Thrown as an ``HTTPError`` whose request line is the request's.
    case failure(HTTPError.Kind)

    /// A response with a status, an optional UTF-8 body and headers.
    public static func status(_ code: Int, body: String = "", headers: [String: String] = [:]) -> Reply {
      .response(HTTPResponse(status: code, headers: headers, body: Array(body.utf8)))
    }

    /// A JSON response (`Content-Type: application/json`).
    public static func json(_ code: Int = 200, _ text: String, headers: [String: String] = [:]) -> Reply {
      var all = headers
      all["Content-Type"] = "application/json"
      return .response(HTTPResponse(status: code, headers: all, body: Array(text.utf8)))
    }

    /// A connection failure (server unreachable).
    public static var connectionRefused: Reply {
      .failure(.transport(description: "cannot connect to the server", isConnectionError: true))
    }

    /// A timeout after `seconds`.
    public static func timeout(_ seconds: Double = 20) -> Reply { .failure(.timeout(after: seconds)) }
  }

  private struct State {
    var script: [Reply]
    var requests: [HTTPRequest] = []
  }

  private let state: Locked<State>
  private let fallback: Reply?
  private let handler: (@Sendable (HTTPRequest) -> Reply)?

  /// Answers with `script` in order, then with `fallback`.
  public init(_ script: [Reply] = [], fallback: Reply? = nil) {
    self.state = Locked(State(script: script))
    self.fallback = fallback
    self.handler = nil
  }

  /// Answers every request with `handler`'s reply.
  public init(handler: @escaping @Sendable (HTTPRequest) -> Reply) {
    self.state = Locked(State(script: []))
    self.fallback = nil
    self.handler = handler
  }

  /// Appends replies to the script.
  public func enqueue(_ replies: Reply...) {
    state.withLock { $0.script.append(contentsOf: replies) }
  }

  /// Every request received so far, in order.
  public var requests: [HTTPRequest] { state.withLock { $0.requests } }

  public var requestCount: Int { state.withLock { $0.requests.count } }

  public var lastRequest: HTTPRequest? { state.withLock { $0.requests.last } }

  /// Scripted replies not used yet.
  public var remainingReplies: Int { state.withLock { $0.script.count } }

  public func send(_ request: HTTPRequest) async throws(HTTPError) -> HTTPResponse {
    let scripted: Reply? = state.withLock { state in
      state.requests.append(request)
      return state.script.isEmpty ? nil : state.script.removeFirst()
    }
    let reply =
      handler?(request) ?? scripted ?? fallback
      ?? .failure(
        .transport(
          description: "stub transport has no reply scripted for request \(requestCount)",
          isConnectionError: false))
    switch reply {
    case .response(let response): return response
    case .failure(let kind): throw HTTPError(kind, request: request)
    }
  }
}

extension HTTPRequest {
  /// The body as UTF-8 text, or nil without a body.
  public var bodyText: String? { body.map { String(decoding: $0, as: UTF8.self) } }

  /// The body as JSON re-serialised with sorted keys, for comparing with golden files; nil when
  /// there is no body or it is not JSON.
  public var canonicalJSONBody: String? {
    guard let body, let object = try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed]),
      let data = try? JSONSerialization.data(
        withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes, .fragmentsAllowed])
    else { return nil }
    return String(decoding: data, as: UTF8.self)
  }
}
