/// Describes one named option of a command: its names, how many values it
/// takes, where it falls back to, and how it appears in help.
///
/// The same table drives parsing, usage and `--help`, so the two can't drift.
///
///     OptionSpec(
///       "format", valueName: "format",
///       help: "Output format: summary, json or junit.",
///       defaultValue: "summary", allowedValues: ["summary", "json", "junit"])
///
/// renders in help as
///
///     --format <format>       Output format: summary, json or junit. (default:
///                             summary)
public struct OptionSpec: Sendable {
  /// How many values an option takes.
  public enum Kind: Sendable {
    /// No value: present or absent (`--dry-run`).
    case flag
    /// One value; when given more than once, the last occurrence wins.
    case single
    /// One value per occurrence; every occurrence is kept, in order.
    case repeatable
  }

  /// The long name without dashes: `"format"` for `--format`.
  public var long: String
  /// The short name without the dash: `"o"` for `-o`.
  public var short: Character?
  /// Whether the option is a flag, a single value, or repeatable.
  public var kind: Kind
  /// The placeholder in usage and help: `"FILE"` gives `--output <FILE>`.
  /// When `nil`, the long name is used (`--format <format>`).
  public var valueName: String?
  /// The one-line description shown in help.
  public var help: String
  /// Environment variables read when the option is absent from the command
  /// line; the first one that is set to a non-empty value wins. Named in
  /// help as `(env: NAME)`.
  public var environment: [String]
  /// The value used when neither the command line nor the environment gives
  /// one. Shown in help as `(default: value)`.
  public var defaultValue: String?
  /// When non-`nil`, the only values accepted from the command line or the
  /// environment.
  public var allowedValues: [String]?
  /// For a flag: `--no-<long>` turns it off, whatever its environment says.
  /// The last of `--<long>` and `--no-<long>` wins. Shown as `--[no-]<long>`.
  public var negatable = false

  /// Creates an option.
  ///
  /// - Parameters:
  ///   - long: The long name without dashes.
  ///   - short: The short name without the dash.
  ///   - kind: `.single` (the default), `.repeatable` or `.flag`.
  ///   - valueName: The placeholder shown in usage and help.
  ///   - help: The one-line description.
  ///   - environment: Fallback environment variables, in priority order.
  ///   - defaultValue: The value used when nothing else gives one.
  ///   - allowedValues: The accepted values, if the set is closed.
  public init(
    _ long: String,
    short: Character? = nil,
    kind: Kind = .single,
    valueName: String? = nil,
    help: String,
    environment: [String] = [],
    defaultValue: String? = nil,
    allowedValues: [String]? = nil
  ) {
    self.long = long
    self.short = short
    self.kind = kind
    self.valueName = valueName
    self.help = help
    self.environment = environment
    self.defaultValue = defaultValue
    self.allowedValues = allowedValues
  }

  /// Creates a flag: an option that takes no value.
  ///
  /// - Parameters:
  ///   - long: The long name without dashes.
  ///   - short: The short name without the dash.
  ///   - help: The one-line description.
  ///   - environment: Environment variables that turn the flag on when set to
  ///     a truthy value (anything non-empty except `0`, `false` and `no`).
  ///   - negatable: Also accept `--no-<long>`, which turns the flag off.
  public static func flag(
    _ long: String,
    short: Character? = nil,
    help: String,
    environment: [String] = [],
    negatable: Bool = false
  ) -> OptionSpec {
    var spec = OptionSpec(long, short: short, kind: .flag, help: help, environment: environment)
    spec.negatable = negatable
    return spec
  }
}

extension OptionSpec {
  /// Whether the option consumes a value.
  var takesValue: Bool {
    switch kind {
    case .flag: false
    case .single, .repeatable: true
    }
  }

  /// The placeholder without brackets: `FILE`, or the long name.
  var resolvedValueName: String {
    valueName ?? long
  }

  /// The preferred spelling of the option: `--format`.
  var longName: String {
    "--" + long
  }

  /// The option as spelled by the user followed by its placeholder, as
  /// quoted in error messages: `--output <FILE>`, `-o <FILE>`, `--dry-run`.
  func synopsis(spelledAs name: String) -> String {
    takesValue ? "\(name) <\(resolvedValueName)>" : name
  }

  /// The spelling that turns a negatable flag off: `--no-proceed`.
  var negatedName: String {
    "--no-" + long
  }

  /// The flag's names as usage and help show them: `--[no-]proceed` when
  /// negatable, else `--proceed`.
  var flagNames: String {
    negatable && kind == .flag ? "--[no-]" + long : longName
  }

  /// The entry in the usage line: `[--format <format>]`,
  /// `[--tag <tag> ...]`, `[--dry-run]`, `[--[no-]proceed]`.
  var usageSynopsis: String {
    switch kind {
    case .flag: "[\(flagNames)]"
    case .single: "[\(synopsis(spelledAs: longName))]"
    case .repeatable: "[\(synopsis(spelledAs: longName)) ...]"
    }
  }

  /// The label in the OPTIONS section: `-o, --output <FILE>`.
  var helpLabel: String {
    let names = short.map { "-\($0), \(flagNames)" } ?? flagNames
    return synopsis(spelledAs: names)
  }

  /// The description in the OPTIONS section: the help text followed by the
  /// environment variables and the default value.
  var helpDescription: String {
    var parts: [String] = []
    if !help.isEmpty { parts.append(help) }
    if !environment.isEmpty { parts.append("(env: \(environment.joined(separator: ", ")))") }
    if let defaultValue, !defaultValue.isEmpty { parts.append("(default: \(defaultValue))") }
    return parts.joined(separator: " ")
  }
}
