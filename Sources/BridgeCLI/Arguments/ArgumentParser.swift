/// Parses a subcommand's arguments against its `CommandSpec`.
///
/// The behaviour follows swift-argument-parser:
///
/// - `--name value` and `--name=value`; `-o value`, and short flags combined
///   as `-vq`. A short option that takes a value may end such a group
///   (`-vo FILE`) or carry its value attached (`-oFILE`).
/// - An option that takes a value takes the next argument even when it starts
///   with `-` (`--grep -x`); only `--` itself is never a value.
/// - `--` ends the options. What follows is the trailing command when the
///   spec has one, and more positionals otherwise.
/// - `--help` or `-h` anywhere before `--` sets `helpRequested` and
///   suppresses every error.
/// - A single-value option given twice keeps the last value.
/// - A negatable flag is also spelled `--no-<name>`, which turns it off; the
///   last of the two spellings wins over the environment.
/// - An option absent from the command line falls back to the first of its
///   environment variables that is set to a non-empty value.
public enum ArgumentParser {
  /// Parses `arguments` (the words after the subcommand name).
  ///
  /// - Parameters:
  ///   - arguments: The command-line words, without the executable and
  ///     subcommand names.
  ///   - spec: The command's options and positionals.
  ///   - environment: The process environment, read once by the caller.
  /// - Returns: The parsed arguments; check `helpRequested` first.
  /// - Throws: The first `UsageError` found, reading left to right, unless
  ///   help was requested.
  public static func parse(
    _ arguments: [String],
    spec: CommandSpec,
    environment: [String: String]
  ) throws(UsageError) -> ParsedArguments {
    var state = ParseState(spec: spec)
    state.scan(arguments)
    if !state.helpRequested {
      state.resolveEnvironment(environment)
      state.matchPositionals()
    }
    if let error = state.firstError, !state.helpRequested {
      throw error
    }
    return ParsedArguments(
      positionals: state.positionals,
      trailing: state.trailing,
      helpRequested: state.helpRequested,
      resolutions: state.resolutions,
      positionalCounts: state.positionalCounts
    )
  }
}

/// The working state of one parse. Errors are recorded rather than thrown so
/// that a later `--help` still wins over an earlier mistake.
private struct ParseState {
  let spec: CommandSpec
  var resolutions: [String: ParsedArguments.Resolution] = [:]
  var positionals: [String] = []
  var positionalCounts: [(name: String, count: Int)] = []
  var trailing: [String] = []
  var helpRequested = false
  var firstError: UsageError?

  init(spec: CommandSpec) {
    self.spec = spec
    for option in spec.options where resolutions[option.long] == nil {
      resolutions[option.long] = ParsedArguments.Resolution(spec: option)
    }
  }

  mutating func fail(_ message: String) {
    if firstError == nil {
      firstError = UsageError(message: message, commandName: spec.name)
    }
  }

  // MARK: Command line

  mutating func scan(_ arguments: [String]) {
    var index = arguments.startIndex
    while index < arguments.endIndex {
      let argument = arguments[index]
      index += 1
      if argument == "--" {
        let rest = arguments[index...]
        if spec.trailingCommand != nil {
          trailing = Array(rest)
        } else {
          positionals.append(contentsOf: rest)
        }
        return
      } else if argument.hasPrefix("--") {
        scanLong(argument.dropFirst(2), arguments: arguments, index: &index)
      } else if argument.hasPrefix("-"), argument.count > 1 {
        scanShort(argument.dropFirst(), arguments: arguments, index: &index)
      } else {
        positionals.append(argument)
      }
    }
  }

  /// Handles `--name` and `--name=value`; `body` is the text after `--`.
  mutating func scanLong(_ body: Substring, arguments: [String], index: inout Int) {
    let name: Substring
    let attached: String?
    if let equals = body.firstIndex(of: "=") {
      name = body[..<equals]
      attached = String(body[body.index(after: equals)...])
    } else {
      name = body
      attached = nil
    }
    let spelling = "--" + name
    if name == "help" {
      helpRequested = true
      return
    }
    if spec.option(long: name) == nil, name.hasPrefix("no-"),
      let option = spec.option(long: name.dropFirst(3)), option.kind == .flag, option.negatable
    {
      if attached != nil {
        fail("The flag '\(spelling)' does not take a value")
      } else {
        record(ParsedArguments.negatedFlag, for: option)
      }
      return
    }
    guard let option = spec.option(long: name) else {
      let known =
        spec.options.flatMap { $0.negatable && $0.kind == .flag ? [$0.longName, $0.negatedName] : [$0.longName] }
        + ["--help"]
      if let suggestion = Suggestions.closest(to: spelling, among: known) {
        fail("Unknown option '\(spelling)'. Did you mean '\(suggestion)'?")
      } else {
        fail("Unknown option '\(spelling)'")
      }
      return
    }
    guard option.takesValue else {
      if attached != nil {
        fail("The flag '\(spelling)' does not take a value")
      } else {
        record("", for: option)
      }
      return
    }
    if let attached {
      accept(attached, for: option, spelledAs: spelling)
    } else {
      takeNext(for: option, spelledAs: spelling, arguments: arguments, index: &index)
    }
  }

  /// Handles `-v`, `-vq`, `-o value` and `-ovalue`; `body` is the text
  /// after `-`.
  mutating func scanShort(_ body: Substring, arguments: [String], index: inout Int) {
    var rest = body
    while let character = rest.popFirst() {
      let spelling = "-\(character)"
      if character == "h" {
        helpRequested = true
        continue
      }
      guard let option = spec.option(short: character) else {
        fail("Unknown option '\(spelling)'")
        continue
      }
      guard option.takesValue else {
        record("", for: option)
        continue
      }
      if rest.isEmpty {
        takeNext(for: option, spelledAs: spelling, arguments: arguments, index: &index)
      } else {
        accept(String(rest), for: option, spelledAs: spelling)
      }
      return
    }
  }

  /// Takes the next argument as the value of `option`, unless there is none
  /// or it is `--`.
  mutating func takeNext(
    for option: OptionSpec,
    spelledAs spelling: String,
    arguments: [String],
    index: inout Int
  ) {
    guard index < arguments.endIndex, arguments[index] != "--" else {
      fail("Missing value for '\(option.synopsis(spelledAs: spelling))'")
      return
    }
    accept(arguments[index], for: option, spelledAs: spelling)
    index += 1
  }

  mutating func accept(_ value: String, for option: OptionSpec, spelledAs spelling: String) {
    if let problem = Self.invalidValue(value, for: option) {
      fail("The value '\(value)' is invalid for '\(option.synopsis(spelledAs: spelling))': \(problem)")
      return
    }
    record(value, for: option)
  }

  mutating func record(_ value: String, for option: OptionSpec) {
    resolutions[option.long, default: ParsedArguments.Resolution(spec: option)].given.append(value)
  }

  /// Why `value` is not acceptable for `option`, or `nil` when it is.
  static func invalidValue(_ value: String, for option: OptionSpec) -> String? {
    guard let allowed = option.allowedValues, !allowed.contains(value) else { return nil }
    return "expected one of \(allowed.joined(separator: ", "))"
  }

  // MARK: Environment

  /// Records the environment fallback of every option not given on the
  /// command line, validating it like a command-line value.
  mutating func resolveEnvironment(_ environment: [String: String]) {
    for option in spec.options {
      guard var resolution = resolutions[option.long], resolution.given.isEmpty else { continue }
      let found = option.environment.lazy
        .compactMap { name in environment[name].map { (name: name, value: $0) } }
        .first { !$0.value.isEmpty }
      guard let found else { continue }
      if option.takesValue, let problem = Self.invalidValue(found.value, for: option) {
        fail(
          "The value '\(found.value)' of environment variable '\(found.name)' is invalid for "
            + "'\(option.synopsis(spelledAs: option.longName))': \(problem)"
        )
        continue
      }
      resolution.environment = ParsedArguments.EnvironmentValue(name: found.name, value: found.value)
      resolutions[option.long] = resolution
    }
  }

  // MARK: Positionals

  /// Matches the collected positional words to the spec, in order. Each
  /// positional takes one word; a repeating one takes as many as it can
  /// while leaving one for every later required positional; an optional one
  /// takes a word only when that still leaves enough for the required ones.
  mutating func matchPositionals() {
    var remaining = positionals.count
    for (offset, positional) in spec.positionals.enumerated() {
      let requiredAfter = spec.positionals[(offset + 1)...].count { !$0.optional }
      let available = max(0, remaining - requiredAfter)
      let taken: Int
      if positional.repeating {
        // A required repeating positional takes its first word before later
        // positionals are served, so a short list reports the later one.
        taken = positional.optional ? available : max(min(1, remaining), available)
      } else if positional.optional {
        taken = min(1, available)
      } else {
        taken = min(1, remaining)
      }
      if taken == 0, !positional.optional {
        fail("Missing expected argument '\(positional.label)'")
      }
      positionalCounts.append((name: positional.name, count: taken))
      remaining -= taken
    }
    guard remaining > 0 else { return }
    let extra = positionals.suffix(remaining)
    if let only = extra.first, extra.count == 1 {
      fail("Unexpected argument '\(only)'")
    } else {
      fail("\(extra.count) unexpected arguments: '\(extra.joined(separator: "', '"))'")
    }
  }
}
