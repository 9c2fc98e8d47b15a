import BridgeCLI
import Testing

/// Command specs shared by the parser and help tests.
enum SampleSpecs {
  static let format = OptionSpec(
    "format",
    help: "Output format: summary, json or junit.",
    environment: ["TESTBRIDGE_FORMAT"],
    defaultValue: "summary",
    allowedValues: ["summary", "json", "junit"]
  )

  /// A command exercising every option kind, positional matching and
  /// environment fallbacks.
  static let report = CommandSpec(
    name: "report",
    abstract: "Report results.",
    options: [
      format,
      OptionSpec("output", short: "o", valueName: "FILE", help: "Write the output to FILE."),
      OptionSpec("grep", valueName: "PATTERN", help: "Only tests matching PATTERN."),
      OptionSpec("tag", kind: .repeatable, help: "Tag the run.", environment: ["TESTBRIDGE_TAGS"]),
      .flag("dry-run", short: "n", help: "Do not send anything.", environment: ["TESTBRIDGE_DRY_RUN"]),
      .flag("verbose", short: "v", help: "Print more."),
      OptionSpec(
        "url",
        help: "Server URL.",
        environment: ["TESTOMATIO_URL", "TESTBRIDGE_URL"],
        defaultValue: "https://app.testomat.io"
      ),
    ],
    positionals: [PositionalSpec("PATH_OR_GLOB", help: "Report files or globs.", repeating: true)]
  )

  /// A command that runs another command given after `--`.
  static let run = CommandSpec(
    name: "run",
    abstract: "Run a test command and report its results.",
    options: [
      .flag("dry-run", help: "Do not send anything."),
      OptionSpec("junit", kind: .repeatable, valueName: "PATH", help: "JUnit report to read afterwards."),
    ],
    positionals: [PositionalSpec("LABEL", help: "A label.", optional: true)],
    trailingCommand: "COMMAND [ARGS...]"
  )

  /// Fixed positionals around a repeating one, and an optional one.
  static let copy = CommandSpec(
    name: "copy",
    abstract: "Copy files.",
    positionals: [
      PositionalSpec("MODE", help: "Mode."),
      PositionalSpec("SOURCE", help: "Sources.", repeating: true),
      PositionalSpec("DEST", help: "Destination."),
      PositionalSpec("NOTE", help: "Note.", optional: true),
    ]
  )

  /// Exactly one positional.
  static let single = CommandSpec(
    name: "show",
    abstract: "Show one thing.",
    positionals: [PositionalSpec("ID", help: "The thing.")]
  )
}

@Suite struct ArgumentParserTests {
  typealias Environment = [String: String]

  func parse(_ arguments: [String], _ spec: CommandSpec = SampleSpecs.report, environment: Environment = [:]) throws
    -> ParsedArguments
  {
    try ArgumentParser.parse(arguments, spec: spec, environment: environment)
  }

  func usageError(
    _ arguments: [String],
    _ spec: CommandSpec = SampleSpecs.report,
    environment: Environment = [:]
  ) -> UsageError? {
    do {
      _ = try ArgumentParser.parse(arguments, spec: spec, environment: environment)
      return nil
    } catch {
      return error
    }
  }

  // MARK: Errors

  static let errorCases: [(arguments: [String], message: String)] = [
    (["--frmat", "json", "a.xml"], "Unknown option '--frmat'. Did you mean '--format'?"),
    (["--formatt=json", "a.xml"], "Unknown option '--formatt'. Did you mean '--format'?"),
    (["--dryrun", "a.xml"], "Unknown option '--dryrun'. Did you mean '--dry-run'?"),
    (["--hepl", "a.xml"], "Unknown option '--hepl'. Did you mean '--help'?"),
    (["--fmt", "json", "a.xml"], "Unknown option '--fmt'"),
    (["--unknown", "a.xml"], "Unknown option '--unknown'"),
    (["-x", "a.xml"], "Unknown option '-x'"),
    (["-vx", "a.xml"], "Unknown option '-x'"),
    (["a.xml", "--output"], "Missing value for '--output <FILE>'"),
    (["a.xml", "-o"], "Missing value for '-o <FILE>'"),
    (["a.xml", "-vo"], "Missing value for '-o <FILE>'"),
    (["a.xml", "--format"], "Missing value for '--format <format>'"),
    (["--output", "--", "a.xml"], "Missing value for '--output <FILE>'"),
    ([], "Missing expected argument '<PATH_OR_GLOB>'"),
    (["--verbose"], "Missing expected argument '<PATH_OR_GLOB>'"),
    (
      ["--format", "xml", "a.xml"],
      "The value 'xml' is invalid for '--format <format>': expected one of summary, json, junit"
    ),
    (
      ["--format=xml", "a.xml"],
      "The value 'xml' is invalid for '--format <format>': expected one of summary, json, junit"
    ),
    (
      ["--format=", "a.xml"],
      "The value '' is invalid for '--format <format>': expected one of summary, json, junit"
    ),
    (["--dry-run=yes", "a.xml"], "The flag '--dry-run' does not take a value"),
    (["--verbose=", "a.xml"], "The flag '--verbose' does not take a value"),
    // The first problem, reading left to right, is the one reported.
    (["--frmat", "--output"], "Unknown option '--frmat'. Did you mean '--format'?"),
    (["--output", "--format"], "Missing expected argument '<PATH_OR_GLOB>'"),
  ]

  @Test(arguments: errorCases)
  func reportsUsageErrorsInArgumentParserWording(arguments: [String], message: String) {
    #expect(usageError(arguments) == UsageError(message: message, commandName: "report"))
  }

  static let positionalErrorCases: [(spec: String, arguments: [String], message: String)] = [
    ("show", ["a", "b"], "Unexpected argument 'b'"),
    ("show", ["a", "b", "c"], "2 unexpected arguments: 'b', 'c'"),
    ("show", [], "Missing expected argument '<ID>'"),
    ("show", ["--", "-a", "-b"], "Unexpected argument '-b'"),
    ("copy", ["m", "s"], "Missing expected argument '<DEST>'"),
    ("copy", ["m"], "Missing expected argument '<SOURCE>'"),
    ("copy", [], "Missing expected argument '<MODE>'"),
    ("run", ["a", "b"], "Unexpected argument 'b'"),
  ]

  @Test(arguments: positionalErrorCases)
  func reportsMissingAndUnexpectedPositionals(spec: String, arguments: [String], message: String) throws {
    let spec = try #require([SampleSpecs.single, SampleSpecs.copy, SampleSpecs.run].first { $0.name == spec })
    #expect(usageError(arguments, spec) == UsageError(message: message, commandName: spec.name))
  }

  @Test func validatesEnvironmentValuesAgainstAllowedValues() {
    let error = usageError(["a.xml"], environment: ["TESTBRIDGE_FORMAT": "xml"])
    #expect(
      error?.message
        == "The value 'xml' of environment variable 'TESTBRIDGE_FORMAT' is invalid for '--format <format>': "
        + "expected one of summary, json, junit"
    )
  }

  @Test func ignoresAnInvalidEnvironmentValueWhenTheOptionIsGiven() throws {
    let parsed = try parse(["--format", "json", "a.xml"], environment: ["TESTBRIDGE_FORMAT": "xml"])
    #expect(parsed.value("format") == "json")
  }

  @Test func usageErrorDescribesItselfWithItsMessage() {
    let error = UsageError(message: "Unexpected argument 'x'", commandName: "parse")
    #expect(error.description == "Unexpected argument 'x'")
    #expect(String(describing: error) == "Unexpected argument 'x'")
  }

  // MARK: Option values

  static let valueCases: [(arguments: [String], option: String, value: String?)] = [
    (["--format", "json", "a"], "format", "json"),
    (["--format=json", "a"], "format", "json"),
    (["a", "--format", "junit"], "format", "junit"),
    (["--format", "json", "--format=junit", "a"], "format", "junit"),
    (["--output", "out.txt", "a"], "output", "out.txt"),
    (["-o", "out.txt", "a"], "output", "out.txt"),
    (["-oout.txt", "a"], "output", "out.txt"),
    (["-vo", "out.txt", "a"], "output", "out.txt"),
    (["--output=a=b", "a"], "output", "a=b"),
    (["--output=", "a"], "output", ""),
    (["--output", "", "a"], "output", ""),
    (["--grep", "-x", "a"], "grep", "-x"),
    (["--grep=-x", "a"], "grep", "-x"),
    (["--grep", "--verbose", "a"], "grep", "--verbose"),
    (["--grep", "-", "a"], "grep", "-"),
    (["a"], "grep", nil),
    (["a"], "format", "summary"),
    (["a"], "not-declared", nil),
  ]

  @Test(arguments: valueCases)
  func readsOptionValues(arguments: [String], option: String, value: String?) throws {
    #expect(try parse(arguments).value(option) == value)
  }

  @Test func keepsEveryOccurrenceOfARepeatableOptionInOrder() throws {
    let parsed = try parse(["--tag", "b", "a.xml", "--tag=a", "--tag", "c,d"])
    #expect(parsed.values("tag") == ["b", "a", "c,d"])
    #expect(parsed.value("tag") == "c,d")
    #expect(parsed.positionals == ["a.xml"])
  }

  @Test func singleOptionValuesListsEveryOccurrence() throws {
    let parsed = try parse(["--grep", "x", "--grep", "y", "a"])
    #expect(parsed.values("grep") == ["x", "y"])
    #expect(parsed.value("grep") == "y")
  }

  static let flagCases: [(arguments: [String], dryRun: Bool, verbose: Bool)] = [
    (["a"], false, false),
    (["--dry-run", "a"], true, false),
    (["-n", "a"], true, false),
    (["-v", "a"], false, true),
    (["-vn", "a"], true, true),
    (["-nv", "a", "-n"], true, true),
    (["a", "--verbose"], false, true),
  ]

  @Test(arguments: flagCases)
  func readsFlags(arguments: [String], dryRun: Bool, verbose: Bool) throws {
    let parsed = try parse(arguments)
    #expect(parsed.flag("dry-run") == dryRun)
    #expect(parsed.flag("verbose") == verbose)
    #expect(parsed.positionals == ["a"])
  }

  @Test func answersUndeclaredOptionsAsAbsent() throws {
    let parsed = try parse(["a"])
    #expect(parsed.flag("nope") == false)
    #expect(parsed.values("nope") == [])
    #expect(parsed.source("nope") == .absent)
  }

  // MARK: Environment and precedence

  static let precedenceCases: [(arguments: [String], environment: [String: String], value: String?, source: ValueSource)] = [
    (["--format", "json", "a"], ["TESTBRIDGE_FORMAT": "junit"], "json", .flag),
    (["a"], ["TESTBRIDGE_FORMAT": "junit"], "junit", .environment("TESTBRIDGE_FORMAT")),
    (["a"], ["TESTBRIDGE_FORMAT": ""], "summary", .defaultValue),
    (["a"], [:], "summary", .defaultValue),
  ]

  @Test(arguments: precedenceCases)
  func prefersFlagThenEnvironmentThenDefault(
    arguments: [String],
    environment: [String: String],
    value: String?,
    source: ValueSource
  ) throws {
    let parsed = try parse(arguments, environment: environment)
    #expect(parsed.value("format") == value)
    #expect(parsed.source("format") == source)
  }

  static let environmentOrderCases: [(environment: [String: String], value: String, source: ValueSource)] = [
    (["TESTOMATIO_URL": "http://a", "TESTBRIDGE_URL": "http://b"], "http://a", .environment("TESTOMATIO_URL")),
    (["TESTBRIDGE_URL": "http://b"], "http://b", .environment("TESTBRIDGE_URL")),
    (["TESTOMATIO_URL": "", "TESTBRIDGE_URL": "http://b"], "http://b", .environment("TESTBRIDGE_URL")),
    (["TESTOMATIO_URL": "", "TESTBRIDGE_URL": ""], "https://app.testomat.io", .defaultValue),
    (["UNRELATED": "x"], "https://app.testomat.io", .defaultValue),
  ]

  @Test(arguments: environmentOrderCases)
  func usesTheFirstNonEmptyEnvironmentVariable(
    environment: [String: String],
    value: String,
    source: ValueSource
  ) throws {
    let parsed = try parse(["a"], environment: environment)
    #expect(parsed.value("url") == value)
    #expect(parsed.source("url") == source)
  }

  @Test func anOptionWithNothingAnywhereIsAbsent() throws {
    let parsed = try parse(["a"])
    #expect(parsed.value("output") == nil)
    #expect(parsed.values("output") == [])
    #expect(parsed.source("output") == .absent)
  }

  @Test func repeatableOptionFallsBackToTheWholeEnvironmentValue() throws {
    let fromEnvironment = try parse(["a"], environment: ["TESTBRIDGE_TAGS": "smoke,nightly"])
    #expect(fromEnvironment.values("tag") == ["smoke,nightly"])
    #expect(fromEnvironment.source("tag") == .environment("TESTBRIDGE_TAGS"))

    let fromFlags = try parse(["--tag", "x", "a"], environment: ["TESTBRIDGE_TAGS": "smoke,nightly"])
    #expect(fromFlags.values("tag") == ["x"])
    #expect(fromFlags.source("tag") == .flag)
  }

  static let flagEnvironmentCases: [(value: String, expected: Bool)] = [
    ("1", true), ("true", true), ("yes", true), ("TRUE", true), ("on", true), ("anything", true),
    ("0", false), ("false", false), ("no", false), ("False", false), ("NO", false),
  ]

  @Test(arguments: flagEnvironmentCases)
  func readsAFlagFromATruthyEnvironmentValue(value: String, expected: Bool) throws {
    let parsed = try parse(["a"], environment: ["TESTBRIDGE_DRY_RUN": value])
    #expect(parsed.flag("dry-run") == expected)
    #expect(parsed.source("dry-run") == .environment("TESTBRIDGE_DRY_RUN"))
  }

  @Test func emptyEnvironmentValueLeavesAFlagOffAndAbsent() throws {
    let parsed = try parse(["a"], environment: ["TESTBRIDGE_DRY_RUN": ""])
    #expect(parsed.flag("dry-run") == false)
    #expect(parsed.source("dry-run") == .absent)
  }

  @Test func givenFlagWinsOverAFalsyEnvironmentValue() throws {
    let parsed = try parse(["--dry-run", "a"], environment: ["TESTBRIDGE_DRY_RUN": "0"])
    #expect(parsed.flag("dry-run"))
    #expect(parsed.source("dry-run") == .flag)
  }

  // MARK: `--` and positionals

  @Test func argumentsAfterDoubleDashArePositionalsWithoutATrailingCommand() throws {
    let parsed = try parse(["--verbose", "--", "--format", "-o", "--"])
    #expect(parsed.positionals == ["--format", "-o", "--"])
    #expect(parsed.trailing == [])
    #expect(parsed.flag("verbose"))
    #expect(parsed.source("format") == .defaultValue)
  }

  static let trailingCases: [(arguments: [String], positionals: [String], trailing: [String], dryRun: Bool)] = [
    (["--dry-run", "--", "npm", "test", "--", "--watch"], [], ["npm", "test", "--", "--watch"], true),
    (["nightly", "--", "swift", "test", "--dry-run"], ["nightly"], ["swift", "test", "--dry-run"], false),
    (["--", "--help"], [], ["--help"], false),
    (["--"], [], [], false),
    ([], [], [], false),
    (["label"], ["label"], [], false),
  ]

  @Test(arguments: trailingCases)
  func splitsOffTheTrailingCommandAtDoubleDash(
    arguments: [String],
    positionals: [String],
    trailing: [String],
    dryRun: Bool
  ) throws {
    let parsed = try parse(arguments, SampleSpecs.run)
    #expect(parsed.positionals == positionals)
    #expect(parsed.trailing == trailing)
    #expect(parsed.flag("dry-run") == dryRun)
    #expect(parsed.helpRequested == false)
  }

  @Test func treatsASingleDashAsAPositional() throws {
    #expect(try parse(["-"]).positionals == ["-"])
  }

  static let positionalMatchCases: [(arguments: [String], positionals: [String: [String]])] = [
    (["m", "s", "d"], ["MODE": ["m"], "SOURCE": ["s"], "DEST": ["d"], "NOTE": []]),
    (["m", "s1", "s2", "s3", "d"], ["MODE": ["m"], "SOURCE": ["s1", "s2", "s3"], "DEST": ["d"], "NOTE": []]),
    (["m", "s1", "d", "--", "-n"], ["MODE": ["m"], "SOURCE": ["s1", "d"], "DEST": ["-n"], "NOTE": []]),
  ]

  @Test(arguments: positionalMatchCases)
  func matchesPositionalsInSpecOrder(arguments: [String], positionals: [String: [String]]) throws {
    let parsed = try parse(arguments, SampleSpecs.copy)
    #expect(parsed.positionals == arguments.filter { $0 != "--" })
    for (name, values) in positionals {
      #expect(parsed.positional(name) == values, "\(name)")
    }
    #expect(parsed.positional("UNKNOWN") == [])
  }

  @Test func fillsAnOptionalPositionalOnlyWhenThereIsAWordLeft() throws {
    let spec = CommandSpec(
      name: "pair",
      abstract: "",
      positionals: [
        PositionalSpec("FIRST", help: "", optional: true),
        PositionalSpec("SECOND", help: ""),
      ]
    )
    let one = try parse(["x"], spec)
    #expect(one.positional("FIRST") == [])
    #expect(one.positional("SECOND") == ["x"])
    let two = try parse(["x", "y"], spec)
    #expect(two.positional("FIRST") == ["x"])
    #expect(two.positional("SECOND") == ["y"])
  }

  @Test func anOptionalRepeatingPositionalMayBeEmpty() throws {
    let spec = CommandSpec(
      name: "list",
      abstract: "",
      positionals: [PositionalSpec("FILTER", help: "", repeating: true, optional: true)]
    )
    #expect(try parse([], spec).positionals == [])
    #expect(try parse(["a", "b"], spec).positional("FILTER") == ["a", "b"])
  }

  // MARK: Help

  static let helpCases: [[String]] = [
    ["--help"],
    ["-h"],
    ["a.xml", "--help"],
    ["-vh"],
    ["--frmat", "json", "--help"],
    ["--format", "xml", "-h"],
    ["--dry-run=yes", "-h", "x", "y"],
    ["-h", "--output"],
    ["--help=please"],
    ["-h", "--", "x"],
  ]

  @Test(arguments: helpCases)
  func helpBeforeDoubleDashWinsOverEveryError(arguments: [String]) throws {
    #expect(try parse(arguments).helpRequested)
  }

  @Test func helpIsNotRequestedByDefault() throws {
    #expect(try parse(["a"]).helpRequested == false)
  }

  @Test func helpAfterDoubleDashIsAnOrdinaryArgument() throws {
    let plain = try parse(["a", "--", "--help"])
    #expect(plain.helpRequested == false)
    #expect(plain.positionals == ["a", "--help"])

    let run = try parse(["--", "npm", "-h"], SampleSpecs.run)
    #expect(run.helpRequested == false)
    #expect(run.trailing == ["npm", "-h"])
  }

  @Test func helpAsAnOptionValueIsTheValue() throws {
    let parsed = try parse(["--grep", "--help", "a"])
    #expect(parsed.helpRequested == false)
    #expect(parsed.value("grep") == "--help")
  }
}

/// Flags that are on by default or from the environment, and `--no-<name>` to turn them off.
@Suite struct NegatableFlagTests {
  static let spec = CommandSpec(
    name: "report",
    abstract: "Report results.",
    options: [
      .flag("proceed", help: "Leave the run open.", environment: ["TESTOMATIO_PROCEED"], negatable: true),
      .flag("create", help: "Create unmatched tests.", environment: ["TESTOMATIO_CREATE"], negatable: true),
      .flag("verbose", help: "Print more."),
    ]
  )

  func parse(_ arguments: [String], _ environment: [String: String] = [:]) throws(UsageError) -> ParsedArguments {
    try ArgumentParser.parse(arguments, spec: Self.spec, environment: environment)
  }

  static let cases: [(arguments: [String], environment: [String: String], setting: Bool?)] = [
    ([], [:], nil),
    (["--proceed"], [:], true),
    (["--no-proceed"], [:], false),
    ([], ["TESTOMATIO_PROCEED": "1"], true),
    ([], ["TESTOMATIO_PROCEED": "0"], false),
    ([], ["TESTOMATIO_PROCEED": "false"], false),
    (["--no-proceed"], ["TESTOMATIO_PROCEED": "1"], false),
    (["--proceed"], ["TESTOMATIO_PROCEED": "0"], true),
    (["--proceed", "--no-proceed"], [:], false),
    (["--no-proceed", "--proceed"], [:], true),
  ]

  @Test(arguments: cases)
  func theLastSpellingWinsOverTheEnvironment(arguments: [String], environment: [String: String], setting: Bool?) throws {
    let parsed = try parse(arguments, environment)
    #expect(parsed.flagSetting("proceed") == setting)
    #expect(parsed.flag("proceed") == (setting ?? false))
  }

  @Test func aFlagThatIsNotNegatableHasNoNoSpelling() throws {
    #expect(throws: UsageError.self) { try parse(["--no-verbose"]) }
    #expect(throws: UsageError.self) { try parse(["--no-proceed=1"]) }
    #expect(try parse(["--verbose"]).flag("verbose"))
  }

  @Test func helpAndUsageShowTheNoSpelling() {
    let help = HelpFormatter.help(for: Self.spec)
    #expect(help.contains("[--[no-]proceed]"))
    #expect(help.contains("  --[no-]create"))
    #expect(help.contains("[--verbose]"))
    #expect(!help.contains("--[no-]verbose"))
  }

  @Test func aMistypedNoSpellingIsSuggested() {
    do {
      _ = try parse(["--no-procede"])
      Issue.record("expected a usage error")
    } catch {
      #expect(error.message == "Unknown option '--no-procede'. Did you mean '--no-proceed'?")
    }
  }
}

@Suite struct SuggestionsTests {
  static let cases: [(input: String, candidates: [String], expected: String?)] = [
    ("frmat", ["format", "output"], "format"),
    ("--frmat", ["--format", "--output"], "--format"),
    ("fromat", ["format"], "format"),
    ("formatt", ["format"], "format"),
    ("fmt", ["format"], nil),
    ("outptu", ["format", "output"], "output"),
    ("xyz", ["format", "output"], nil),
    ("", ["ab", "abc"], "ab"),
    ("parse", [], nil),
    ("rn", ["run", "rm"], "run"),
    ("rum", ["rm", "run"], "rm"),
    ("serv", ["server", "serve"], "serve"),
  ]

  @Test(arguments: cases)
  func suggestsTheClosestCandidateWithinTwoEdits(input: String, candidates: [String], expected: String?) {
    #expect(Suggestions.closest(to: input, among: candidates) == expected)
  }
}
