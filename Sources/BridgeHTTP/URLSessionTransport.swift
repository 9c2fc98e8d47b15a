import BridgeCore
import Foundation

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// The real transport, on `URLSession` (libcurl on Linux).
///
/// Each instance owns one ephemeral session (no cookies, no cache, no credential storage),
/// invalidated when the last copy of the transport goes away. Every call has an overall
/// deadline, `request.timeout` or ``defaultTimeout``: `timeoutIntervalForRequest` alone is an
/// idle timeout, which a server trickling bytes never trips, so the call also races the
/// deadline in a task group and cancels the data task when the deadline wins.
///
/// Before anything is sent the URL must pass ``TransportPolicy/checkScheme(_:allowInsecureHTTP:method:)``.
/// Redirects are followed only within the same scheme, host and port; any other redirect is
/// returned as the 3xx response it is, so credentials never travel to a second host. With
/// `followRedirects: false` none is followed (for a caller that checks each request before it
/// is sent, as the Jira guard does: a redirect would be a request it never saw).
public struct URLSessionTransport: HTTPTransport {
  private typealias Outcome = Result<HTTPResponse, HTTPError>

  /// The timeout used when a request sets none: 20 s, as Testomat.io's own reporter uses.
  public static let standardTimeout: TimeInterval = 20

  public let defaultTimeout: TimeInterval
  public let allowInsecureHTTP: Bool
  /// Sent as `User-Agent` when a request sets none.
  public let userAgent: String
  private let owner: SessionOwner

  /// - Parameters:
  ///   - defaultTimeout: seconds allowed per call when the request sets no `timeout`.
  ///   - allowInsecureHTTP: permit plain http to non-loopback hosts (`--allow-insecure-http`).
  ///   - userAgent: the `User-Agent` for requests that set none.
  ///   - followRedirects: follow same-origin redirects (the default), or return every 3xx as it is.
  public init(
    defaultTimeout: TimeInterval = URLSessionTransport.standardTimeout,
    allowInsecureHTTP: Bool = false,
    userAgent: String = "testbridge",
    followRedirects: Bool = true
  ) {
    self.defaultTimeout = defaultTimeout
    self.allowInsecureHTTP = allowInsecureHTTP
    self.userAgent = userAgent
    let configuration = URLSessionConfiguration.ephemeral
    configuration.timeoutIntervalForRequest = URLSessionTransport.backstopTimeout(defaultTimeout)
    configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
    configuration.urlCache = nil
    configuration.httpCookieStorage = nil
    configuration.httpShouldSetCookies = false
    configuration.urlCredentialStorage = nil
    self.owner = SessionOwner(
      session: URLSession(configuration: configuration, delegate: RedirectGuard(followRedirects: followRedirects), delegateQueue: nil))
  }

  /// Cancels outstanding calls and releases the session; later calls fail with a refusal.
  public func invalidate() {
    owner.invalidate()
  }

  public func send(_ request: HTTPRequest) async throws(HTTPError) -> HTTPResponse {
    try TransportPolicy.checkScheme(request.url, allowInsecureHTTP: allowInsecureHTTP, method: request.method)
    let timeout = min(max(0.001, request.timeout ?? defaultTimeout), Self.longestTimeout)
    var urlRequest = URLRequest(url: request.url)
    urlRequest.httpMethod = request.method.rawValue
    urlRequest.timeoutInterval = URLSessionTransport.backstopTimeout(timeout)
    urlRequest.cachePolicy = .reloadIgnoringLocalCacheData
    for (name, value) in request.headers {
      urlRequest.setValue(value, forHTTPHeaderField: name)
    }
    if request.header("User-Agent") == nil {
      urlRequest.setValue(userAgent, forHTTPHeaderField: "User-Agent")
    }
    if let body = request.body { urlRequest.httpBody = Data(body) }
    if Task.isCancelled { throw HTTPError(.cancelled, request: request) }

    let owner = self.owner
    let finalRequest = urlRequest
    let result = await withTaskGroup(of: Result<HTTPResponse, HTTPError>?.self) { group in
      group.addTask {
        await URLSessionTransport.perform(finalRequest, on: owner, for: request, timeout: timeout)
      }
      group.addTask {
        do {
          try await Task.sleep(for: .seconds(timeout))
        } catch {
          return nil  // cancelled: the exchange finished first, or the caller gave up
        }
        return .failure(HTTPError(.timeout(after: timeout), request: request))
      }
      var first: Result<HTTPResponse, HTTPError>?
      while let next = await group.next() {
        if let next {
          first = next
          break
        }
      }
      group.cancelAll()
      return first ?? .failure(HTTPError(.cancelled, request: request))
    }
    return try result.get()
  }

  /// The value handed to URLSession's own (idle) timeout. swift-corelibs-foundation arms its
  /// timer with `Int(timeoutInterval) * 1000` milliseconds, so a sub-second value becomes 0 ms
  /// and fails the request at once with `timedOut` before anything is sent; rounding up to whole
  /// seconds keeps it a backstop behind the task-group deadline, which is exact.
  static func backstopTimeout(_ seconds: TimeInterval) -> TimeInterval {
    min(max(1, seconds.rounded(.up)), longestTimeout)
  }

  /// The longest timeout used, one day: longer ones (or infinity) overflow the
  /// integer conversions in `Task.sleep` and in corelibs' timer and crash.
  static let longestTimeout: TimeInterval = 86_400

  /// One exchange; cancelling the calling task cancels the data task.
  private static func perform(
    _ urlRequest: URLRequest, on owner: SessionOwner, for request: HTTPRequest, timeout: Double
  ) async -> Result<HTTPResponse, HTTPError> {
    let handle = TaskHandle()
    let taskID = Locked<Int?>(nil)
    return await withTaskCancellationHandler {
      await withCheckedContinuation { (continuation: CheckedContinuation<Outcome, Never>) in
        let task = owner.dataTask(with: urlRequest) { data, response, error in
          // A 401/407 that asked for credentials: URLSession gives no response, only the
          // challenge we refused; answer with the status it carried.
          if let error, (error as? URLError)?.code == .cancelled, !handle.wasCancelled,
            let id = taskID.withLock({ $0 }), let refused = owner.challenges?.take(id)
          {
            continuation.resume(returning: .success(HTTPResponse(status: refused.status, headers: refused.headers, body: [])))
            return
          }
          continuation.resume(
            returning: map(data: data, response: response, error: error, request: request, timeout: timeout))
        }
        if let task { taskID.withLock { $0 = task.taskIdentifier } }
        guard let task else {
          continuation.resume(
            returning: .failure(
              HTTPError(.refused(reason: "the transport has been invalidated"), request: request)))
          return
        }
        handle.start(task)
      }
    } onCancel: {
      handle.cancel()
    }
  }

  static func map(
    data: Data?, response: URLResponse?, error: (any Error)?, request: HTTPRequest, timeout: Double
  ) -> Result<HTTPResponse, HTTPError> {
    if let error {
      return .failure(HTTPError(kind(for: error, timeout: timeout), request: request))
    }
    guard let http = response as? HTTPURLResponse else {
      return .failure(
        HTTPError(
          .transport(description: "the reply is not an HTTP response", isConnectionError: false),
          request: request))
    }
    var headers: [String: String] = [:]
    for (key, value) in http.allHeaderFields {
      if let name = key as? String, let text = value as? String { headers[name] = text }
    }
    return .success(HTTPResponse(status: http.statusCode, headers: headers, body: [UInt8](data ?? Data())))
  }

  /// The taxonomy entry for a URLSession failure. Descriptions are fixed phrases, never the
  /// system's text, which can embed the full URL.
  ///
  /// `neverSent` marks the failures that happen before a connection exists (the name did not
  /// resolve, the connection was refused, no network): no server saw a byte of the request.
  /// A lost connection or an empty reply may come after the server applied it, so they are not.
  static func kind(for error: any Error, timeout: Double) -> HTTPError.Kind {
    guard let urlError = error as? URLError else {
      return .transport(description: "unexpected failure", isConnectionError: false)
    }
    switch urlError.code {
    case .timedOut: return .timeout(after: timeout)
    case .cancelled: return .cancelled
    case .cannotConnectToHost:
      return .transport(description: "cannot connect to the server", isConnectionError: true, neverSent: true)
    case .networkConnectionLost:
      return .transport(description: "the connection was lost", isConnectionError: true)
    case .notConnectedToInternet:
      return .transport(description: "no network connection", isConnectionError: true, neverSent: true)
    case .cannotFindHost:
      return .transport(description: "cannot resolve the host name", isConnectionError: true, neverSent: true)
    case .dnsLookupFailed:
      return .transport(description: "DNS lookup failed", isConnectionError: true, neverSent: true)
    case .secureConnectionFailed:
      return .transport(description: "TLS handshake failed", isConnectionError: false)
    case .serverCertificateUntrusted, .serverCertificateHasBadDate, .serverCertificateNotYetValid,
      .serverCertificateHasUnknownRoot:
      return .transport(description: "the server's TLS certificate is not trusted", isConnectionError: false)
    case .badServerResponse:
      // libcurl's "empty reply from server" lands here: the server (or a proxy) closed the
      // connection without answering, a dropped connection like any other.
      return .transport(description: "the server closed the connection without a valid response", isConnectionError: true)
    case .unknown where isCutAnswer(urlError):
      return .transport(description: "the connection closed before the whole answer arrived", isConnectionError: true)
    case .httpTooManyRedirects:
      return .transport(description: "too many redirects", isConnectionError: false)
    case .unsupportedURL, .badURL:
      return .transport(description: "the URL is not supported", isConnectionError: false)
    default:
      return .transport(description: "URL error \(urlError.code.rawValue)", isConnectionError: false)
    }
  }
}

extension URLSessionTransport {
  /// libcurl's CURLE_PARTIAL_FILE: the server closed the connection after the head and part
  /// of the body ("transfer closed with 94 bytes remaining to read", or "… outstanding read
  /// data remaining" for chunked answers). swift-corelibs-foundation reports it as
  /// `URLError.unknown`, with only libcurl's message to tell it apart. (A reset mid-answer
  /// arrives as `networkConnectionLost` already.)
  static func isCutAnswer(_ error: URLError) -> Bool {
    var messages = [error.userInfo[NSLocalizedDescriptionKey] as? String]
    if let underlying = error.userInfo[NSUnderlyingErrorKey] as? NSError {
      messages.append(underlying.userInfo[NSLocalizedDescriptionKey] as? String)
    }
    return messages.contains { $0?.hasPrefix("transfer closed with") == true }
  }
}

/// Owns the session so it is invalidated once: explicitly, or when the last transport copy is
/// released. Creating a task on an invalidated session traps in swift-corelibs-foundation, so
/// task creation and invalidation share a lock.
private final class SessionOwner: Sendable {
  private let session: URLSession
  var challenges: AuthenticationChallenges? { (session.delegate as? RedirectGuard)?.challenges }
  // true once the session is invalidated.
  private let invalidated = Locked(false)

  init(session: URLSession) { self.session = session }

  /// A new data task, or nil after invalidation.
  func dataTask(
    with request: URLRequest,
    completion: @escaping @Sendable (Data?, URLResponse?, (any Error)?) -> Void
  ) -> URLSessionDataTask? {
    invalidated.withLock { invalidated in
      invalidated ? nil : session.dataTask(with: request, completionHandler: completion)
    }
  }

  func invalidate() {
    invalidated.withLock { invalidated in
      guard !invalidated else { return }
      invalidated = true
      session.invalidateAndCancel()
    }
  }

  deinit {
    if !invalidated.withLock({ $0 }) { session.finishTasksAndInvalidate() }
  }
}

/// Hands the data task to a cancellation handler that may run before or after it exists.
private final class TaskHandle: Sendable {
  private struct State {
    var task: URLSessionDataTask?
    var cancelled = false
  }

  private let state = Locked(State())

  func start(_ task: URLSessionDataTask) {
    let cancelledAlready = state.withLock { state in
      state.task = task
      return state.cancelled
    }
    if cancelledAlready { task.cancel() }
    task.resume()
  }

  /// True once the caller cancelled (as opposed to a refused credential challenge).
  var wasCancelled: Bool { state.withLock { $0.cancelled } }

  func cancel() {
    let task = state.withLock { state in
      state.cancelled = true
      return state.task
    }
    task?.cancel()
  }
}

/// Allows a redirect only to the same scheme, host and port, or none at all.
private final class RedirectGuard: NSObject, URLSessionTaskDelegate, Sendable {
  let challenges = AuthenticationChallenges()
  let followRedirects: Bool

  init(followRedirects: Bool) {
    self.followRedirects = followRedirects
  }

  /// Linux URLSession stalls until its timeout on a 401 carrying `WWW-Authenticate`
  /// (as Jira's do) unless the challenge is answered. testbridge never answers with
  /// credentials: it refuses, and reports the status the server sent.
  func urlSession(
    _ session: URLSession, task: URLSessionTask, didReceive challenge: URLAuthenticationChallenge,
    completionHandler: @escaping @Sendable (URLSession.AuthChallengeDisposition, URLCredential?) -> Void
  ) {
    if let response = challenge.failureResponse as? HTTPURLResponse {
      var headers: [String: String] = [:]
      for (key, value) in response.allHeaderFields {
        if let name = key as? String, let text = value as? String { headers[name] = text }
      }
      challenges.record(task.taskIdentifier, status: response.statusCode, headers: headers)
    }
    completionHandler(.cancelAuthenticationChallenge, nil)
  }

  func urlSession(
    _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
    newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
  ) {
    let from = task.originalRequest?.url
    let to = request.url
    let sameOrigin =
      from?.scheme?.lowercased() == to?.scheme?.lowercased()
      && from?.host?.lowercased() == to?.host?.lowercased() && from?.port == to?.port
    completionHandler(followRedirects && sameOrigin ? request : nil)
  }
}

/// Statuses of credential challenges refused, by task, until the task's completion reads them.
private final class AuthenticationChallenges: Sendable {
  struct Refused: Sendable {
    var status: Int
    var headers: [String: String]
  }

  private let refused = Locked<[Int: Refused]>([:])

  func record(_ taskID: Int, status: Int, headers: [String: String]) {
    refused.withLock { $0[taskID] = Refused(status: status, headers: headers) }
  }

  func take(_ taskID: Int) -> Refused? {
    refused.withLock { $0.removeValue(forKey: taskID) }
  }
}
