import Foundation

/// A config file naming several Testomat.io projects and the Jira sites and projects that go
/// with each (`--config FILE` or `TESTBRIDGE_CONFIG`). Secrets never live in it: a profile
/// names the environment variables that hold them.
///
/// ```json
/// {"profiles": [
///   {"name": "shop",
///    "testomatio": {"project": "shop", "url": "https://app.testomat.io", "api_key_env": "TESTOMATIO_SHOP"},
///    "jira": {"url": "https://acme.atlassian.net", "email_env": "JIRA_EMAIL",
///             "api_token_env": "JIRA_TOKEN_ACME", "projects": ["SHOP", "CART"]},
///    "ci": {"provider": "github", "repository": "acme/shop", "workflow": "tests.yml", "token_env": "GITHUB_TOKEN_SHOP"}}
/// ]}
/// ```
struct ProjectConfig: Sendable, Hashable {
  /// Where `serve` starts a profile's tests; its token is named by variable, never stored.
  struct CITarget: Sendable, Hashable {
    var provider: String
    /// GitHub's API base (`api_url`) or the GitLab server (`url`).
    var url: String?
    /// GitHub `owner/repo`.
    var repository: String?
    /// GitHub workflow file or id; none sends `repository_dispatch`.
    var workflow: String?
    /// GitLab project id or `group/project` path.
    var projectID: String?
    var ref: String?
    /// The variable holding the GitHub token (`token_env`) or GitLab trigger token (`trigger_token_env`).
    var tokenEnv: String
  }

  struct Profile: Sendable, Hashable {
    var name: String
    var testomatioProject: String?
    var testomatioURL: String?
    var apiKeyEnv: String?
    var jiraURL: String?
    var jiraDeployment: String?
    var jiraEmailEnv: String?
    var jiraAPITokenEnv: String?
    var jiraPATEnv: String?
    /// Jira project keys that belong to this Testomat.io project (upper case).
    var jiraProjects: [String]
    /// The CI `serve` starts for this profile's issues (default: serve's own flags and variables).
    var ci: CITarget? = nil
  }

  var profiles: [Profile]

  /// Options of a command that can take its connection from a profile.
  static let options: [OptionSpec] = [
    OptionSpec(
      "config", valueName: "FILE", help: "Config file naming several Testomat.io and Jira projects (profiles).",
      environment: ["TESTBRIDGE_CONFIG"]),
    OptionSpec(
      "profile", valueName: "NAME",
      help: "The profile of --config to use. (default: chosen by Jira project; see the README's config section)",
      environment: ["TESTBRIDGE_PROFILE"]),
  ]

  private static let secretNames: Set<String> = [
    "api_key", "apikey", "key", "token", "api_token", "pat", "password", "secret", "testomatio", "jira_api_token",
    "jira_pat", "trigger_token", "github_token", "gitlab_trigger_token",
  ]

  /// Reads and checks a config file; every problem is a usage error naming the field.
  static func parse(_ data: Data, path: String) throws(CLIError) -> ProjectConfig {
    func fail(_ message: String) -> CLIError { CLIError("\(path): \(message)", exitStatus: .usage) }
    guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
      throw fail("not a JSON object")
    }
    try checkKeys(root, allowed: ["profiles", "version"], field: "", fail: fail)
    guard let list = root["profiles"] as? [Any], !list.isEmpty else { throw fail("'profiles' must be a non-empty array") }
    var profiles: [Profile] = []
    for (index, item) in list.enumerated() {
      let field = "profiles[\(index)]"
      guard let object = item as? [String: Any] else { throw fail("\(field) must be an object") }
      try checkKeys(object, allowed: ["name", "testomatio", "jira", "ci"], field: field, fail: fail)
      guard let name = object["name"] as? String, !name.isEmpty else { throw fail("\(field).name must be a string") }
      guard !profiles.contains(where: { $0.name == name }) else { throw fail("profile '\(name)' is named twice") }
      let testomatio = try section(object["testomatio"], field: "\(field).testomatio", fail: fail)
      try checkKeys(testomatio, allowed: ["project", "url", "api_key_env"], field: "\(field).testomatio", fail: fail)
      let jira = try section(object["jira"], field: "\(field).jira", fail: fail)
      try checkKeys(
        jira, allowed: ["url", "deployment", "email_env", "api_token_env", "pat_env", "projects"], field: "\(field).jira",
        fail: fail)
      func text(_ object: [String: Any], _ key: String, _ where: String) throws(CLIError) -> String? {
        guard let value = object[key], !(value is NSNull) else { return nil }
        guard let string = value as? String, !string.isEmpty else { throw fail("\(`where`).\(key) must be a string") }
        if key.hasSuffix("_env"), !string.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) {
          throw fail("\(`where`).\(key) must name an environment variable (secrets stay in the environment)")
        }
        return string
      }
      let ci = try ciTarget(object["ci"], field: "\(field).ci", text: text, fail: fail)
      var projects: [String] = []
      if let value = jira["projects"], !(value is NSNull) {
        guard let keys = value as? [String] else { throw fail("\(field).jira.projects must be an array of project keys") }
        projects = keys.map { $0.trimmingCharacters(in: .whitespaces).uppercased() }
      }
      profiles.append(
        Profile(
          name: name, testomatioProject: try text(testomatio, "project", "\(field).testomatio"),
          testomatioURL: try text(testomatio, "url", "\(field).testomatio"),
          apiKeyEnv: try text(testomatio, "api_key_env", "\(field).testomatio"),
          jiraURL: try text(jira, "url", "\(field).jira"), jiraDeployment: try text(jira, "deployment", "\(field).jira"),
          jiraEmailEnv: try text(jira, "email_env", "\(field).jira"),
          jiraAPITokenEnv: try text(jira, "api_token_env", "\(field).jira"),
          jiraPATEnv: try text(jira, "pat_env", "\(field).jira"), jiraProjects: projects, ci: ci))
    }
    var owners: [String: String] = [:]
    for profile in profiles {
      for project in profile.jiraProjects {
        if let other = owners[project] {
          throw fail("Jira project '\(project)' belongs to both '\(other)' and '\(profile.name)'")
        }
        owners[project] = profile.name
      }
    }
    return ProjectConfig(profiles: profiles)
  }

  /// The `ci` section: `provider` github (`repository`, `token_env`, optional `workflow`, `ref`,
  /// `api_url`) or gitlab (`project_id`, `trigger_token_env`, optional `ref`, `url`).
  private static func ciTarget(
    _ value: Any?, field: String, text: (_ object: [String: Any], _ key: String, _ where: String) throws(CLIError) -> String?,
    fail: (String) -> CLIError
  ) throws(CLIError) -> CITarget? {
    guard value != nil, !(value is NSNull) else { return nil }
    var object = try section(value, field: field, fail: fail)
    // A numeric GitLab project id is as good as its text.
    if let number = object["project_id"] as? Int { object["project_id"] = String(number) }
    switch object["provider"] as? String {
    case "github":
      try checkKeys(
        object, allowed: ["provider", "repository", "workflow", "ref", "api_url", "token_env"], field: field, fail: fail)
      guard let repository = try text(object, "repository", field) else { throw fail("\(field).repository is required for github") }
      guard let token = try text(object, "token_env", field) else {
        throw fail("\(field).token_env is required for github: the variable holding a token allowed to start workflows")
      }
      return CITarget(
        provider: "github", url: try text(object, "api_url", field), repository: repository,
        workflow: try text(object, "workflow", field), ref: try text(object, "ref", field), tokenEnv: token)
    case "gitlab":
      try checkKeys(
        object, allowed: ["provider", "url", "project_id", "ref", "trigger_token_env"], field: field, fail: fail)
      guard let project = try text(object, "project_id", field) else { throw fail("\(field).project_id is required for gitlab") }
      guard let token = try text(object, "trigger_token_env", field) else {
        throw fail("\(field).trigger_token_env is required for gitlab: the variable holding the pipeline trigger token")
      }
      return CITarget(
        provider: "gitlab", url: try text(object, "url", field), projectID: project, ref: try text(object, "ref", field),
        tokenEnv: token)
    default:
      throw fail("\(field).provider must be github or gitlab")
    }
  }

  private static func section(
    _ value: Any?, field: String, fail: (String) -> CLIError
  ) throws(CLIError) -> [String: Any] {
    guard let value, !(value is NSNull) else { return [:] }
    guard let object = value as? [String: Any] else { throw fail("\(field) must be an object") }
    return object
  }

  private static func checkKeys(
    _ object: [String: Any], allowed: Set<String>, field: String, fail: (String) -> CLIError
  ) throws(CLIError) {
    for key in object.keys.sorted() where !allowed.contains(key) {
      let place = field.isEmpty ? key : "\(field).\(key)"
      if secretNames.contains(key.lowercased()) {
        throw fail("'\(place)' looks like a secret: secrets stay in the environment; name the variable instead (…_env)")
      }
      throw fail("'\(place)' is not a config field (expected \(allowed.sorted().joined(separator: ", ")))")
    }
  }

  /// The profile to use: `name` when given, else the one whose Jira projects include
  /// `jiraProject`, else the only one. Nil when none fits (the plain environment is used).
  func select(name: String?, jiraProject: String?) throws(CLIError) -> Profile? {
    if let name {
      guard let profile = profiles.first(where: { $0.name == name }) else {
        throw CLIError(
          "no profile '\(name)' in the config (profiles: \(profiles.map(\.name).joined(separator: ", ")))",
          exitStatus: .usage)
      }
      return profile
    }
    if let project = jiraProject?.uppercased(), let profile = profiles.first(where: { $0.jiraProjects.contains(project) }) {
      return profile
    }
    if profiles.count == 1 { return profiles[0] }
    throw CLIError(
      "the config has several profiles and none is named by --profile"
        + (jiraProject.map { " or owns Jira project '\($0)'" } ?? "") + " (profiles: \(profiles.map(\.name).joined(separator: ", ")))",
      exitStatus: .usage)
  }

  /// The profile that owns `jiraProject`, else the only one; nil when none does (pure).
  func owner(ofJiraProject jiraProject: String) -> Profile? {
    let project = jiraProject.uppercased()
    return profiles.first { $0.jiraProjects.contains(project) } ?? (profiles.count == 1 ? profiles[0] : nil)
  }

  /// The variables `profile` names for its secrets that are unset or empty in `environment`,
  /// so an error can name the variable the user chose rather than the standard one.
  static func unsetSecretVariables(_ profile: Profile, environment: [String: String]) -> [String] {
    [profile.apiKeyEnv, profile.ci?.tokenEnv].compactMap { $0 }.filter { (environment[$0] ?? "").isEmpty }
  }

  /// The name of the profile results go to when none of their Jira keys picks one.
  static let defaultProfileName = "default"

  /// The profile of a set of results, from the Jira issue keys their tests link (pure).
  ///
  /// The keys of projects no profile owns do not vote. When the others all belong to one
  /// profile it is chosen; when no key votes, the profile named `default`; when keys belong
  /// to several profiles, or none votes and there is no `default`, a usage error says which
  /// and asks for `--profile`: one run goes to one Testomat.io project.
  func route(jiraKeys: some Sequence<String>) throws(CLIError) -> Profile {
    var votes: [String: [String]] = [:]
    for key in jiraKeys {
      guard let dash = key.lastIndex(of: "-") else { continue }
      let project = String(key[..<dash]).uppercased()
      guard let profile = profiles.first(where: { $0.jiraProjects.contains(project) }) else { continue }
      if !(votes[profile.name]?.contains(key) ?? false) { votes[profile.name, default: []].append(key) }
    }
    let names = profiles.map(\.name).filter { votes[$0] != nil }
    if names.count == 1, let profile = profiles.first(where: { $0.name == names[0] }) { return profile }
    if names.isEmpty {
      if let profile = profiles.first(where: { $0.name == Self.defaultProfileName }) { return profile }
      throw CLIError(
        "no test in the results links a Jira issue of a profile's project, and the config has no profile named "
          + "'\(Self.defaultProfileName)': pass --profile (profiles: \(profiles.map(\.name).joined(separator: ", ")))",
        exitStatus: .usage)
    }
    let spread = names.map { name in
      let keys = votes[name] ?? []
      return "\(name): \(keys.prefix(3).joined(separator: ", "))\(keys.count > 3 ? ", …" : "")"
    }.joined(separator: "; ")
    throw CLIError(
      "the results link Jira issues of several profiles (\(spread)); one run goes to one Testomat.io project: "
        + "report each profile's tests separately with --profile \(names.joined(separator: "|"))",
      exitStatus: .usage)
  }

  /// The environment a command sees with `profile`: its values replace the standard variables
  /// (`JIRA_URL`, `JIRA_EMAIL`, `JIRA_API_TOKEN`, `JIRA_PAT`, `TESTOMATIO`, `TESTOMATIO_URL`,
  /// `TESTOMATIO_PROJECT`), secrets read from the variables the profile names. With a site of
  /// its own (`url`), a profile's credentials come only from the variables it names, so one
  /// site's token never goes to another.
  static func environment(_ base: [String: String], profile: Profile) -> [String: String] {
    var environment = base
    func take(_ standard: String, from name: String?, only: Bool) {
      if only { environment[standard] = nil }
      guard let name else { return }
      environment[standard] = base[name].flatMap { $0.isEmpty ? nil : $0 }
    }
    let ownJira = profile.jiraURL != nil
    if let url = profile.jiraURL {
      environment["JIRA_URL"] = url
      environment["JIRA_CLOUD_ID"] = nil
    }
    if let deployment = profile.jiraDeployment { environment["JIRA_DEPLOYMENT"] = deployment }
    take("JIRA_EMAIL", from: profile.jiraEmailEnv, only: ownJira)
    take("JIRA_API_TOKEN", from: profile.jiraAPITokenEnv, only: ownJira)
    take("JIRA_PAT", from: profile.jiraPATEnv, only: ownJira)
    let ownTestomatio = profile.testomatioURL != nil || profile.apiKeyEnv != nil
    if let url = profile.testomatioURL { environment["TESTOMATIO_URL"] = url }
    if ownTestomatio {
      for variable in ["TESTOMATIO_API_KEY", "TESTOMATIO_TOKEN"] { environment[variable] = nil }
    }
    take("TESTOMATIO", from: profile.apiKeyEnv, only: ownTestomatio)
    if let project = profile.testomatioProject { environment["TESTOMATIO_PROJECT"] = project }
    return environment
  }

  /// `serve`'s standard CI variables for `target`: the other CI's are removed, so one
  /// profile's token never starts another's pipeline.
  static func ciEnvironment(_ base: [String: String], target: CITarget) -> [String: String] {
    var environment = base
    for variable in [
      "GITHUB_REPOSITORY", "GITHUB_TOKEN", "TESTBRIDGE_GITHUB_WORKFLOW", "TESTBRIDGE_GITHUB_REF",
      "GITLAB_PROJECT_ID", "GITLAB_TRIGGER_TOKEN", "TESTBRIDGE_GITLAB_REF",
    ] {
      environment[variable] = nil
    }
    let token = base[target.tokenEnv].flatMap { $0.isEmpty ? nil : $0 }
    environment["TESTBRIDGE_CI"] = target.provider
    if target.provider == "github" {
      environment["GITHUB_REPOSITORY"] = target.repository
      environment["GITHUB_TOKEN"] = token
      environment["TESTBRIDGE_GITHUB_WORKFLOW"] = target.workflow
      environment["TESTBRIDGE_GITHUB_REF"] = target.ref
      if let url = target.url { environment["GITHUB_API_URL"] = url }
    } else {
      environment["GITLAB_PROJECT_ID"] = target.projectID
      environment["GITLAB_TRIGGER_TOKEN"] = token
      environment["TESTBRIDGE_GITLAB_REF"] = target.ref
      if let url = target.url { environment["GITLAB_URL"] = url }
    }
    return environment
  }

  /// The Jira project a command line names: its scope flags (`trace`), `--jira KEY`
  /// (`linked-tests`, and the issue a run is linked to) or `--filter testomatio:jira=KEY` (`run`).
  static func jiraProject(_ arguments: ParsedArguments) -> String? {
    if let project = arguments.value("jira-project")?.trimmingCharacters(in: .whitespaces), !project.isEmpty {
      return project
    }
    var keys = ["jira-epic", "jira-parent", "jira"].compactMap { arguments.value($0) }
    if let filter = arguments.value("filter").flatMap({ try? RunSelection.parseFilter($0) }), filter.type == "jira" {
      keys.append(filter.id)
    }
    for key in keys {
      if let dash = key.lastIndex(of: "-") {
        return String(key[..<dash]).trimmingCharacters(in: .whitespaces)
      }
    }
    return nil
  }
}

/// How a command's profile was chosen from `--config`.
enum ProfileChoice {
  /// No config: the plain environment.
  case none
  /// The environment of the chosen profile.
  case chosen([String: String])
  /// Several profiles and nothing on the command line decides: `report` and `run` choose from
  /// the results, `serve` for each webhook.
  case pending(PendingProfile)
}

/// A profile still to be chosen by the command itself, with what it needs to parse its command
/// line again once it is.
struct PendingProfile: Sendable {
  var config: ProjectConfig
  var path: String
  var commandLine: [String]
  var spec: CommandSpec

  /// The command's arguments and context with `profile` applied.
  func applying(_ profile: ProjectConfig.Profile, context: CommandContext) throws(CLIError)
    -> (ParsedArguments, CommandContext)
  {
    var context = context
    context.environment = ProjectConfig.environment(context.environment, profile: profile, command: spec.name)
    context.pendingProfile = nil
    do {
      return (try ArgumentParser.parse(commandLine, spec: spec, environment: context.environment), context)
    } catch {
      throw CLIError(error.message, exitStatus: .usage)
    }
  }

  /// The profile of results whose tests link `jiraKeys`, applied, and said on stderr.
  func routing(jiraKeys: some Sequence<String>, context: CommandContext) throws(CLIError)
    -> (ParsedArguments, CommandContext)
  {
    let keys = Array(jiraKeys)
    let profile = try config.route(jiraKeys: keys)
    let owned = keys.filter { key in profile.jiraProjects.contains { key.uppercased().hasPrefix($0 + "-") } }
    let why = owned.isEmpty ? "no test links a profile's Jira project" : "the results link \(owned.prefix(3).joined(separator: ", "))"
    context.stderr.write("testbridge: profile '\(profile.name)' from \(path) (\(why))\n")
    return try applying(profile, context: context)
  }
}

extension ProjectConfig {
  /// Commands that can choose a profile after parsing: from their results, or per webhook.
  static let pendingCommands: Set<String> = ["report", "run", "serve"]

  /// ``environment(_:profile:)``, with the profile's CI target for `serve`.
  static func environment(_ base: [String: String], profile: Profile, command: String) -> [String: String] {
    let environment = environment(base, profile: profile)
    guard command == "serve", let target = profile.ci else { return environment }
    return ciEnvironment(environment, target: target)
  }

  /// For a command with `--config`: the profile `--profile` names, else the one owning the Jira
  /// project the command line names, else the only one. With several profiles and none of
  /// these, `report`, `run` and `serve` choose later; other commands fail with a usage error.
  static func profileChoice(
    _ arguments: ParsedArguments, commandLine: [String], spec: CommandSpec, context: CommandContext
  ) throws(CLIError) -> ProfileChoice {
    guard arguments.value("config") != nil || arguments.value("profile") != nil else { return .none }
    guard let path = arguments.value("config")?.trimmingCharacters(in: .whitespaces), !path.isEmpty else {
      throw CLIError("--profile needs a config file: pass --config FILE or set TESTBRIDGE_CONFIG", exitStatus: .usage)
    }
    guard let data = FileManager.default.contents(atPath: context.absolutePath(path)) else {
      throw CLIError("cannot read the config file '\(path)'", exitStatus: .usage)
    }
    let config = try parse(data, path: path)
    let name = arguments.value("profile")?.trimmingCharacters(in: .whitespaces).nilIfEmpty
    let project = jiraProject(arguments)
    if name == nil, config.profiles.count > 1, pendingCommands.contains(spec.name),
      project.flatMap({ config.owner(ofJiraProject: $0) }) == nil
    {
      return .pending(PendingProfile(config: config, path: path, commandLine: commandLine, spec: spec))
    }
    guard let profile = try config.select(name: name, jiraProject: project) else { return .none }
    context.stderr.write("testbridge: profile '\(profile.name)' from \(path)\n")
    return .chosen(environment(context.environment, profile: profile, command: spec.name))
  }
}

extension BridgeCLI {
  /// ``ProjectConfig/profileChoice(_:commandLine:spec:context:)`` with its problems as usage errors.
  static func profileChoice(_ arguments: ParsedArguments, commandLine: [String], spec: CommandSpec, context: CommandContext)
    throws(UsageError) -> ProfileChoice
  {
    do {
      return try ProjectConfig.profileChoice(arguments, commandLine: commandLine, spec: spec, context: context)
    } catch {
      throw UsageError(message: error.message, commandName: spec.name)
    }
  }
}

extension String {
  fileprivate var nilIfEmpty: String? { isEmpty ? nil : self }
}
