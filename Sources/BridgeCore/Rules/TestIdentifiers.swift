import Foundation

/// Finds Testomat.io test ids and Jira issue keys in what a report carries.
///
/// Scanning is hand-written over UTF-8 bytes: it runs for every testcase of
/// reports with millions of them, where regular expressions cost too much.
public enum TestIdentifiers {
  /// Property names whose value is a Testomat.io test id.
  public static let testIDPropertyNames: Set<String> = [
    "id", "test_id", "testid", "test-id", "testomatio", "testomatio_id", "tid",
  ]
  /// Property names whose value holds Jira issue keys.
  public static let jiraPropertyNames: Set<String> = [
    "jira", "jira_key", "jira-key", "jira_id", "jira_issue", "jira-issue", "issue", "issues",
    "requirement", "requirements", "story", "stories", "ticket", "tickets",
  ]

  /// The 8 characters of the first `@T` id in `text` (`@T1a2b3c4d` gives `1a2b3c4d`).
  public static func testomatioID(inTitle text: String) -> String? {
    var text = text
    return text.withUTF8 { bytes in
      var index = 0
      while index + 10 <= bytes.count {
        if bytes[index] == UInt8(ascii: "@"), bytes[index + 1] == UInt8(ascii: "T"),
          let id = eightWordCharacters(bytes, from: index + 2)
        {
          return id
        }
        index += 1
      }
      return nil
    }
  }

  /// The id of a `tid://@T1a2b3c4d` line in output or failure text.
  public static func testomatioID(inOutput text: String) -> String? {
    var text = text
    return text.withUTF8 { testomatioID(inOutputBytes: $0) }
  }

  /// The id of a `tid://@T1a2b3c4d` line in output bytes.
  public static func testomatioID(inOutputBytes bytes: UnsafeBufferPointer<UInt8>) -> String? {
    let marker: StaticString = "tid://@T"
    let markerBytes = UnsafeBufferPointer(start: marker.utf8Start, count: marker.utf8CodeUnitCount)
    guard bytes.count >= markerBytes.count + 8 else { return nil }
    guard let base = bytes.baseAddress, let markerBase = markerBytes.baseAddress else { return nil }
    // memchr jumps to each candidate ':' at memory speed; most output has none.
    var offset = 5  // the ':' of "tid://" sits at index 3 of a match starting at offset - 3
    while offset + 3 + 8 <= bytes.count {
      guard let found = memchr(base + offset - 2, Int32(UInt8(ascii: ":")), bytes.count - (offset - 2)) else { return nil }
      let colon = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
      let start = colon - 3
      if start >= 0, start + markerBytes.count + 8 <= bytes.count,
        memcmp(base + start, markerBase, markerBytes.count) == 0,
        let id = eightWordCharacters(bytes, from: start + markerBytes.count)
      {
        return id
      }
      offset = colon + 3
    }
    return nil
  }

  /// A property value such as `@T1a2b3c4d`, `T1a2b3c4d` or `1a2b3c4d`.
  public static func testomatioID(inPropertyValue value: String) -> String? {
    var bytes = Array(value.utf8.drop { $0 == UInt8(ascii: " ") })
    while bytes.last == UInt8(ascii: " ") { bytes.removeLast() }
    if bytes.first == UInt8(ascii: "@") { bytes.removeFirst() }
    if bytes.count == 9, bytes.first == UInt8(ascii: "T") { bytes.removeFirst() }
    guard bytes.count == 8 else { return nil }
    return bytes.withUnsafeBufferPointer { eightWordCharacters($0, from: 0) }
  }

  /// A test id in the form Testomat.io's CI `grep` input uses: `T` + 8 characters, no `@`
  /// (`@T1a2b3c4d`, `T1a2b3c4d` and `1a2b3c4d` all give `T1a2b3c4d`). Other text is kept
  /// as it is, without leading `@`s.
  public static func grepForm(_ raw: String) -> String {
    var id = Substring(raw.trimmingCharacters(in: .whitespacesAndNewlines))
    while id.hasPrefix("@") { id = id.dropFirst() }
    if id.count == 8, testomatioID(inPropertyValue: String(id)) != nil { return "T" + id }
    return String(id)
  }

  /// Jira keys (`PROJ-123`) anywhere in a property value, separated by anything.
  public static func jiraKeys(inPropertyValue value: String) -> [String] {
    scanJiraKeys(Array(value.utf8), requireAt: false)
  }

  /// Jira keys tagged in a title as `@PROJ-123`.
  public static func jiraKeys(inTitle text: String) -> [String] {
    guard text.utf8.contains(UInt8(ascii: "@")) else { return [] }
    return scanJiraKeys(Array(text.utf8), requireAt: true)
  }

  /// True when `key` looks like a Jira issue key.
  public static func isJiraKey(_ key: String) -> Bool {
    let found = scanJiraKeys(Array(key.utf8), requireAt: false)
    return found == [key]
  }

  // MARK: - Scanning

  private static func isWordCharacter(_ byte: UInt8) -> Bool {
    (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
      || byte == UInt8(ascii: "_")
  }

  private static func eightWordCharacters(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> String? {
    guard start + 8 <= bytes.count else { return nil }
    for offset in 0..<8 where !isWordCharacter(bytes[start + offset]) { return nil }
    // The id ends there: a ninth word character means this is not an id.
    if start + 8 < bytes.count, isWordCharacter(bytes[start + 8]) { return nil }
    return String(decoding: bytes[start..<start + 8], as: UTF8.self)
  }

  private static func isUpper(_ byte: UInt8) -> Bool { byte >= 0x41 && byte <= 0x5A }
  private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

  /// Keys are an uppercase letter, uppercase letters/digits/underscores, `-`, and a number
  /// without a leading zero; they must not be glued to surrounding word characters.
  private static func scanJiraKeys(_ bytes: [UInt8], requireAt: Bool) -> [String] {
    var keys: [String] = []
    var index = 0
    while index < bytes.count {
      let start = index
      let precededByWord = start > 0 && (isWordCharacter(bytes[start - 1]) || bytes[start - 1] == UInt8(ascii: "-"))
      let precededByAt = start > 0 && bytes[start - 1] == UInt8(ascii: "@")
      guard isUpper(bytes[start]), requireAt ? precededByAt : !precededByWord else {
        index += 1
        continue
      }
      var cursor = start + 1
      while cursor < bytes.count, isUpper(bytes[cursor]) || isDigit(bytes[cursor]) || bytes[cursor] == UInt8(ascii: "_") {
        cursor += 1
      }
      guard cursor < bytes.count, bytes[cursor] == UInt8(ascii: "-"), cursor + 1 < bytes.count,
        isDigit(bytes[cursor + 1]), bytes[cursor + 1] != UInt8(ascii: "0")
      else {
        index = max(cursor, start + 1)
        continue
      }
      var end = cursor + 1
      while end < bytes.count, isDigit(bytes[end]) { end += 1 }
      if end < bytes.count, isWordCharacter(bytes[end]) {
        index = end
        continue
      }
      let key = String(decoding: bytes[start..<end], as: UTF8.self)
      if !keys.contains(key) { keys.append(key) }
      index = end
    }
    return keys
  }
}
