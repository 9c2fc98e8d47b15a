import BridgeHTTP
import Foundation
import HTTPServer
import Testomatio
import Trigger

/// `testbridge serve`: start the tests linked to a Jira ticket from a webhook.
struct ServeCommand: Command {
  static let spec = CommandSpec(
    name: "serve",
    abstract: "Receive Jira webhooks and start the linked tests in GitHub Actions or GitLab CI.",
    discussion: """
      POST /hooks/jira takes Jira admin webhooks (signed: X-Hub-Signature with \
      TESTBRIDGE_WEBHOOK_SECRET) and Jira Automation "Send web request" bodies (the \
      X-Testbridge-Token header, or Authorization: Bearer, with TESTBRIDGE_WEBHOOK_TOKEN). \
      For a matching event it finds the tests Testomat.io links to the ticket, creates the \
      Testomat.io run up front (linked to the ticket), and starts CI with the inputs run, grep, \
      jira and testomatio_url (never the API key). GET /healthz answers 200. Stop with SIGTERM \
      or Ctrl-C (or, with --stop-when-stdin-closes, by closing its standard input): requests in \
      flight are finished first.

      With --config and several profiles (and no --profile), each webhook goes to the profile \
      owning its issue's Jira project: that profile's Testomat.io project creates the run and \
      its 'ci' target is started, with the tokens read from the variables it names. Issues of \
      a project no profile owns are answered 200 ignored.
      """,
    options: [
      OptionSpec(
        "listen", valueName: "HOST:PORT", help: "Address to listen on. Put a TLS reverse proxy in front for Jira Cloud.",
        environment: ["TESTBRIDGE_LISTEN"], defaultValue: "127.0.0.1:8080"),
      OptionSpec("rules", valueName: "FILE", help: "Trigger rules (JSON; see the README). Default: every authenticated event.", environment: ["TESTBRIDGE_RULES"]),
      OptionSpec("ci", valueName: "CI", help: "CI to start when a rule names none.", environment: ["TESTBRIDGE_CI"], allowedValues: ["github", "gitlab"]),
      OptionSpec("webhook-secret", valueName: "SECRET", help: "Secret of Jira's webhook signature.", environment: ["TESTBRIDGE_WEBHOOK_SECRET"]),
      OptionSpec("webhook-token", valueName: "TOKEN", help: "Shared token for Automation rules that cannot sign.", environment: ["TESTBRIDGE_WEBHOOK_TOKEN"]),
      OptionSpec("github-api-url", valueName: "URL", help: "GitHub API (GitHub Enterprise: https://HOST/api/v3).", environment: ["GITHUB_API_URL"], defaultValue: "https://api.github.com"),
      OptionSpec("github-repository", valueName: "OWNER/REPO", help: "Repository whose workflow to start.", environment: ["GITHUB_REPOSITORY"]),
      OptionSpec("github-token", valueName: "TOKEN", help: "Token allowed to start workflows (Actions: write).", environment: ["GITHUB_TOKEN"]),
      OptionSpec("github-workflow", valueName: "FILE", help: "Workflow file or id for workflow_dispatch; without it, repository_dispatch.", environment: ["TESTBRIDGE_GITHUB_WORKFLOW"]),
      OptionSpec("github-ref", valueName: "REF", help: "Branch or tag to run.", environment: ["TESTBRIDGE_GITHUB_REF"], defaultValue: "main"),
      OptionSpec("gitlab-url", valueName: "URL", help: "GitLab server.", environment: ["GITLAB_URL"], defaultValue: "https://gitlab.com"),
      OptionSpec("gitlab-project-id", valueName: "ID", help: "Project id or 'group/project' path.", environment: ["GITLAB_PROJECT_ID"]),
      OptionSpec("gitlab-trigger-token", valueName: "TOKEN", help: "Pipeline trigger token.", environment: ["GITLAB_TRIGGER_TOKEN"]),
      OptionSpec("gitlab-ref", valueName: "REF", help: "Branch or tag to run.", environment: ["TESTBRIDGE_GITLAB_REF"], defaultValue: "main"),
      OptionSpec("max-body-bytes", valueName: "N", help: "Largest request body accepted (413 above).", defaultValue: "1048576"),
      OptionSpec("max-connections", valueName: "N", help: "Concurrent connections (503 above).", defaultValue: "64"),
      OptionSpec("read-timeout", valueName: "SECONDS", help: "Time a client gets to send its request (slow clients are cut off).", defaultValue: "10"),
      .flag(
        "stop-when-stdin-closes",
        help: "Also stop (as on SIGTERM) when standard input ends: a supervisor holding a pipe to it is never outlived.",
        environment: ["TESTBRIDGE_STOP_WHEN_STDIN_CLOSES"]),
    ] + TestomatioOptions.connection.filter { !$0.long.hasPrefix("dry-run") } + ProjectConfig.options
  )

  static func run(_ arguments: ParsedArguments, context: CommandContext) async throws -> ExitStatus {
    let (host, port) = try listenAddress(arguments.value("listen") ?? "127.0.0.1:8080")
    let handler = try makeHandler(arguments, context: context)
    let maxBody = try positive(arguments, "max-body-bytes")
    let maxConnections = try positive(arguments, "max-connections")
    let readTimeout = try positive(arguments, "read-timeout")
    let loopback = TransportPolicy.isLoopback(host: host)
    let server = HTTPServer(
      configuration: ServerConfiguration(
        host: host, port: port, maxBodyBytes: maxBody, readTimeout: .seconds(readTimeout),
        maxConnections: maxConnections, allowNonLoopback: !loopback))
    let bound: Int
    do {
      bound = try server.start { request in await handler.handle(request) }
    } catch {
      throw CLIError("cannot listen on \(host):\(port): \(error)")
    }
    if !loopback { context.warn("listening beyond this machine on \(host): put a TLS reverse proxy in front (see ci-examples/serve)") }
    context.stdout.write("testbridge serve listening on http://\(host.contains(":") ? "[\(host)]" : host):\(bound)\(WebhookHandler.hookPath)\n")
    context.stdout.flush()
    let signal = await ShutdownSignal.wait(endOfInput: arguments.flag("stop-when-stdin-closes"))
    context.stderr.write("testbridge: \(signal), finishing requests in flight\n")
    await server.stop(graceful: true)
    context.stderr.write("testbridge: stopped\n")
    return .success
  }

  /// Builds the webhook handler from flags and the environment (the serve composition root).
  static func makeHandler(_ arguments: ParsedArguments, context: CommandContext) throws -> WebhookHandler {
    let env = context.environment
    do {
      let secrets = try WebhookSecrets.resolve(
        environment: env, signingSecret: arguments.value("webhook-secret"), token: arguments.value("webhook-token"))
      let rules = try arguments.value("rules").map { path throws(TriggerError) in
        try TriggerRules.load(path: context.absolutePath(path))
      } ?? .default
      let routes: WebhookRoutes
      var targetSecrets: [String] = []
      if let pending = context.pendingProfile {
        var byProject: [String: WebhookTarget] = [:]
        var summary: [String] = []
        for profile in pending.config.profiles {
          let unset = ProjectConfig.unsetSecretVariables(profile, environment: context.environment)
          guard unset.isEmpty else {
            throw CLIError(
              "profile '\(profile.name)' of \(pending.path): \(unset.joined(separator: " and ")) "
                + "\(unset.count == 1 ? "is" : "are") not set (the profile names \(unset.count == 1 ? "it" : "them") for its secrets)")
          }
          let (profileArguments, profileContext) = try pending.applying(profile, context: context)
          let target: (target: WebhookTarget, secrets: [String])
          do {
            target = try makeTarget(profileArguments, rules: rules, name: profile.name, context: profileContext)
          } catch let error as TriggerError {
            throw CLIError("profile '\(profile.name)' of \(pending.path): \(error.reason)")
          } catch let error as CLIError {
            throw CLIError("profile '\(profile.name)' of \(pending.path): \(error.message)", exitStatus: error.exitStatus)
          }
          for project in profile.jiraProjects { byProject[project] = target.target }
          targetSecrets += target.secrets
          if profile.jiraProjects.isEmpty {
            context.warn("profile '\(profile.name)' owns no Jira project: no webhook goes to it")
          } else {
            summary.append("\(profile.jiraProjects.joined(separator: ", ")) -> \(profile.name)")
          }
        }
        routes = WebhookRoutes(byProject: byProject)
        context.stderr.write("testbridge: webhooks routed by Jira project (\(pending.path)): \(summary.joined(separator: "; "))\n")
      } else {
        let target = try makeTarget(arguments, rules: rules, name: nil, context: context)
        routes = WebhookRoutes(target.target)
        targetSecrets = target.secrets
      }
      let stderr = context.stderr
      return WebhookHandler(
        authenticator: WebhookAuthenticator(secrets: secrets), rules: rules, routes: routes,
        additionalSecrets: targetSecrets,
        log: { line in stderr.write("\(ISO8601DateFormatter().string(from: Date())) \(line)\n"); stderr.flush() })
    } catch let error as TriggerError {
      throw CLIError(error.reason)
    } catch let error as CLIError {
      throw error
    } catch {
      throw CLIError("\(error)")
    }
  }

  /// One Testomat.io project and the CI it starts, from flags and the environment; with the
  /// secrets it holds, to keep them out of replies and logs.
  static func makeTarget(
    _ arguments: ParsedArguments, rules: TriggerRules, name: String?, context: CommandContext
  ) throws -> (target: WebhookTarget, secrets: [String]) {
    let env = context.environment
    let defaultCI = try CIKind.resolve(environment: env, explicit: arguments.value("ci") ?? inferredCI(arguments))
    let (client, services) = try TestomatioOptions.client(arguments, context: context)
    var dispatchers: [any CIDispatcher] = []
    var secrets = [client.apiKey]
    for kind in rules.ciKinds(defaultCI: defaultCI) {
      switch kind {
      case .github:
        let config = try GitHubDispatchConfig.resolve(
          environment: env, apiURL: arguments.value("github-api-url"), repository: arguments.value("github-repository"),
          token: arguments.value("github-token"), workflow: arguments.value("github-workflow"), ref: arguments.value("github-ref"))
        secrets.append(config.token)
        dispatchers.append(GitHubDispatcher(config: config, transport: services.transport))
      case .gitlab:
        let config = try GitLabDispatchConfig.resolve(
          environment: env, baseURL: arguments.value("gitlab-url"), projectID: arguments.value("gitlab-project-id"),
          triggerToken: arguments.value("gitlab-trigger-token"), ref: arguments.value("gitlab-ref"))
        secrets.append(config.triggerToken)
        dispatchers.append(GitLabDispatcher(config: config, transport: services.transport))
      }
    }
    let target = WebhookTarget(
      name: name, linkedTests: TestomatioLinkedTests(client: client), scheduler: TestomatioRunScheduler(client: client),
      dispatchers: dispatchers, defaultCI: defaultCI, testomatioURL: client.baseURL.absoluteString)
    return (target, secrets)
  }

  /// GitHub when its repository is configured, GitLab when its project is; otherwise ask.
  static func inferredCI(_ arguments: ParsedArguments) -> String? {
    if arguments.value("github-repository") != nil { return "github" }
    if arguments.value("gitlab-project-id") != nil { return "gitlab" }
    return nil
  }

  static func listenAddress(_ text: String) throws(CLIError) -> (String, Int) {
    guard let colon = text.lastIndex(of: ":") else {
      throw CLIError("The value '\(text)' is invalid for '--listen <HOST:PORT>': expected HOST:PORT", exitStatus: .usage)
    }
    var host = String(text[..<colon])
    if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    guard let port = Int(text[text.index(after: colon)...]), (0...65_535).contains(port), !host.isEmpty else {
      throw CLIError("The value '\(text)' is invalid for '--listen <HOST:PORT>': expected HOST:PORT", exitStatus: .usage)
    }
    return (host, port)
  }

  private static func positive(_ arguments: ParsedArguments, _ name: String) throws(CLIError) -> Int {
    let text = arguments.value(name) ?? ""
    guard let value = Int(text), value > 0 else {
      throw CLIError("The value '\(text)' is invalid for '--\(name)': expected a positive number", exitStatus: .usage)
    }
    return value
  }
}
