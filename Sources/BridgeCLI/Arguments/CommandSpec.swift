/// Describes one subcommand: the table its parser, usage line and `--help`
/// text are all generated from.
public struct CommandSpec: Sendable {
  /// The subcommand name: `"parse"`.
  public var name: String
  /// One line, shown after `OVERVIEW:` and in the root command's list.
  public var abstract: String
  /// Paragraphs shown after the options in `--help`.
  public var discussion: String?
  /// The named options, in the order help lists them.
  public var options: [OptionSpec]
  /// The positional arguments, in the order they are matched.
  public var positionals: [PositionalSpec]
  /// When non-`nil`, everything after `--` is a command to run rather than
  /// positionals, and this text (`"COMMAND [ARGS...]"`) ends the usage line.
  public var trailingCommand: String?

  /// Creates a command description.
  ///
  /// - Parameters:
  ///   - name: The subcommand name.
  ///   - abstract: The one-line summary.
  ///   - discussion: Paragraphs shown after the options.
  ///   - options: The named options, in help order.
  ///   - positionals: The positional arguments, in match order.
  ///   - trailingCommand: The usage text for a command after `--`, if the
  ///     command takes one.
  public init(
    name: String,
    abstract: String,
    discussion: String? = nil,
    options: [OptionSpec] = [],
    positionals: [PositionalSpec] = [],
    trailingCommand: String? = nil
  ) {
    self.name = name
    self.abstract = abstract
    self.discussion = discussion
    self.options = options
    self.positionals = positionals
    self.trailingCommand = trailingCommand
  }
}

extension CommandSpec {
  /// The option with the given long name, if any.
  func option(long: some StringProtocol) -> OptionSpec? {
    options.first { $0.long == long }
  }

  /// The option with the given short name, if any.
  func option(short: Character) -> OptionSpec? {
    options.first { $0.short == short }
  }
}
