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
    .flag("allow-insecure-http", help: "Allow plain http:// to hosts other than this machine."),
    OptionSpec("audit-log", valueName: "FILE", help: "Append one JSON line per request sent (secrets removed)."),
    .flag("dry-run", help: "Print every request that would be sent, send nothing, exit 0."),
  ]

  static let run: [OptionSpec] = [
    OptionSpec("run", valueName: "ID", help: "Report into this existing run instead of creating one.", environment: ["TESTOMATIO_RUN"]),
    OptionSpec("title", valueName: "TITLE", help: "Run title.", environment: ["TESTOMATIO_TITLE"]),
    OptionSpec("env", valueName: "ENVS", help: "Comma-separated environments, e.g. 'Linux, Chrome'.", environment: ["TESTOMATIO_ENV"]),
    OptionSpec(
      "rungroup-title", valueName: "TITLE", help: "Put the run in this run group ('/' nests groups).",
      environment: ["TESTOMATIO_RUNGROUP_TITLE"]),
    .flag("shared-run", help: "Let parallel jobs with the same title report into one run.", environment: ["TESTOMATIO_SHARED_RUN"]),
    OptionSpec(
      "shared-run-timeout", valueName: "MINUTES", help: "Minutes a shared run accepts joiners.",
      environment: ["TESTOMATIO_SHARED_RUN_TIMEOUT"]),
    OptionSpec("jira", valueName: "KEY", help: "Attach the run to this Jira issue.", environment: ["TESTOMATIO_JIRA_ID"]),
    OptionSpec("label", valueName: "LABELS", help: "Run label(s), e.g. 'release,module:checkout'.", environment: ["TESTOMATIO_LABEL"]),
    .flag("publish", help: "Publish the report (gives a public URL).", environment: ["TESTOMATIO_PUBLISH"]),
    OptionSpec(
      "kind", valueName: "KIND", help: "Run kind: automated, manual or mixed.", allowedValues: ["automated", "manual", "mixed"]),
    OptionSpec("ci-build-url", valueName: "URL", help: "Link to the CI build. (default: from the CI's own variables)"),
  ]

  static let results: [OptionSpec] = [
    .flag("create", help: "Create tests Testomat.io cannot match (the default, as the official JUnit import does).", environment: ["TESTOMATIO_CREATE"]),
    .flag("no-create", help: "Do not create unmatched tests."),
    .flag("proceed", help: "Leave the run open (no finish); close it later with 'testbridge finish'.", environment: ["TESTOMATIO_PROCEED"]),
    .flag("exclude-skipped", help: "Do not report skipped tests.", environment: ["TESTOMATIO_EXCLUDE_SKIPPED"]),
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
      throw CLIError("The value '\(text)' is invalid for '--testomatio-url <URL>': expected an http(s) URL", exitStatus: .usage)
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
      config.sharedRun = true
    }
    config.jiraID = arguments.value("jira")
    config.label = arguments.value("label")
    config.publish = arguments.flag("publish")
    config.kind = arguments.value("kind")
    config.ciBuildURL = arguments.value("ci-build-url") ?? CIEnvironment.detect(context.environment).buildURL
    config.createTests = !arguments.flag("no-create")
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

  static func spool(_ arguments: ParsedArguments, context: CommandContext) -> Spool {
    Spool(root: URL(fileURLWithPath: context.absolutePath(arguments.value("spool-dir") ?? ".testbridge/spool")))
  }
}

/// The composition root for HTTP: the real transport with retries and an
/// optional audit log, or the dry-run recorder.
struct HTTPServices {
  let transport: any HTTPTransport
  /// Set in dry-run mode: what would have been sent.
  let dryRun: DryRunTransport?

  init(_ arguments: ParsedArguments, context: CommandContext) throws(CLIError) {
    if arguments.flag("dry-run") {
      let recorder = DryRunTransport(responseBody: HTTPServices.dryRunAnswer)
      dryRun = recorder
      transport = recorder
      return
    }
    dryRun = nil
    var observer: (@Sendable (HTTPAttemptRecord) -> Void)?
    if let path = arguments.value("audit-log") {
      do {
        let log = try AuditLog(path: context.absolutePath(path))
        observer = { log.record($0) }
      } catch {
        throw CLIError("cannot open the audit log '\(path)': \(error.reason)")
      }
    }
    let base = URLSessionTransport(allowInsecureHTTP: arguments.flag("allow-insecure-http"))
    transport = RetryingTransport(base: base, policy: RetryPolicy(), sleeper: TaskSleeper(), observer: observer)
  }

  /// Prints the requests a dry run collected.
  func printDryRun(to sink: any TextSink) {
    guard let dryRun else { return }
    sink.write("Dry run: \(dryRun.requests.count) request(s) would be sent, none was:\n")
    for request in dryRun.requests { sink.write("  \(dryRun.describe(request))\n") }
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
