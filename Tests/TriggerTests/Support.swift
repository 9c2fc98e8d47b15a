import BridgeCore
import Foundation
import HTTPServer
import Trigger

/// The secret used by the tests' webhooks.
let webhookSecret = "whsec-test-4f1c2a9b"
/// The token used by the tests' Automation requests.
let automationToken = "automation-token-77d3e0"

/// `sha256=<hex>` for `body` under `secret`.
func signature(_ body: [UInt8], secret: String = webhookSecret) -> String {
  "sha256=" + Hex.encode(HMACSHA256.authenticationCode(for: body, key: Array(secret.utf8)))
}

/// Collects log lines from code under test.
final class LogCollector: Sendable {
  private let lines = Locked<[String]>([])

  var sink: @Sendable (String) -> Void {
    { [self] line in lines.withLock { $0.append(line) } }
  }

  var all: [String] { lines.withLock { $0 } }

  var text: String { all.joined(separator: "\n") }
}

/// A tiny admin-webhook body for `key`, moving the issue from `from` to `to` when given.
func adminWebhook(
  key: String = "PROJ-1", event: String = "jira:issue_updated", to: String? = nil, from: String = "Open",
  labels: [String] = [], project: String? = nil
) -> [UInt8] {
  let projectKey = project ?? String(key.split(separator: "-").first ?? "")
  var object: [String: Any] = [
    "timestamp": 1_700_000_000_000,
    "webhookEvent": event,
    "issue_event_type_name": "issue_generic",
    "user": ["accountId": "5b10a2844c20165700ede21g", "displayName": "Ada"],
    "issue": [
      "id": "10001",
      "key": key,
      "fields": [
        "project": ["key": projectKey, "name": "Project"],
        "labels": labels,
        "status": ["name": to ?? from],
        "summary": "Checkout fails",
      ] as [String: Any],
    ] as [String: Any],
  ]
  if let to {
    object["changelog"] = [
      "id": "10100",
      "items": [
        ["field": "assignee", "fieldtype": "jira", "fromString": NSNull(), "toString": "Ada"],
        ["field": "status", "fieldtype": "jira", "fieldId": "status", "from": "1", "fromString": from, "to": "3", "toString": to],
      ],
    ] as [String: Any]
  }
  let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
  return Array(data)
}
