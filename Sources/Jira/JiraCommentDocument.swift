import Foundation

/// A small rich-text document for comments, rendered as Atlassian Document Format for REST v3
/// (Cloud) or as wiki markup for REST v2 (Data Center).
///
/// ```swift
/// let doc = JiraCommentDocument(paragraphs: [
///   [.strong("testbridge"), .text(": 12 passed, 1 failed · "), .link(text: "report", url: "https://…")],
/// ])
/// doc.wikiMarkup()   // *testbridge*: 12 passed, 1 failed · [report|https://…]
/// ```
public struct JiraCommentDocument: Sendable, Hashable {
  /// A run of text inside a paragraph.
  public enum Inline: Sendable, Hashable {
    case text(String)
    case strong(String)
    case link(text: String, url: String)
  }

  /// Paragraphs in order; each is a list of inline runs.
  public var paragraphs: [[Inline]]

  public init(paragraphs: [[Inline]]) {
    self.paragraphs = paragraphs
  }

  /// A document of one paragraph of plain text.
  public init(text: String) {
    self.paragraphs = [[.text(text)]]
  }

  /// The ADF document as a JSON object (`{"type":"doc","version":1,"content":[…]}`).
  ///
  /// Empty text runs are left out, because ADF rejects text nodes with empty `text`.
  public func adfObject() -> [String: Any] {
    let content: [[String: Any]] = paragraphs.map { runs in
      let nodes: [[String: Any]] = runs.compactMap { run in
        switch run {
        case .text(let text):
          guard !text.isEmpty else { return nil }
          return ["type": "text", "text": text]
        case .strong(let text):
          guard !text.isEmpty else { return nil }
          return ["type": "text", "text": text, "marks": [["type": "strong"]]]
        case .link(let text, let url):
          let shown = text.isEmpty ? url : text
          guard !shown.isEmpty else { return nil }
          return ["type": "text", "text": shown, "marks": [["type": "link", "attrs": ["href": url]]]]
        }
      }
      return ["type": "paragraph", "content": nodes]
    }
    return ["type": "doc", "version": 1, "content": content]
  }

  /// The ADF document as compact JSON bytes with sorted keys.
  public func adfJSON() -> Data {
    (try? JSONSerialization.data(withJSONObject: adfObject(), options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
  }

  /// The document as wiki markup: paragraphs separated by a blank line, `*strong*`,
  /// `[text|url]` links, and markup characters in text escaped with a backslash.
  public func wikiMarkup() -> String {
    paragraphs.map { runs in
      runs.map { run -> String in
        switch run {
        case .text(let text): return Self.escapeWiki(text)
        case .strong(let text): return text.isEmpty ? "" : "*\(Self.escapeWiki(text))*"
        case .link(let text, let url):
          let target = Self.wikiURL(url)
          return text.isEmpty ? "[\(target)]" : "[\(Self.escapeWiki(text))|\(target)]"
        }
      }.joined()
    }.joined(separator: "\n\n")
  }

  /// The document as plain text, paragraphs on separate lines, links as their text.
  public var plainText: String {
    paragraphs.map { runs in
      runs.map { run -> String in
        switch run {
        case .text(let text), .strong(let text): return text
        case .link(let text, let url): return text.isEmpty ? url : text
        }
      }.joined()
    }.joined(separator: "\n")
  }

  /// The text of an ADF document: text nodes joined, paragraphs and hard breaks on new lines,
  /// cards as their URL. Empty for anything that is not ADF JSON.
  public static func plainText(fromADF data: Data) -> String {
    guard let root = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else { return "" }
    var blocks: [String] = []
    var current = ""
    func walk(_ node: Any) {
      guard let object = node as? [String: Any] else { return }
      let type = object["type"] as? String ?? ""
      switch type {
      case "text": current += object["text"] as? String ?? ""
      case "hardBreak": current += "\n"
      case "inlineCard", "blockCard":
        current += ((object["attrs"] as? [String: Any])?["url"] as? String) ?? ""
      default: break
      }
      for child in object["content"] as? [Any] ?? [] { walk(child) }
      if ["paragraph", "heading", "codeBlock", "blockquote", "listItem"].contains(type) {
        blocks.append(current)
        current = ""
      }
    }
    walk(root)
    if !current.isEmpty { blocks.append(current) }
    return blocks.joined(separator: "\n")
  }

  /// Characters with a meaning in wiki markup.
  private static let wikiSpecials: Set<Character> = ["\\", "*", "_", "[", "]", "{", "}", "|", "!", "^", "~", "+", "#"]

  static func escapeWiki(_ text: String) -> String {
    var result = ""
    for character in text {
      if wikiSpecials.contains(character) { result.append("\\") }
      result.append(character)
    }
    return result
  }

  /// A URL safe inside `[…|…]`: `|`, `]`, `[` and spaces percent-encoded.
  static func wikiURL(_ url: String) -> String {
    var result = ""
    for character in url {
      switch character {
      case "|": result += "%7C"
      case "]": result += "%5D"
      case "[": result += "%5B"
      case " ": result += "%20"
      default: result.append(character)
      }
    }
    return result
  }
}
