// libFuzzer target: what `serve` does with a webhook before any network call:
// authenticate the raw body, parse the Jira payload, and decide with the rules.
//
// Input layout: the body, then optional NUL-separated parts: a rules file (JSON)
// and an `X-Hub-Signature` value. A body signed with the right secret must
// always authenticate, and the same body with any other signature must not.
import Foundation
import HTTPServer
@testable import Trigger

private let secret = "whsec_fuzz"
private let authenticator = WebhookAuthenticator(secrets: WebhookSecrets(signingSecret: secret))

private func hex(_ bytes: [UInt8]) -> String {
  let digits = Array("0123456789abcdef".utf8)
  var text: [UInt8] = []
  for byte in bytes { text += [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]] }
  return String(decoding: text, as: UTF8.self)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let parts = UnsafeBufferPointer(start: data, count: size).split(
    separator: 0, maxSplits: 2, omittingEmptySubsequences: false)
  let body = parts.first.map(Array.init) ?? []

  let good = "sha256=" + hex(HMACSHA256.authenticationCode(for: body, key: Array(secret.utf8)))
  guard case .success = authenticator.authenticate(headers: [WebhookAuthenticator.signatureHeader: good], body: body)
  else { fatalError("a correctly signed body was refused") }
  if parts.count > 2 {
    let given = String(decoding: parts[2], as: UTF8.self)
    let result = authenticator.authenticate(headers: [WebhookAuthenticator.signatureHeader: given], body: body)
    let normalized = given.trimmingCharacters(in: .whitespaces).lowercased()
    if case .success = result, normalized != good {
      fatalError("signature '\(given)' was accepted for a body it does not sign")
    }
  }

  let rules = parts.count > 1 ? (try? TriggerRules.parse(Array(parts[1]))) : nil
  guard let event = try? JiraWebhookEvent.parse(body) else { return 0 }
  guard JiraWebhookEvent.isIssueKey(event.issueKey) else { fatalError("accepted issue key '\(event.issueKey)'") }
  _ = event.transitionTargets
  for candidate in [TriggerRules.default, rules].compactMap({ $0 }) {
    switch candidate.decide(event, defaultCI: .github) {
    case .trigger(let plan): _ = plan.title
    case .ignore(let reason): guard reason.count <= 500 else { fatalError("reason longer than 500 characters") }
    }
  }
  return 0
}
