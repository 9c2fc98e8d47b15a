/// An ordered list of HTTP header fields with case-insensitive lookup.
///
/// Field order and the original spelling of names are kept, so a request can
/// be inspected exactly as it arrived; lookups ignore ASCII case.
public struct HTTPHeaders: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
  /// One header field: its name as sent and its value with surrounding whitespace removed.
  public struct Field: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
      self.name = name
      self.value = value
    }
  }

  /// The fields in the order they were added.
  public private(set) var fields: [Field]

  /// Creates headers from fields, in order.
  public init(_ fields: [Field] = []) {
    self.fields = fields
  }

  /// Creates headers from `(name, value)` pairs, in order.
  public init(_ pairs: [(String, String)]) {
    self.fields = pairs.map { Field(name: $0.0, value: $0.1) }
  }

  public init(dictionaryLiteral elements: (String, String)...) {
    self.init(elements)
  }

  /// The number of fields.
  public var count: Int { fields.count }

  /// Whether there are no fields.
  public var isEmpty: Bool { fields.isEmpty }

  /// The first value for `name` (case-insensitive), or nil; setting replaces every field with that name.
  public subscript(name: String) -> String? {
    get { fields.first { Self.sameName($0.name, name) }?.value }
    set {
      if let newValue {
        replaceOrAdd(name: name, value: newValue)
      } else {
        remove(name: name)
      }
    }
  }

  /// Every value for `name` (case-insensitive), in order.
  public func values(for name: String) -> [String] {
    fields.filter { Self.sameName($0.name, name) }.map(\.value)
  }

  /// Whether a field named `name` exists (case-insensitive).
  public func contains(_ name: String) -> Bool {
    fields.contains { Self.sameName($0.name, name) }
  }

  /// Appends a field, keeping any existing fields with the same name.
  public mutating func add(name: String, value: String) {
    fields.append(Field(name: name, value: value))
  }

  /// Replaces every field named `name` with one field, or appends it.
  public mutating func replaceOrAdd(name: String, value: String) {
    if let index = fields.firstIndex(where: { Self.sameName($0.name, name) }) {
      fields[index] = Field(name: name, value: value)
      var next = fields.index(after: index)
      while next < fields.endIndex {
        if Self.sameName(fields[next].name, name) {
          fields.remove(at: next)
        } else {
          next = fields.index(after: next)
        }
      }
    } else {
      add(name: name, value: value)
    }
  }

  /// Removes every field named `name` (case-insensitive).
  public mutating func remove(name: String) {
    fields.removeAll { Self.sameName($0.name, name) }
  }

  /// Whether the comma-separated list in `name` contains `token` (both case-insensitive),
  /// as in `Connection: keep-alive, Upgrade`.
  public func containsToken(_ token: String, in name: String) -> Bool {
    values(for: name).contains { value in
      value.split(separator: ",").contains {
        Self.sameName($0.trimmingASCIIWhitespace(), token)
      }
    }
  }

  public func makeIterator() -> IndexingIterator<[Field]> {
    fields.makeIterator()
  }

  /// Compares two header names the way HTTP does: ASCII case-insensitively.
  static func sameName(_ lhs: some StringProtocol, _ rhs: some StringProtocol) -> Bool {
    let left = lhs.utf8
    let right = rhs.utf8
    guard left.count == right.count else { return false }
    return zip(left, right).allSatisfy { asciiLower($0) == asciiLower($1) }
  }
}

@inline(__always)
func asciiLower(_ byte: UInt8) -> UInt8 {
  (byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte
}

extension StringProtocol {
  /// The text without leading and trailing spaces and horizontal tabs (HTTP's OWS).
  func trimmingASCIIWhitespace() -> String {
    var scalars = Substring(self).unicodeScalars[...]
    while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
    while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
    return String(scalars)
  }
}
