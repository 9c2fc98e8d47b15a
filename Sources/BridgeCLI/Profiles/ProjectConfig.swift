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
///             "api_token_env": "JIRA_TOKEN_ACME", "projects": ["SHOP", "CART"]}}
/// ]}
/// ```
struct ProjectConfig: Sendable, Hashable {
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
  }

  var profiles: [Profile]

  /// Options of a command that can take its connection from a profile.
  static let options: [OptionSpec] = [
    OptionSpec(
      "config", valueName: "FILE", help: "Config file naming several Testomat.io and Jira projects (profiles).",
      environment: ["TESTBRIDGE_CONFIG"]),
    OptionSpec(
      "profile", valueName: "NAME",
      help: "The profile of --config to use. (default: the one whose Jira projects include the scope's project)",
      environment: ["TESTBRIDGE_PROFILE"]),
  ]

  private static let secretNames: Set<String> = [
    "api_key", "apikey", "key", "token", "api_token", "pat", "password", "secret", "testomatio", "jira_api_token",
    "jira_pat",
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
      try checkKeys(object, allowed: ["name", "testomatio", "jira"], field: field, fail: fail)
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
          jiraPATEnv: try text(jira, "pat_env", "\(field).jira"), jiraProjects: projects))
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

  /// The Jira project a command line names through its scope flags.
  static func jiraProject(_ arguments: ParsedArguments) -> String? {
    if let project = arguments.value("jira-project")?.trimmingCharacters(in: .whitespaces), !project.isEmpty {
      return project
    }
    for name in ["jira-epic", "jira-parent"] {
      if let key = arguments.value(name), let dash = key.lastIndex(of: "-") {
        return String(key[..<dash]).trimmingCharacters(in: .whitespaces)
      }
    }
    return nil
  }
}

extension ProjectConfig {
  /// For a command with `--config`: the environment of the selected profile, or nil when no
  /// config is given (or the command takes none).
  static func profileEnvironment(_ arguments: ParsedArguments, context: CommandContext) throws(CLIError)
    -> [String: String]?
  {
    guard arguments.value("config") != nil || arguments.value("profile") != nil else { return nil }
    guard let path = arguments.value("config")?.trimmingCharacters(in: .whitespaces), !path.isEmpty else {
      throw CLIError("--profile needs a config file: pass --config FILE or set TESTBRIDGE_CONFIG", exitStatus: .usage)
    }
    guard let data = FileManager.default.contents(atPath: context.absolutePath(path)) else {
      throw CLIError("cannot read the config file '\(path)'", exitStatus: .usage)
    }
    let config = try parse(data, path: path)
    let name = arguments.value("profile")?.trimmingCharacters(in: .whitespaces)
    guard let profile = try config.select(name: name?.isEmpty == false ? name : nil, jiraProject: jiraProject(arguments))
    else { return nil }
    context.stderr.write("testbridge: profile '\(profile.name)' from \(path)\n")
    return environment(context.environment, profile: profile)
  }
}

extension BridgeCLI {
  /// ``ProjectConfig/profileEnvironment(_:context:)`` with its problems as usage errors.
  static func profileEnvironment(_ arguments: ParsedArguments, command: String, context: CommandContext)
    throws(UsageError) -> [String: String]?
  {
    do {
      return try ProjectConfig.profileEnvironment(arguments, context: context)
    } catch {
      throw UsageError(message: error.message, commandName: command)
    }
  }
}
