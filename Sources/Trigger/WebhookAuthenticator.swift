import Foundation
import HTTPServer

/// The secrets a webhook sender must prove it knows.
///
/// - `signingSecret` (`TESTBRIDGE_WEBHOOK_SECRET`): the secret of a Jira admin webhook, which
///   signs the raw body as `X-Hub-Signature: sha256=<hex HMAC-SHA256>`.
/// - `token` (`TESTBRIDGE_WEBHOOK_TOKEN`, defaulting to the signing secret): the shared token
///   a Jira Automation "Send web request" action sends, since it cannot sign; as
///   `X-Testbridge-Token: <token>` or `Authorization: Bearer <token>`.
///
/// An empty secret disables its method; with both empty every request is refused.
/// The description never shows the values.
public struct WebhookSecrets: Sendable, Hashable, CustomStringConvertible {
  public var signingSecret: String
  public var token: String

  /// - Parameters:
  ///   - signingSecret: the HMAC secret; empty disables signatures.
  ///   - token: the shared token; nil means the signing secret, empty disables tokens.
  public init(signingSecret: String, token: String? = nil) {
    self.signingSecret = signingSecret
    self.token = token ?? signingSecret
  }

  /// Reads `TESTBRIDGE_WEBHOOK_SECRET` and `TESTBRIDGE_WEBHOOK_TOKEN`; explicit values win.
  ///
  /// - Throws: ``TriggerError/missingConfiguration(variable:purpose:)`` when neither is set,
  ///   because a webhook endpoint without a secret would let anyone start CI runs.
  public static func resolve(
    environment: [String: String], signingSecret: String? = nil, token: String? = nil
  ) throws(TriggerError) -> WebhookSecrets {
    let secret = signingSecret ?? environment["TESTBRIDGE_WEBHOOK_SECRET"] ?? ""
    let token = token ?? environment["TESTBRIDGE_WEBHOOK_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
    let secrets = WebhookSecrets(signingSecret: secret, token: token)
    guard !secrets.signingSecret.isEmpty || !secrets.token.isEmpty else {
      throw .missingConfiguration(
        variable: "TESTBRIDGE_WEBHOOK_SECRET",
        purpose: "webhooks must be signed with a secret (or carry TESTBRIDGE_WEBHOOK_TOKEN)")
    }
    return secrets
  }

  /// The secret values, for redacting text that might echo them.
  public var values: [String] { [signingSecret, token].filter { !$0.isEmpty } }

  public var description: String {
    "WebhookSecrets(signing: \(signingSecret.isEmpty ? "off" : "set"), token: \(token.isEmpty ? "off" : "set"))"
  }
}

/// How a webhook request proved who sent it.
public enum WebhookAuthentication: String, Sendable, Hashable {
  /// A valid `X-Hub-Signature` over the raw body.
  case signature
  /// The shared token in `X-Testbridge-Token` or `Authorization: Bearer`.
  case token
}

/// Decides whether a webhook request comes from someone who knows the secret (pure).
///
/// A request with an `X-Hub-Signature` header is judged by the signature alone: a wrong
/// signature is refused even if a token is also sent. Otherwise `X-Testbridge-Token`, then
/// `Authorization: Bearer`, is compared with the token. Every comparison is constant-time.
public struct WebhookAuthenticator: Sendable {
  /// The header Jira admin webhooks sign with.
  public static let signatureHeader = "X-Hub-Signature"
  /// The header a Jira Automation rule can send the shared token in.
  public static let tokenHeader = "X-Testbridge-Token"

  public let secrets: WebhookSecrets

  public init(secrets: WebhookSecrets) {
    self.secrets = secrets
  }

  /// Checks the request's credentials against the secrets.
  ///
  /// - Returns: the method that succeeded, or ``TriggerError/unauthenticated(_:)`` with a
  ///   reason that names no secret and no received credential.
  public func authenticate(headers: HTTPHeaders, body: [UInt8]) -> Result<WebhookAuthentication, TriggerError> {
    if let signature = headers[Self.signatureHeader] {
      return verifySignature(signature, body: body)
    }
    if let token = headers[Self.tokenHeader] {
      return verifyToken(token)
    }
    if let authorization = headers["Authorization"] {
      let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
      guard parts.count == 2, parts[0].lowercased() == "bearer" else {
        return .failure(.unauthenticated("the Authorization header is not a bearer token"))
      }
      return verifyToken(String(parts[1]).trimmingCharacters(in: .whitespaces))
    }
    return .failure(
      .unauthenticated("no credentials: expected \(Self.signatureHeader), \(Self.tokenHeader) or a bearer token"))
  }

  private func verifySignature(_ header: String, body: [UInt8]) -> Result<WebhookAuthentication, TriggerError> {
    guard !secrets.signingSecret.isEmpty else {
      return .failure(.unauthenticated("signed webhooks are not accepted: no signing secret is configured"))
    }
    let value = header.trimmingCharacters(in: .whitespaces)
    guard let equals = value.firstIndex(of: "=") else {
      return .failure(.unauthenticated("the signature is not of the form 'sha256=<hex>'"))
    }
    let method = value[..<equals].lowercased()
    guard method == "sha256" else {
      return .failure(.unauthenticated("unsupported signature method '\(Self.printable(method))'"))
    }
    guard let given = Hex.decode(value[value.index(after: equals)...]), given.count == HMACSHA256.byteCount else {
      return .failure(.unauthenticated("the signature is not 64 hexadecimal digits"))
    }
    let expected = HMACSHA256.authenticationCode(for: body, key: Array(secrets.signingSecret.utf8))
    guard constantTimeEquals(given, expected) else {
      return .failure(.unauthenticated("the signature does not match the body"))
    }
    return .success(.signature)
  }

  private func verifyToken(_ given: String) -> Result<WebhookAuthentication, TriggerError> {
    guard !secrets.token.isEmpty else {
      return .failure(.unauthenticated("token authentication is not accepted: no token is configured"))
    }
    // Comparing digests keeps the time independent of the token's length too.
    let givenDigest = SHA256.hash(Array(given.utf8))
    let expectedDigest = SHA256.hash(Array(secrets.token.utf8))
    guard constantTimeEquals(givenDigest, expectedDigest) else {
      return .failure(.unauthenticated("the token does not match"))
    }
    return .success(.token)
  }

  /// At most 16 printable ASCII characters of a value the sender chose, for messages.
  private static func printable(_ text: String) -> String {
    String(String.UnicodeScalarView(text.unicodeScalars.filter { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F }.prefix(16)))
  }
}
