import BridgeCore
import Foundation

/// CI-native output of `run` and `manual`, picked from the environment:
/// GitHub Actions gets a job summary, `::error` annotations and step outputs;
/// GitLab CI gets a collapsible section around the command's log. Elsewhere
/// (a terminal, other CI) nothing extra is written.
struct CIReporter {
  let ci: CIEnvironment
  let environment: [String: String]
  let context: CommandContext

  /// Annotations printed at most (GitHub shows only some per step anyway).
  static let annotationCap = 50
  static let sectionName = "testbridge_command"

  init(context: CommandContext) {
    self.context = context
    self.environment = context.environment
    self.ci = CIEnvironment.detect(context.environment)
  }

  var isGitHub: Bool { ci.provider == .githubActions }
  var isGitLab: Bool { ci.provider == .gitlabCI }

  /// Opens the GitLab section the command's output goes in.
  func commandStarting(_ display: String, at time: Date = Date()) {
    guard isGitLab else { return }
    context.stdout.write(GitLabOutput.sectionStart(Self.sectionName, header: "$ \(display)", collapsed: false, at: time))
    context.stdout.flush()
  }

  /// Closes the GitLab section.
  func commandFinished(at time: Date = Date()) {
    guard isGitLab else { return }
    context.stdout.write(GitLabOutput.sectionEnd(Self.sectionName, at: time))
    context.stdout.flush()
  }

  /// What GitHub Actions is told at the end.
  struct Publication {
    var title: String
    var totals: RunTotals
    var failing: [TestCaseResult]
    var runURL: String?
    /// Why the job is red when no test says so (the command failed, timed out, was not found).
    var failureNote: String?
    /// Extra lines for the summary (no report found, stale reports skipped).
    var notes: [String] = []
  }

  /// Writes the job summary, the annotations and the step outputs (GitHub Actions only).
  func publish(_ publication: Publication) {
    guard isGitHub else { return }
    var links: [(String, String)] = []
    if let url = publication.runURL { links.append(("Testomat.io run", url)) }
    if let build = ci.buildURL { links.append(("CI build", build)) }
    var summary = GitHubOutput.summary(
      title: publication.title, totals: publication.totals, failing: publication.failing, links: links)
    // The summary's mark follows the tests; a command that failed without a failing test is red too.
    if publication.failureNote != nil, !publication.totals.hasFailures, summary.hasPrefix("### ✅") {
      summary = "### ❌" + summary.dropFirst("### ✅".count)
    }
    for note in ([publication.failureNote].compactMap { $0 } + publication.notes) {
      summary += "\n> " + GitHubOutput.markdownEscape(note) + "\n"
    }
    append(summary + "\n", toFileIn: "GITHUB_STEP_SUMMARY")

    var annotations = GitHubOutput.annotations(failing: publication.failing, cap: Self.annotationCap)
    if let note = publication.failureNote, annotations.isEmpty {
      annotations.append("::error title=testbridge::\(GitHubOutput.escapeData(note))")
    }
    for line in annotations { context.stdout.write(line + "\n") }
    append(GitHubOutput.outputs(runURL: publication.runURL, totals: publication.totals), toFileIn: "GITHUB_OUTPUT")
  }

  /// Appends to the file an environment variable names; a problem is a warning, never fatal.
  private func append(_ text: String, toFileIn variable: String) {
    guard let path = environment[variable], !path.isEmpty else { return }
    let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else {
      context.warn("cannot write $\(variable) '\(path)': \(String(cString: strerror(errno)))")
      return
    }
    defer { close(descriptor) }
    if let failure = Array(text.utf8).withUnsafeBytes({ FileDescriptorIO.writeAll(descriptor, $0) }) {
      context.warn("cannot write $\(variable) '\(path)': \(String(cString: strerror(failure)))")
    }
  }
}
