import BridgeCore
import JUnit

/// `testbridge parse`: read JUnit reports and show or convert them.
struct ParseCommand: Command {
  static let spec = CommandSpec(
    name: "parse",
    abstract: "Read JUnit XML reports and print a summary, JSON, or one merged JUnit file.",
    discussion: """
      Exit status: 0 when every report was read (failing tests included), 3 when a \
      report was malformed or unreadable (the others are still used), 64 for usage errors.
      """,
    options: ReportOptions.specs + [
      OptionSpec(
        "format", kind: .single, valueName: "format",
        help: "Output: summary (a table for people), json (documented schema) or junit (one merged report).",
        defaultValue: "summary", allowedValues: ["summary", "json", "junit"]),
      OptionSpec("output", short: "o", valueName: "FILE", help: "Write the output to FILE instead of stdout."),
    ],
    positionals: [PositionalSpec("PATH_OR_GLOB", help: "Report files, directories or globs (** allowed).", repeating: true)]
  )

  static func run(_ arguments: ParsedArguments, context: CommandContext) async throws -> ExitStatus {
    let options = try ReportOptions(arguments, context: context)
    let format = arguments.value("format") ?? "summary"
    let output: any TextSink = try arguments.value("output").map { path throws(CLIError) in
      try FileDescriptorSink(path: context.absolutePath(path))
    } ?? context.stdout
    // The summary only counts, so it streams; the other formats list every test.
    let loaded = ReportLoader(options: options.junit)
      .load(arguments.positionals, keepTestcases: format != "summary")
    if loaded.files.isEmpty {
      for problem in loaded.finderProblems { context.error(problem.description) }
      return .reportProblem
    }
    switch format {
    case "json":
      ParseJSONRenderer().render(loaded, to: output)
    case "junit":
      var stream = SinkStream(output)
      JUnitWriter().write(loaded.testcases, to: &stream)
    default:
      SummaryRenderer(heading: "testbridge parse").render(loaded, to: output)
    }
    output.flush()
    // The summary lists problems itself; elsewhere (or into a file) they go to stderr.
    if format != "summary" || arguments.value("output") != nil {
      for problem in loaded.finderProblems { context.error(problem.description) }
      for file in loaded.brokenFiles { context.error(file.error?.description ?? file.path) }
    }
    return loaded.hasProblems ? .reportProblem : .success
  }
}

/// Options shared by every command that reads reports.
struct ReportOptions {
  static let specs: [OptionSpec] = [
    OptionSpec(
      "workspace", valueName: "DIR",
      help: "Workspace root: file paths are made relative to it, and stack frames under it locate failures. (default: the current directory)",
      environment: ["GITHUB_WORKSPACE", "CI_PROJECT_DIR"]),
    OptionSpec(
      "max-output-bytes", valueName: "N",
      help: "Bytes kept of each testcase's system-out and system-err; the rest is counted in a visible marker.",
      defaultValue: "65536"),
    OptionSpec(
      "max-report-bytes", valueName: "N", help: "Refuse reports larger than N bytes. (default: no limit; reports stream)"),
    OptionSpec(
      "jobs", short: "j", valueName: "N",
      help: "Threads reading reports at once: several files, or both halves of a report of 64 MiB or more. 1 reads on one thread. (default: every core)",
      environment: ["TESTBRIDGE_JOBS"]),
  ]

  var junit: JUnitOptions

  init(_ arguments: ParsedArguments, context: CommandContext) throws(CLIError) {
    var limits = JUnitLimits()
    if let text = arguments.value("max-output-bytes") {
      guard let value = Int(text), value >= 0 else {
        throw CLIError("The value '\(text)' is invalid for '--max-output-bytes <N>': expected a whole number of bytes", exitStatus: .usage)
      }
      limits.maxOutputBytes = value
    }
    if let text = arguments.value("max-report-bytes") {
      guard let value = Int64(text), value > 0 else {
        throw CLIError("The value '\(text)' is invalid for '--max-report-bytes <N>': expected a positive number of bytes", exitStatus: .usage)
      }
      limits.maxFileBytes = value
    }
    var threads: Int?
    if let text = arguments.value("jobs") {
      guard let value = Int(text), value >= 1 else {
        throw CLIError("The value '\(text)' is invalid for '--jobs <N>': expected a whole number of threads, 1 or more", exitStatus: .usage)
      }
      threads = value
    }
    let workspace = context.absolutePath(arguments.value("workspace") ?? context.workingDirectory)
    junit = JUnitOptions(limits: limits, workspace: workspace, threads: threads)
  }
}
