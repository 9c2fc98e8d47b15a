import BridgeCore
import Foundation

/// Test counts shown on Jira: remote link titles and run history entries.
public struct JiraRunCounts: Sendable, Hashable, Codable {
  public var passed: Int
  /// Failed tests, errors included.
  public var failed: Int
  public var skipped: Int
  /// Tests that failed and then passed on a retry.
  public var flaky: Int

  public init(passed: Int = 0, failed: Int = 0, skipped: Int = 0, flaky: Int = 0) {
    self.passed = passed
    self.failed = failed
    self.skipped = skipped
    self.flaky = flaky
  }

  /// The counts of `totals`, errors counted as failures.
  public init(_ totals: RunTotals) {
    self.init(passed: totals.passed, failed: totals.failed + totals.errors, skipped: totals.skipped, flaky: totals.flaky)
  }

  /// `12 passed, 1 failed, 1 flaky`: passed always, the others only when not zero.
  public var summary: String {
    var parts = ["\(passed) passed"]
    if failed > 0 { parts.append("\(failed) failed") }
    if skipped > 0 { parts.append("\(skipped) skipped") }
    if flaky > 0 { parts.append("\(flaky) flaky") }
    return parts.joined(separator: ", ")
  }
}

/// Titles and identities of the remote links testbridge puts on issues.
public enum RemoteLinkTitle {
  /// The `application.type` of testbridge's links (groups them in Jira's UI).
  public static let applicationType = "io.testbridge"
  /// The `application.name` shown in Jira.
  public static let applicationName = "testbridge"
  /// The `relationship` the links are grouped under.
  public static let relationship = "test runs"
  /// The prefix of every global id testbridge sets.
  public static let globalIDPrefix = "testbridge:"

  /// `testbridge: 12 passed, 1 failed, 1 flaky · Nightly`, cut to Jira's 255 characters
  /// (the run title is shortened with `…`). Without a run title the ` · …` part is left out.
  public static func make(counts: JiraRunCounts, runTitle: String?) -> String {
    let head = "testbridge: " + counts.summary
    let title = (runTitle ?? "").split(whereSeparator: \.isNewline).joined(separator: " ")
      .trimmingCharacters(in: .whitespaces)
    guard !title.isEmpty else { return String(head.prefix(JiraLimits.maxRemoteLinkTitleLength)) }
    let full = head + " · " + title
    guard full.count > JiraLimits.maxRemoteLinkTitleLength else { return full }
    return String(full.prefix(JiraLimits.maxRemoteLinkTitleLength - 1)) + "…"
  }

  /// The `globalId` for the link identified by `linkKey` (for example `nightly` or a
  /// pipeline name): `testbridge:` and a 16-hex-digit FNV-1a hash of the key.
  ///
  /// Jira matches global ids per issue, so the same key on several issues gives one link on
  /// each, and every run with that key updates those links in place instead of adding more.
  /// The hash keeps the id within 255 characters whatever the key.
  public static func globalID(linkKey: String) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in linkKey.utf8 {
      hash ^= UInt64(byte)
      hash = hash &* 0x0000_0100_0000_01b3
    }
    let hex = String(hash, radix: 16)
    return globalIDPrefix + String(repeating: "0", count: 16 - hex.count) + hex
  }
}
