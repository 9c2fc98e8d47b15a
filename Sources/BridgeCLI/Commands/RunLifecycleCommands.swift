import BridgeCore
import BridgeHTTP
import Foundation
import Testomatio

/// `testbridge start`: create a run and print its id as the last line.
struct StartCommand: Command {
  static let spec = CommandSpec(
    name: "start",
    abstract: "Create a Testomat.io run and print its id as the last line (TESTOMATIO_RUN=$(testbridge start | tail -1)).",
    options: TestomatioOptions.connection + TestomatioOptions.run.filter { $0.long != "run" } + ProjectConfig.options
  )

  static func run(_ arguments: ParsedArguments, context: CommandContext) async throws -> ExitStatus {
    let apiKey = try TestomatioOptions.requiredAPIKey(arguments)
    let config = try TestomatioOptions.config(arguments, apiKey: apiKey, context: context)
    let services = try HTTPServices(arguments, context: context)
    let client = TestomatioClient(
      transport: services.transport, baseURL: config.baseURL, apiKey: apiKey, timeout: config.requestTimeout)
    let run: RunInfo
    do {
      run = try await client.createRun(Payloads.run(config))
    } catch {
      throw CLIError(error.description)
    }
    services.printDryRun(to: context.stderr)
    if let url = run.url { context.stderr.write("Testomat.io run: \(url)\n") }
    context.stdout.write("\(run.uid)\n")
    return .success
  }
}

/// `testbridge linked-tests`: the tests Testomat.io links to a Jira issue, tag, plan or label.
struct LinkedTestsCommand: Command {
  static let spec = CommandSpec(
    name: "linked-tests",
    abstract: "List the Testomat.io tests linked to a Jira issue, tag, plan or label.",
    discussion: "Exactly one of --jira, --tag, --plan or --label. The grep format is what Testomat.io hands to CI: ids without '@', joined with '|'.",
    options: TestomatioOptions.connection + [
      OptionSpec("jira", valueName: "KEY", help: "Tests linked to this Jira issue."),
      OptionSpec("tag", valueName: "TAG", help: "Tests with this tag."),
      OptionSpec("plan", valueName: "ID", help: "Tests in this plan."),
      OptionSpec("label", valueName: "LABEL", help: "Tests with this label."),
      OptionSpec(
        "format", valueName: "format", help: "grep (id|id|…), ids (one per line) or json.", defaultValue: "grep",
        allowedValues: ["grep", "ids", "json"]),
    ] + ProjectConfig.options
  )

  static func run(_ arguments: ParsedArguments, context: CommandContext) async throws -> ExitStatus {
    let filters = [("jira", "jira"), ("tag", "tag"), ("plan", "plan"), ("label", "label")]
      .compactMap { option, type in arguments.value(option).map { (type, $0) } }
    guard filters.count == 1, let (type, id) = filters.first else {
      throw CLIError("give exactly one of --jira, --tag, --plan or --label", exitStatus: .usage)
    }
    let (client, services) = try TestomatioOptions.client(arguments, context: context)
    let ids: [String]
    do {
      ids = try await client.testGrep(type: type, id: id).map(LinkedTests.normalise)
    } catch {
      throw CLIError(error.description)
    }
    services.printDryRun(to: context.stderr)
    switch arguments.value("format") ?? "grep" {
    case "ids": context.stdout.write(ids.map { $0 + "\n" }.joined())
    case "json":
      context.stdout.write(
        JSONText.object([
          ("type", JSONText.string(type)), ("id", JSONText.string(id)),
          ("tests", JSONText.array(ids.map { JSONText.string($0) })),
        ]) + "\n")
    default: context.stdout.write(LinkedTests.grep(ids) + "\n")
    }
    if ids.isEmpty { context.warn("Testomat.io links no tests to \(type) '\(id)'") }
    return .success
  }
}

/// Test ids as Testomat.io's CI inputs carry them.
enum LinkedTests {
  /// `@T1a2b3c4d` and `1a2b3c4d` both become `T1a2b3c4d`.
  static func normalise(_ id: String) -> String { TestIdentifiers.grepForm(id) }

  /// Ids joined with `|`, the `grep` form Testomat.io passes to CI.
  static func grep(_ ids: [String]) -> String { ids.joined(separator: "|") }
}

/// `testbridge flush`: deliver spooled results and complete spooled Jira updates.
struct FlushCommand: Command {
  static let spec = CommandSpec(
    name: "flush",
    abstract: "Deliver results kept in the spool after Testomat.io could not be reached, and complete spooled Jira updates.",
    discussion: "Each spooled batch is removed once delivered, so an interrupted flush can simply be run again; a batch sent twice replaces itself (results carry stable rids). Spooled Jira updates are made again in full (links are updated in place, run history entries replace themselves), with the credentials from JIRA_* variables: the spool never holds one. With --dry-run the Testomat.io requests are printed, Jira updates are listed, and the spool is left as it is.",
    options: TestomatioOptions.connection.filter { $0.long != "testomatio-url" } + [
      OptionSpec(
        "spool-dir", valueName: "DIR", help: "The spool folder.", environment: ["TESTBRIDGE_SPOOL_DIR"],
        defaultValue: TestomatioOptions.defaultSpoolDirectory)
    ] + JiraOptions.connection
  )

  static func run(_ arguments: ParsedArguments, context: CommandContext) async throws -> ExitStatus {
    let spool = TestomatioOptions.spool(arguments, context: context)
    let entries = spool.entries()
    let jiraFiles = JiraSpoolFile.files(in: spool.root)
    guard !entries.isEmpty || !jiraFiles.isEmpty else {
      context.stdout.write("Nothing to flush in \(spool.root.path)\n")
      return .success
    }
    let dryRun = arguments.flag("dry-run")
    let apiKey = TestomatioOptions.apiKey(arguments) ?? (dryRun ? "tstmt_dry_run" : nil)
    if !entries.isEmpty, apiKey == nil {
      throw CLIError("no Testomat.io API key: set TESTOMATIO (the spool never stores it)")
    }
    let services = try HTTPServices(arguments, context: context)
    let timeout = try TestomatioOptions.requestTimeout(arguments)
    let allowInsecure = arguments.flag("allow-insecure-http")
    let transport = services.transport
    let stderr = context.stderr
    var failed = false
    for entry in entries {
      guard let apiKey else { break }
      if let manifest = try? spool.manifest(of: entry), let url = URL(string: manifest.baseURL) {
        do {
          try TransportPolicy.checkScheme(url, allowInsecureHTTP: allowInsecure)
        } catch {
          context.error("\(entry.name): \(error.reason)")
          failed = true
          continue
        }
      }
      let flusher = SpoolFlusher(spool: spool, apiKey: apiKey, keepsSpool: dryRun) { base in
        TestomatioClient(transport: transport, baseURL: base, apiKey: apiKey, timeout: timeout)
      }
      let outcome = await flusher.flush(entry) { if !dryRun { stderr.write("testbridge: \($0)\n") } }
      if let error = outcome.error {
        failed = true
        context.error("\(entry.name): \(error.description) (\(outcome.delivered) results sent before it; run flush again)")
      } else if dryRun {
        context.stdout.write("Would deliver \(outcome.delivered) results from \(entry.name)\n")
      } else {
        context.stdout.write(
          "Delivered \(outcome.delivered) results to run \(outcome.runID ?? "?")\(outcome.finished ? " and finished it" : "")\n")
      }
    }
    if dryRun {
      // A dry run does not contact Jira: it names what the spool would complete there.
      for file in jiraFiles {
        if let spooled = try? JiraSpoolFile.read(file) {
          let keys = spooled.updates.map(\.key)
          context.stdout.write(
            "Would complete \(keys.count) Jira issue update(s) from \(file.lastPathComponent) on \(spooled.site.url)"
              + (keys.isEmpty ? "" : ": \(keys.joined(separator: ", "))")
              + (spooled.deferredScope == nil ? "" : " (and its scope search)") + "\n")
        } else {
          context.warn("\(file.lastPathComponent) is not a readable Jira spool file")
        }
      }
      services.printDryRun(to: context.stdout)
      return .success
    }
    // Jira after Testomat.io, as in a delivery.
    for file in jiraFiles {
      let completed = await JiraFlush.flush(
        file, arguments: arguments, context: context, testomatioTransport: transport)
      if !completed { failed = true }
    }
    return failed ? .deliveryFailed : .success
  }
}
