import Foundation

/// The CI system a command runs under, read from its own environment variables.
public struct CIEnvironment: Sendable, Hashable {
  public enum Provider: String, Sendable, Hashable {
    case githubActions = "GitHub Actions"
    case gitlabCI = "GitLab CI"
    case jenkins = "Jenkins"
    case circleCI = "CircleCI"
    case local = "local"
  }

  public var provider: Provider
  /// Link to this build, for `ci_build_url` and Jira links.
  public var buildURL: String?
  public var branch: String?
  public var commit: String?
  /// The pipeline as a whole (GitHub: repository and run id; GitLab: project and pipeline
  /// id). Every job of one pipeline, and every re-run of its jobs, has the same identity;
  /// a new pipeline never does.
  public var pipelineIdentity: String?
  /// How many times this job has been run (GitHub `GITHUB_RUN_ATTEMPT`; GitLab job ids grow).
  public var attempt: Int?
  /// This job's place in a matrix / `parallel:` set, 1-based, and the set's size.
  public var shardIndex: Int?
  public var shardTotal: Int?
  /// When the pipeline began: `TESTBRIDGE_PIPELINE_STARTED_AT` (ISO 8601 or Unix seconds),
  /// else GitLab's `CI_PIPELINE_CREATED_AT`. GitHub Actions names no such time.
  public var pipelineStartedAt: Date?

  public init(
    provider: Provider, buildURL: String? = nil, branch: String? = nil, commit: String? = nil,
    pipelineIdentity: String? = nil, attempt: Int? = nil, shardIndex: Int? = nil, shardTotal: Int? = nil
  ) {
    self.provider = provider
    self.buildURL = buildURL
    self.branch = branch
    self.commit = commit
    self.pipelineIdentity = pipelineIdentity
    self.attempt = attempt
    self.shardIndex = shardIndex
    self.shardTotal = shardTotal
  }

  /// Reads the environment the way the official reporter works out `ci_build_url`:
  /// Jenkins `BUILD_URL`, GitLab `CI_JOB_URL`, CircleCI `CIRCLE_BUILD_URL`, then
  /// GitHub's `GITHUB_SERVER_URL/GITHUB_REPOSITORY/actions/runs/GITHUB_RUN_ID`.
  public static func detect(_ environment: [String: String]) -> CIEnvironment {
    var ci = detectProvider(environment)
    let started = [environment["TESTBRIDGE_PIPELINE_STARTED_AT"]]
      + (ci.provider == .gitlabCI ? [environment["CI_PIPELINE_CREATED_AT"]] : [])
    ci.pipelineStartedAt = started.lazy.compactMap { $0.flatMap(Self.time) }.first
    return ci
  }

  /// An ISO 8601 time, or Unix seconds.
  static func time(_ text: String) -> Date? {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    if let seconds = Double(trimmed), seconds.isFinite, seconds > 0 { return Date(timeIntervalSince1970: seconds) }
    return ISO8601Time.parse(trimmed)
  }

  private static func detectProvider(_ environment: [String: String]) -> CIEnvironment {
    func value(_ name: String) -> String? {
      guard let text = environment[name], !text.isEmpty else { return nil }
      return text
    }
    if value("GITHUB_ACTIONS") == "true" || value("GITHUB_RUN_ID") != nil {
      var url: String?
      if let repository = value("GITHUB_REPOSITORY"), let runID = value("GITHUB_RUN_ID") {
        let server = value("GITHUB_SERVER_URL") ?? "https://github.com"
        url = "\(server)/\(repository)/actions/runs/\(runID)"
        if let attempt = value("GITHUB_RUN_ATTEMPT"), attempt != "1" { url! += "/attempts/\(attempt)" }
      }
      return CIEnvironment(
        provider: .githubActions, buildURL: value("BUILD_URL") ?? url,
        branch: value("GITHUB_HEAD_REF") ?? value("GITHUB_REF_NAME"), commit: value("GITHUB_SHA"),
        pipelineIdentity: value("GITHUB_RUN_ID").map { "github:\(value("GITHUB_REPOSITORY") ?? "?"):\($0)" },
        attempt: value("GITHUB_RUN_ATTEMPT").flatMap { Int($0) })
    }
    if value("GITLAB_CI") != nil || value("CI_JOB_URL") != nil {
      return CIEnvironment(
        provider: .gitlabCI, buildURL: value("BUILD_URL") ?? value("CI_JOB_URL"),
        branch: value("CI_COMMIT_REF_NAME"), commit: value("CI_COMMIT_SHA"),
        pipelineIdentity: value("CI_PIPELINE_ID").map { "gitlab:\(value("CI_PROJECT_PATH") ?? value("CI_PROJECT_ID") ?? "?"):\($0)" },
        attempt: value("CI_JOB_ID").flatMap { Int($0) },
        shardIndex: value("CI_NODE_INDEX").flatMap { Int($0) }, shardTotal: value("CI_NODE_TOTAL").flatMap { Int($0) })
    }
    if let url = value("BUILD_URL") {
      return CIEnvironment(provider: .jenkins, buildURL: url, branch: value("GIT_BRANCH"), commit: value("GIT_COMMIT"))
    }
    if let url = value("CIRCLE_BUILD_URL") {
      return CIEnvironment(provider: .circleCI, buildURL: url, branch: value("CIRCLE_BRANCH"), commit: value("CIRCLE_SHA1"))
    }
    return CIEnvironment(provider: .local)
  }
}
