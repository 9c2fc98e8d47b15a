/// Where an option's effective value came from.
public enum ValueSource: Sendable, Equatable {
  /// Given on the command line.
  case flag
  /// Read from the named environment variable.
  case environment(String)
  /// The option's `defaultValue`.
  case defaultValue
  /// Not given anywhere, and no default.
  case absent
}

/// The result of parsing one command line against a `CommandSpec`.
///
/// Lookups resolve each option with the precedence command line >
/// environment > default. Asking about a long name the spec does not
/// declare answers as if the option were absent.
public struct ParsedArguments: Sendable {
  /// The values matched to the spec's positionals, in command-line order.
  public var positionals: [String]
  /// The command after `--`, when the spec has a `trailingCommand`.
  /// Otherwise arguments after `--` are positionals and this is empty.
  public var trailing: [String]
  /// `--help` or `-h` appeared before `--`. The caller prints help and exits
  /// 0; nothing else in this value is validated when it is set.
  public var helpRequested: Bool

  /// Everything known about each declared option, by long name.
  let resolutions: [String: Resolution]
  /// How many values each positional took, in spec order.
  let positionalCounts: [(name: String, count: Int)]

  init(
    positionals: [String],
    trailing: [String],
    helpRequested: Bool,
    resolutions: [String: Resolution],
    positionalCounts: [(name: String, count: Int)]
  ) {
    self.positionals = positionals
    self.trailing = trailing
    self.helpRequested = helpRequested
    self.resolutions = resolutions
    self.positionalCounts = positionalCounts
  }

  /// Whether the flag was given, or else whether its environment variable is
  /// set to a truthy value (non-empty and not `0`, `false` or `no`, ignoring
  /// case).
  /// For a negatable flag, the last of `--name` and `--no-name` wins over the
  /// environment.
  public func flag(_ long: String) -> Bool {
    flagSetting(long) ?? false
  }

  /// The flag's state when the command line or the environment set it (on or
  /// off), or `nil` when neither did, for flags whose default is on.
  public func flagSetting(_ long: String) -> Bool? {
    guard let resolution = resolutions[long] else { return nil }
    if let last = resolution.given.last { return last != Self.negatedFlag }
    if let environment = resolution.environment {
      return Self.isTruthy(environment.value)
    }
    return nil
  }

  /// What a `--no-<name>` occurrence records for a negatable flag (a plain
  /// occurrence records the empty string).
  static let negatedFlag = "no"

  /// The option's value: its last occurrence on the command line; else the
  /// first of its environment variables set to a non-empty value; else its
  /// default; else `nil`.
  public func value(_ long: String) -> String? {
    guard let resolution = resolutions[long] else { return nil }
    if let last = resolution.given.last { return last }
    if let environment = resolution.environment { return environment.value }
    return resolution.spec.defaultValue
  }

  /// Every occurrence of the option on the command line, in order. When
  /// there is none, the environment value (kept whole, not split) or the
  /// default as a single element; else empty.
  public func values(_ long: String) -> [String] {
    guard let resolution = resolutions[long] else { return [] }
    if !resolution.given.isEmpty { return resolution.given }
    if let environment = resolution.environment { return [environment.value] }
    return resolution.spec.defaultValue.map { [$0] } ?? []
  }

  /// Where `value(_:)`, `values(_:)` or `flag(_:)` got its answer.
  public func source(_ long: String) -> ValueSource {
    guard let resolution = resolutions[long] else { return .absent }
    if !resolution.given.isEmpty { return .flag }
    if let environment = resolution.environment { return .environment(environment.name) }
    if resolution.spec.takesValue, resolution.spec.defaultValue != nil { return .defaultValue }
    return .absent
  }

  /// The values the named positional took: none or one, or any number for a
  /// repeating positional. Empty for an unknown name.
  public func positional(_ name: String) -> [String] {
    var offset = 0
    for entry in positionalCounts {
      if entry.name == name {
        let end = min(offset + entry.count, positionals.count)
        return Array(positionals[min(offset, end)..<end])
      }
      offset += entry.count
    }
    return []
  }

  /// The environment values that turn a flag off: anything else non-empty
  /// turns it on.
  static let falsyValues: Set<String> = ["0", "false", "no"]

  static func isTruthy(_ value: String) -> Bool {
    !value.isEmpty && !falsyValues.contains(value.lowercased())
  }
}

extension ParsedArguments {
  /// An environment variable that supplied a value.
  struct EnvironmentValue: Sendable, Equatable {
    var name: String
    var value: String
  }

  /// One declared option with what the command line and environment said.
  struct Resolution: Sendable {
    var spec: OptionSpec
    /// Values from the command line, in order; one empty string per
    /// occurrence for a flag.
    var given: [String] = []
    /// The first of the option's environment variables set to a non-empty
    /// value.
    var environment: EnvironmentValue?
  }
}
