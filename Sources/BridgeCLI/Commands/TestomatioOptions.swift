import BridgeCore
import BridgeHTTP
import Foundation
import Testomatio

/// Options shared by every command that talks to Testomat.io. Each one also
/// reads the environment variable the official reporters use; flags win.
enum TestomatioOptions {
  static let connection: [OptionSpec] = [
    OptionSpec(
      "testomatio-key", valueName: "KEY",
      help: "Testomat.io project API key (tstmt_…). Prefer the environment variable: command lines are visible to other users.",
      environment: ["TESTOMATIO", "TESTOMATIO_API_KEY", "TESTOMATIO_TOKEN"]),
    OptionSpec(
      "testomatio-url", valueName: "URL", help: "Testomat.io server.", environment: ["TESTOMATIO_URL"],
      defaultValue: "https://app.testomat.io"),
    OptionSpec(
      "request-timeout", valueName: "MS", help: "Timeout of each request, in milliseconds.",
      environment: ["TESTOMATIO_REQUEST_TIMEOUT"], defaultValue: "20000"),
    OptionSpec(
      "call-timeout", valueName: "SECONDS",
      help: "Longest time one request may take with all its retries and waits (never less than one request timeout); then it fails or is spooled.",
      environment: ["TESTBRIDGE_CALL_TIMEOUT"], defaultValue: "120"),
    .flag("allow-insecure-http", help: "Allow plain http:// to hosts other than this machine."),
    OptionSpec("audit-log", valueName: "FILE", help: "Append one JSON line per request sent (secrets removed)."),
    .flag("dry-run", help: "Print every request that would be sent, send nothing, exit 0."),
    DryRunFiles.option,
  ]

  static let run: [OptionSpec] = [
    OptionSpec("run", valueName: "ID", help: "Report into this existing run instead of creating one.", environment: ["TESTOMATIO_RUN"]),
    OptionSpec("title", valueName: "TITLE", help: "Run title.", environment: ["TESTOMATIO_TITLE"]),
    OptionSpec("env", valueName: "ENVS", help: "Comma-separated environments, e.g. 'Linux, Chrome'.", environment: ["TESTOMATIO_ENV"]),
    OptionSpec(
      "rungroup-title", valueName: "TITLE", help: "Put the run in this run group ('/' nests groups).",
      environment: ["TESTOMATIO_RUNGROUP_TITLE"]),
    .flag(
      "shared-run", help: "Let parallel jobs with the same title report into one run.", environment: ["TESTOMATIO_SHARED_RUN"],
      negatable: true),
    OptionSpec(
      "shared-run-timeout", valueName: "MINUTES", help: "Minutes a shared run accepts joiners.",
      environment: ["TESTOMATIO_SHARED_RUN_TIMEOUT"]),
    OptionSpec("jira", valueName: "KEY", help: "Attach the run to this Jira issue.", environment: ["TESTOMATIO_JIRA_ID"]),
    OptionSpec("label", valueName: "LABELS", help: "Run label(s), e.g. 'release,module:checkout'.", environment: ["TESTOMATIO_LABEL"]),
    .flag("publish", help: "Publish the report (gives a public URL).", environment: ["TESTOMATIO_PUBLISH"], negatable: true),
    OptionSpec(
      "kind", valueName: "KIND", help: "Run kind: automated, manual or mixed.", allowedValues: ["automated", "manual", "mixed"]),
    OptionSpec("ci-build-url", valueName: "URL", help: "Link to the CI build. (default: from the CI's own variables)"),
    .flag(
      "run-from-ci",
      help: "Shards without a setup job: every job of this CI pipeline (and re-runs of its jobs) joins one run named after the pipeline's identity.",
      environment: ["TESTBRIDGE_RUN_FROM_CI"]),
  ]

  /// Options of a command whose results are one shard of a run.
  static let shard: [OptionSpec] = [
    OptionSpec(
      "shard", valueName: "ID",
      help: "This job's shard in the set, e.g. 3 or 3/8: its part ends with finish_parallel and the run stays open for 'testbridge finish' (or, with --shards N, the last shard to end). (default: GitLab CI_NODE_INDEX/CI_NODE_TOTAL)",
      environment: ["TESTBRIDGE_SHARD"]),
    OptionSpec(
      "results-out", valueName: "FILE",
      help: "Write this job's results as a testbridge-results/1 file for 'testbridge finish --merge'. With --run-from-ci, an earlier attempt's file in the same folder names the run to rejoin."),
    OptionSpec(
      "shards", valueName: "N",
      help: "The set has N shards (ids 1 to N) and no final job: the last to end closes the run, once (status over all shards, the pipeline's wall-clock time) and makes the Jira updates. Needs --results-out in a folder every shard sees.",
      environment: ["TESTBRIDGE_SHARDS"]),
  ]

  /// `--shards N` on a shard: the set's size, when this shard is to close the run if it ends last.
  static func closingShards(_ arguments: ParsedArguments) throws(CLIError) -> Int? {
    guard let text = arguments.value("shards"), !text.isEmpty else { return nil }
    guard let count = Int(text), count > 0 else {
      throw CLIError("The value '\(text)' is invalid for '--shards <N>': expected a positive number", exitStatus: .usage)
    }
    guard arguments.value("results-out") != nil else {
      throw CLIError(
        "--shards \(count) needs --results-out FILE in a folder every shard sees (the last shard reads the others' files there)",
        exitStatus: .usage)
    }
    return count
  }

  /// Options of every command that delivers results; the Jira options ride along, so each
  /// such command also attaches its report to the Jira issues its tests cover.
  static let results: [OptionSpec] = resultsOnly + JiraOptions.specs

  private static let resultsOnly: [OptionSpec] = [
    .flag(
      "create",
      help: "Create tests Testomat.io cannot match (on unless turned off, as the official JUnit import does; TESTOMATIO_CREATE=0 or --no-create turns it off).",
      environment: ["TESTOMATIO_CREATE"], negatable: true),
    .flag(
      "proceed", help: "Leave the run open (no finish); close it later with 'testbridge finish'.",
      environment: ["TESTOMATIO_PROCEED"], negatable: true),
    .flag("exclude-skipped", help: "Do not report skipped tests.", environment: ["TESTOMATIO_EXCLUDE_SKIPPED"], negatable: true),
    OptionSpec("batch-size", valueName: "N", help: "Results per upload request.", defaultValue: "1000"),
    OptionSpec(
      "spool-dir", valueName: "DIR", help: "Where undelivered results wait for 'testbridge flush'.",
      environment: ["TESTBRIDGE_SPOOL_DIR"], defaultValue: ".testbridge/spool"),
  ]

  /// The API key, or nil when reporting is off.
  static func apiKey(_ arguments: ParsedArguments) -> String? {
    guard let key = arguments.value("testomatio-key")?.trimmingCharacters(in: .whitespaces), !key.isEmpty else {
      return nil
    }
    return key
  }

  /// The API key for commands that cannot work without one (a dry run uses a placeholder).
  static func requiredAPIKey(_ arguments: ParsedArguments) throws(CLIError) -> String {
    if let key = apiKey(arguments) { return key }
    if arguments.flag("dry-run") { return "tstmt_dry_run" }
    throw CLIError("no Testomat.io API key: set TESTOMATIO (or pass --testomatio-key)")
  }

  /// A client for the connection options, and the HTTP services behind it.
  static func client(_ arguments: ParsedArguments, context: CommandContext) throws(CLIError)
    -> (TestomatioClient, HTTPServices)
  {
    let apiKey = try requiredAPIKey(arguments)
    let services = try HTTPServices(arguments, context: context)
    let client = TestomatioClient(
      transport: services.transport, baseURL: try baseURL(arguments), apiKey: apiKey,
      timeout: try requestTimeout(arguments))
    return (client, services)
  }

  static func baseURL(_ arguments: ParsedArguments) throws(CLIError) -> URL {
    let text = (arguments.value("testomatio-url") ?? "https://app.testomat.io").trimmingCharacters(in: .whitespaces)
    guard let url = URL(string: text), let scheme = url.scheme, url.host != nil, ["http", "https"].contains(scheme) else {
      throw CLIError(
        "The value '\(Redactor.redact(urlText: text))' is invalid for '--testomatio-url <URL>': expected an http(s) URL",
        exitStatus: .usage)
    }
    do {
      try TransportPolicy.checkScheme(url, allowInsecureHTTP: arguments.flag("allow-insecure-http"))
    } catch {
      throw CLIError("\(error.reason)", exitStatus: .usage)
    }
    return url
  }

  static func requestTimeout(_ arguments: ParsedArguments) throws(CLIError) -> TimeInterval {
    let text = arguments.value("request-timeout") ?? "20000"
    guard let milliseconds = Double(text), milliseconds > 0, milliseconds.isFinite else {
      throw CLIError("The value '\(text)' is invalid for '--request-timeout <MS>': expected milliseconds", exitStatus: .usage)
    }
    return milliseconds / 1000
  }

  /// The longest one call may take with its retries (`--call-timeout`, default 120 s), never
  /// less than one request timeout, so a long `TESTOMATIO_REQUEST_TIMEOUT` still gets its attempt.
  static func callBudget(_ arguments: ParsedArguments) throws(CLIError) -> TimeInterval {
    let text = arguments.value("call-timeout") ?? "120"
    guard let seconds = Double(text), seconds > 0, seconds.isFinite else {
      throw CLIError("The value '\(text)' is invalid for '--call-timeout <SECONDS>': expected seconds", exitStatus: .usage)
    }
    return max(seconds, try requestTimeout(arguments))
  }

  static func config(_ arguments: ParsedArguments, apiKey: String, context: CommandContext) throws(CLIError) -> TestomatioConfig {
    var config = TestomatioConfig(apiKey: apiKey, baseURL: try baseURL(arguments))
    config.runID = arguments.value("run")
    config.title = arguments.value("title")
    config.environment = arguments.value("env")
    config.groupTitle = arguments.value("rungroup-title")
    config.sharedRun = arguments.flag("shared-run")
    if let text = arguments.value("shared-run-timeout") {
      guard let minutes = Int(text), minutes > 0 else {
        throw CLIError("The value '\(text)' is invalid for '--shared-run-timeout <MINUTES>': expected whole minutes", exitStatus: .usage)
      }
      config.sharedRunTimeout = minutes
      // A timeout turns sharing on, unless --no-shared-run (or TESTOMATIO_SHARED_RUN=0) says otherwise.
      config.sharedRun = arguments.flagSetting("shared-run") ?? true
    }
    config.jiraID = arguments.value("jira")
    config.label = arguments.value("label")
    config.publish = arguments.flag("publish")
    config.kind = arguments.value("kind")
    let ci = CIEnvironment.detect(context.environment)
    config.ciBuildURL = arguments.value("ci-build-url") ?? ci.buildURL
    if arguments.flag("run-from-ci"), config.runID == nil {
      guard let identity = ci.pipelineIdentity else {
        throw CLIError("--run-from-ci needs a CI pipeline identity (GITHUB_RUN_ID or CI_PIPELINE_ID)", exitStatus: .usage)
      }
      // The title carries the pipeline's identity: Testomat.io matches a shared run by title
      // (while it is open, within the shared-run window), so the jobs of this pipeline meet in
      // one run and another pipeline, whose title differs, never joins it.
      config.title = "\(config.title ?? "CI") · \(identity)"
      config.sharedRun = true
      config.sharedRunTimeout = config.sharedRunTimeout ?? 24 * 60
      // A later attempt (a re-run failed job) that finds an earlier job's results file of this
      // pipeline adopts that run by id, even after it was closed and whatever time has passed.
      if let resultsOut = arguments.value("results-out") {
        let folder = ShardFolder.directory(of: resultsOut, context: context)
        if let earlier = ShardFolder.earlierRun(of: identity, in: folder, context: context) {
          config.runID = earlier.runID
          context.stderr.write(
            "testbridge: rejoining run \(earlier.runID) of \(identity), named by \(earlier.files) earlier results file(s) in \(folder)\n")
          if !earlier.others.isEmpty {
            context.warn("earlier results files of \(identity) also name run(s) \(earlier.others.joined(separator: ", ")); they are not rejoined")
          }
        }
      }
    }
    let shard = try ShardSpec(arguments, ci: ci)
    config.isShard = shard != nil
    if let count = try closingShards(arguments) {
      guard let shard, let index = Int(shard.id), (1...count).contains(index) else {
        throw CLIError(
          "--shards \(count) needs this job's shard id, 1 to \(count): pass --shard ID (GitLab's CI_NODE_INDEX is read by itself)",
          exitStatus: .usage)
      }
    }
    config.createTests = arguments.flagSetting("create") ?? true
    config.proceed = arguments.flag("proceed")
    config.excludeSkipped = arguments.flag("exclude-skipped")
    config.requestTimeout = try requestTimeout(arguments)
    if let text = arguments.value("batch-size") {
      guard let size = Int(text), size > 0 else {
        throw CLIError("The value '\(text)' is invalid for '--batch-size <N>': expected a positive number", exitStatus: .usage)
      }
      config.batchSize = size
    }
    return config
  }

  /// The command that sends what the spool holds: `testbridge flush`, with `--spool-dir` when
  /// the spool is not the default folder (given by flag or TESTBRIDGE_SPOOL_DIR, which a later
  /// job may not have).
  static func flushCommand(_ arguments: ParsedArguments) -> String {
    guard let directory = arguments.value("spool-dir"), directory != defaultSpoolDirectory else { return "testbridge flush" }
    return "testbridge flush --spool-dir \(CommandLineText.display([directory]))"
  }

  static let defaultSpoolDirectory = ".testbridge/spool"

  static func spool(_ arguments: ParsedArguments, context: CommandContext) -> Spool {
    Spool(root: URL(fileURLWithPath: context.absolutePath(arguments.value("spool-dir") ?? defaultSpoolDirectory)))
  }
}

/// The composition root for HTTP: the real transport with retries and an
/// optional audit log, or the dry-run recorder.
struct HTTPServices {
  let transport: any HTTPTransport
  /// Set in dry-run mode: what would have been sent.
  let dryRun: DryRunTransport?
  /// `--dry-run-out`: where the requests are written whole.
  let dryRunDirectory: URL?

  init(_ arguments: ParsedArguments, context: CommandContext) throws(CLIError) {
    dryRunDirectory = try DryRunFiles.directory(arguments, context: context)
    if arguments.flag("dry-run") {
      let recorder = DryRunTransport(responseBody: HTTPServices.dryRunAnswer)
      dryRun = recorder
      transport = recorder
      return
    }
    dryRun = nil
    let observer = try HTTPServices.auditObserver(arguments, context: context)
    let base = URLSessionTransport(allowInsecureHTTP: arguments.flag("allow-insecure-http"))
    let policy = RetryPolicy(overallBudget: try TestomatioOptions.callBudget(arguments))
    transport = RetryingTransport(base: base, policy: policy, sleeper: TaskSleeper(), observer: observer)
  }

  /// Appends each attempt to `--audit-log FILE` when given (opened with `O_APPEND`, so the
  /// Testomat.io and Jira transports can each hold one).
  static func auditObserver(_ arguments: ParsedArguments, context: CommandContext) throws(CLIError)
    -> (@Sendable (HTTPAttemptRecord) -> Void)?
  {
    guard let path = arguments.value("audit-log") else { return nil }
    do {
      let log = try AuditLog(path: context.absolutePath(path))
      return { log.record($0) }
    } catch {
      throw CLIError("cannot open the audit log '\(path)': \(error.reason)")
    }
  }

  /// Prints the requests a dry run collected.
  func printDryRun(to sink: any TextSink) {
    guard let dryRun else { return }
    sink.write("Dry run: \(dryRun.requests.count) request(s) would be sent, none was:\n")
    for request in dryRun.requests { sink.write("  \(dryRun.describe(request))\n") }
    if let dryRunDirectory, !dryRun.requests.isEmpty {
      sink.write(DryRunFiles.write(dryRun.requests, label: "testomatio", to: dryRunDirectory) + "\n")
    }
  }

  /// Plausible answers so a dry run can go through every step.
  @Sendable static func dryRunAnswer(_ request: HTTPRequest) -> [UInt8] {
    let path = request.url.path
    if path.hasSuffix("/api/test_grep") { return Array(#"{"tests": []}"#.utf8) }
    if path.hasSuffix("/api/reporter"), request.method == .POST {
      return Array(#"{"uid": "dry-run", "url": "(dry run: no run was created)"}"#.utf8)
    }
    return Array("{}".utf8)
  }
}

/// Which shard of a set this job is, from `--shard K[/N]` or GitLab's `parallel:` variables.
struct ShardSpec: Sendable, Hashable {
  var id: String
  var total: Int?
  var attempt: Int

  init?(_ arguments: ParsedArguments, ci: CIEnvironment) throws(CLIError) {
    let attempt = ci.attempt ?? 1
    if let text = arguments.value("shard"), !text.isEmpty {
      let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
      var total: Int?
      if parts.count == 2 {
        guard let count = Int(parts[1]), count > 0 else {
          throw CLIError("The value '\(text)' is invalid for '--shard <ID>': expected ID or ID/TOTAL", exitStatus: .usage)
        }
        total = count
      }
      guard let id = parts.first, !id.isEmpty else {
        throw CLIError("The value '\(text)' is invalid for '--shard <ID>': expected ID or ID/TOTAL", exitStatus: .usage)
      }
      self.init(id: id, total: total, attempt: attempt)
      return
    }
    guard let index = ci.shardIndex else { return nil }
    self.init(id: String(index), total: ci.shardTotal, attempt: attempt)
  }

  init(id: String, total: Int?, attempt: Int) {
    self.id = id
    self.total = total
    self.attempt = attempt
  }
}
