/// Renders usage lines and `--help` text from the same specs the parser
/// reads, in swift-argument-parser's layout.
///
///     OVERVIEW: <abstract>
///
///     USAGE: testbridge parse [--format <format>] <PATH_OR_GLOB> ...
///
///     ARGUMENTS:
///       <PATH_OR_GLOB>          Report files or globs (** allowed).
///
///     OPTIONS:
///       --format <format>       Output format. (default: summary)
///       -h, --help              Show help information.
///
///     <discussion>
///
/// Text is wrapped at 80 columns with descriptions in a column of their own
/// (hanging indent of 26). The output is deterministic: it never depends on
/// the terminal.
public enum HelpFormatter {
  /// The width help text is wrapped to.
  static let screenWidth = 80
  /// The indent of labels in the ARGUMENTS, OPTIONS and SUBCOMMANDS sections.
  static let labelIndent = 2
  /// The column descriptions start in.
  static let descriptionColumn = 26

  /// The built-in `-h, --help` entry, listed last in every OPTIONS section.
  static let helpEntry = (label: "-h, --help", description: "Show help information.")

  /// The full `--help` text of a subcommand, ending with a newline.
  ///
  /// - Parameters:
  ///   - spec: The subcommand.
  ///   - executable: The program name shown in the usage line.
  public static func help(for spec: CommandSpec, executable: String = "testbridge") -> String {
    var sections: [String] = []
    if !spec.abstract.isEmpty {
      sections.append(overview(spec.abstract))
    }
    sections.append(usage(for: spec, executable: executable))
    if !spec.positionals.isEmpty {
      sections.append(
        section("ARGUMENTS", entries: spec.positionals.map { ($0.label, $0.help) })
      )
    }
    sections.append(section("OPTIONS", entries: spec.options.map { ($0.helpLabel, $0.helpDescription) } + [helpEntry]))
    if let discussion = spec.discussion, !discussion.isEmpty {
      sections.append(discussionText(discussion))
    }
    return sections.joined(separator: "\n\n") + "\n"
  }

  /// The usage line of a subcommand, starting with `USAGE: ` and without a
  /// final newline. It is wrapped at 80 columns, continuation lines aligned
  /// after the command name, and never breaks inside one element.
  ///
  ///     USAGE: testbridge run [--dry-run] [--tag <tag> ...] -- COMMAND [ARGS...]
  ///
  /// - Parameters:
  ///   - spec: The subcommand.
  ///   - executable: The program name shown in the usage line.
  public static func usage(for spec: CommandSpec, executable: String = "testbridge") -> String {
    var elements = spec.options.map(\.usageSynopsis) + spec.positionals.map(\.usageSynopsis)
    if let trailingCommand = spec.trailingCommand {
      elements.append("-- \(trailingCommand)")
    }
    let head = (["USAGE:", executable, spec.name].filter { !$0.isEmpty }).joined(separator: " ")
    return usageLines(head: head, elements: elements)
  }

  /// The `--help` text of the executable itself: its abstract, a usage line,
  /// its own options, and every subcommand with its abstract. Ends with a
  /// newline.
  ///
  /// - Parameters:
  ///   - executable: The program name.
  ///   - abstract: The one-line summary of the program.
  ///   - commands: The subcommands, in the order to list them.
  ///   - discussion: Paragraphs shown after the subcommands.
  ///   - options: Options of the executable itself, such as `--version`,
  ///     listed before `-h, --help`.
  public static func rootHelp(
    executable: String,
    abstract: String,
    commands: [CommandSpec],
    discussion: String?,
    options: [OptionSpec] = []
  ) -> String {
    var sections: [String] = []
    if !abstract.isEmpty {
      sections.append(overview(abstract))
    }
    sections.append(
      usageLines(head: "USAGE: \(executable)", elements: options.map(\.usageSynopsis) + ["<subcommand>"])
    )
    sections.append(section("OPTIONS", entries: options.map { ($0.helpLabel, $0.helpDescription) } + [helpEntry]))
    if !commands.isEmpty {
      sections.append(
        section("SUBCOMMANDS", entries: commands.map { ($0.name, $0.abstract) })
          + "\n\n"
          + TextWrapping.wrap(
            "See '\(executable) <subcommand> --help' for detailed help.",
            width: screenWidth,
            prefix: String(repeating: " ", count: labelIndent),
            indent: labelIndent
          ).joined(separator: "\n")
      )
    }
    if let discussion, !discussion.isEmpty {
      sections.append(discussionText(discussion))
    }
    return sections.joined(separator: "\n\n") + "\n"
  }

  // MARK: Pieces

  static func overview(_ abstract: String) -> String {
    TextWrapping.wrap("OVERVIEW: \(abstract)", width: screenWidth, indent: 0).joined(separator: "\n")
  }

  static func discussionText(_ discussion: String) -> String {
    TextWrapping.wrapPreservingIndentation(discussion, width: screenWidth).joined(separator: "\n")
  }

  /// A titled list of labels with their descriptions in a second column. A
  /// label too wide for the first column gets a line of its own.
  static func section(_ title: String, entries: [(label: String, description: String)]) -> String {
    var lines = ["\(title):"]
    let descriptionIndent = String(repeating: " ", count: descriptionColumn)
    for entry in entries {
      let label = String(repeating: " ", count: labelIndent) + entry.label
      if entry.description.isEmpty {
        lines.append(label)
      } else if label.count < descriptionColumn {
        let prefix = label + String(repeating: " ", count: descriptionColumn - label.count)
        lines += TextWrapping.wrap(entry.description, width: screenWidth, prefix: prefix, indent: descriptionColumn)
      } else {
        lines.append(label)
        lines += TextWrapping.wrap(
          entry.description,
          width: screenWidth,
          prefix: descriptionIndent,
          indent: descriptionColumn
        )
      }
    }
    return lines.joined(separator: "\n")
  }

  /// Lays out usage elements after `head`, breaking between elements at 80
  /// columns. Continuation lines line up with the first element, or use a
  /// fixed indent when the head is too long for that to leave room.
  static func usageLines(head: String, elements: [String]) -> String {
    let alignment = head.count + 1
    let indent = alignment <= screenWidth / 2 ? alignment : 8
    let padding = String(repeating: " ", count: indent)
    var lines: [String] = []
    var line = head
    var lineHasElement = false
    for element in elements {
      if lineHasElement, line.count + 1 + element.count > screenWidth {
        lines.append(line)
        line = padding + element
      } else {
        line += " " + element
      }
      lineHasElement = true
    }
    lines.append(line)
    return lines.joined(separator: "\n")
  }
}
