/// Describes one positional argument of a command.
public struct PositionalSpec: Sendable {
  /// The placeholder without brackets: `"PATH_OR_GLOB"` shows as
  /// `<PATH_OR_GLOB>`.
  public var name: String
  /// The one-line description shown in the ARGUMENTS section.
  public var help: String
  /// Whether the argument takes every remaining value (`<PATH> ...`).
  public var repeating: Bool
  /// Whether the argument may be left out (`[<PATH>]`). A repeating argument
  /// that is not optional needs at least one value.
  public var optional: Bool

  /// Creates a positional argument.
  ///
  /// - Parameters:
  ///   - name: The placeholder without brackets.
  ///   - help: The one-line description.
  ///   - repeating: Whether it takes every remaining value.
  ///   - optional: Whether it may be left out.
  public init(_ name: String, help: String, repeating: Bool = false, optional: Bool = false) {
    self.name = name
    self.help = help
    self.repeating = repeating
    self.optional = optional
  }
}

extension PositionalSpec {
  /// The argument as quoted in error messages and help labels: `<NAME>`.
  var label: String {
    "<\(name)>"
  }

  /// The entry in the usage line: `<NAME>`, `<NAME> ...`, `[<NAME>]`,
  /// `[<NAME> ...]`.
  var usageSynopsis: String {
    let base = repeating ? "\(label) ..." : label
    return optional ? "[\(base)]" : base
  }
}
