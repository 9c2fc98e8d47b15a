/// The JQL the Jira emulator understands: what testbridge sends, and no more.
///
/// `field = value` and `field in (v1, v2)` clauses joined by `AND`, then an optional
/// `ORDER BY key [ASC|DESC]`. Fields: `project`, `key`/`issuekey`, `parent`, `"Epic Link"`,
/// `parentEpic`, `sprint`, `status`. Values are bare words, numbers or quoted strings.
/// Anything else (`OR`, `NOT`, `!=`, `~`, functions, other fields) is a 400, as a real
/// server's parse error would be.
struct JiraJQL: Sendable, Hashable {
  enum Field: String, Sendable, Hashable {
    case project, key, parent, epicLink, parentEpic, sprint, status
  }

  struct Clause: Sendable, Hashable {
    var field: Field
    var values: [String]
  }

  var clauses: [Clause]
  /// Descending key order when true.
  var descending: Bool

  /// Whether the query restricts the result (Cloud refuses unbounded queries on `search/jql`).
  var isBounded: Bool { !clauses.isEmpty }

  struct ParseError: Error, Sendable, Hashable {
    var message: String
  }

  private enum Token: Sendable, Hashable {
    case word(String)
    case quoted(String)
    case symbol(String)
  }

  static func parse(_ text: String) throws(ParseError) -> JiraJQL {
    let tokens = try tokenize(text)
    var query = JiraJQL(clauses: [], descending: false)
    var index = 0

    func peekWord(_ word: String) -> Bool {
      guard index < tokens.count, case .word(let value) = tokens[index] else { return false }
      return value.lowercased() == word
    }

    func value(_ token: Token) throws(ParseError) -> String {
      switch token {
      case .word(let text), .quoted(let text): return text
      case .symbol(let symbol): throw ParseError(message: "Error in the JQL Query: expecting a value but got '\(symbol)'.")
      }
    }

    while index < tokens.count {
      if peekWord("order") {
        index += 1
        guard peekWord("by") else { throw ParseError(message: "Error in the JQL Query: expecting 'BY' after 'ORDER'.") }
        index += 1
        guard index < tokens.count, case .word(let field) = tokens[index] else {
          throw ParseError(message: "Error in the JQL Query: expecting a field name after 'ORDER BY'.")
        }
        guard ["key", "issuekey", "id"].contains(field.lowercased()) else {
          throw ParseError(message: "The sandbox can only order by key, not '\(field)'.")
        }
        index += 1
        if peekWord("desc") {
          query.descending = true
          index += 1
        } else if peekWord("asc") {
          index += 1
        }
        guard index == tokens.count else {
          throw ParseError(message: "Error in the JQL Query: the sandbox supports one ORDER BY field.")
        }
        break
      }

      guard index < tokens.count else { break }
      let fieldName = try value(tokens[index])
      guard let field = Self.field(named: fieldName) else {
        throw ParseError(message: "Field '\(fieldName)' does not exist or you do not have permission to view it.")
      }
      index += 1
      guard index < tokens.count else {
        throw ParseError(message: "Error in the JQL Query: expecting an operator after '\(fieldName)'.")
      }
      var values: [String] = []
      switch tokens[index] {
      case .symbol("="):
        index += 1
        guard index < tokens.count else {
          throw ParseError(message: "Error in the JQL Query: expecting a value after '='.")
        }
        values = [try value(tokens[index])]
        index += 1
      case .word(let word) where word.lowercased() == "in":
        index += 1
        guard index < tokens.count, tokens[index] == .symbol("(") else {
          throw ParseError(message: "Error in the JQL Query: expecting '(' after 'in'.")
        }
        index += 1
        while true {
          guard index < tokens.count else { throw ParseError(message: "Error in the JQL Query: unclosed '('.") }
          values.append(try value(tokens[index]))
          index += 1
          guard index < tokens.count else { throw ParseError(message: "Error in the JQL Query: unclosed '('.") }
          if tokens[index] == .symbol(")") {
            index += 1
            break
          }
          guard tokens[index] == .symbol(",") else {
            throw ParseError(message: "Error in the JQL Query: expecting ',' or ')' in the list.")
          }
          index += 1
        }
      case .word(let word), .symbol(let word):
        throw ParseError(message: "Error in the JQL Query: the operator '\(word)' is not supported by the sandbox.")
      case .quoted(let word):
        throw ParseError(message: "Error in the JQL Query: expecting an operator but got '\(word)'.")
      }
      query.clauses.append(Clause(field: field, values: values))

      guard index < tokens.count else { break }
      if peekWord("and") {
        index += 1
        guard index < tokens.count, !peekWord("order") else {
          throw ParseError(message: "Error in the JQL Query: expecting a clause after 'AND'.")
        }
        continue
      }
      if peekWord("order") { continue }
      if case .word(let word) = tokens[index] {
        throw ParseError(message: "Error in the JQL Query: '\(word)' is not supported by the sandbox (only AND).")
      }
      throw ParseError(message: "Error in the JQL Query: unexpected input after a clause.")
    }
    return query
  }

  private static func field(named name: String) -> Field? {
    switch name.lowercased().replacingOccurrences(of: " ", with: "") {
    case "project": .project
    case "key", "issuekey", "issue": .key
    case "parent": .parent
    case "epiclink": .epicLink
    case "parentepic": .parentEpic
    case "sprint": .sprint
    case "status": .status
    default: nil
    }
  }

  private static func tokenize(_ text: String) throws(ParseError) -> [Token] {
    var tokens: [Token] = []
    var characters = Array(text)[...]
    while let first = characters.first {
      if first.isWhitespace {
        characters.removeFirst()
      } else if "(),=".contains(first) {
        tokens.append(.symbol(String(first)))
        characters.removeFirst()
      } else if "!~<>".contains(first) {
        var symbol = String(first)
        characters.removeFirst()
        if characters.first == "=" || characters.first == "~" {
          symbol.append(characters.removeFirst())
        }
        tokens.append(.symbol(symbol))
      } else if first == "\"" || first == "'" {
        characters.removeFirst()
        var value = ""
        var closed = false
        while let next = characters.first {
          characters.removeFirst()
          if next == "\\", let escaped = characters.first {
            characters.removeFirst()
            value.append(escaped)
          } else if next == first {
            closed = true
            break
          } else {
            value.append(next)
          }
        }
        guard closed else { throw ParseError(message: "Error in the JQL Query: unterminated quoted string.") }
        tokens.append(.quoted(value))
      } else {
        var word = ""
        while let next = characters.first, !next.isWhitespace, !"(),=!~<>\"'".contains(next) {
          word.append(characters.removeFirst())
        }
        tokens.append(.word(word))
      }
    }
    return tokens
  }
}
