/// The deterministic status rules (documented in the README).
///
/// Per testcase: error > failure > skipped > passed. A `status` attribute that
/// says the test did not run (`disabled`, `skipped`, `notrun`...) counts as
/// skipped when no failure or error element says otherwise.
/// Per logical test: the final attempt decides, except that a final pass after
/// an earlier failed attempt (a repeated testcase, or Surefire `flaky*` /
/// `rerun*` elements) is `flaky`. A flaky test is never counted as failed.
public enum StatusRules {
  /// `status` attribute values that mean the testcase did not run.
  static let notRunStatusAttributes: Set<String> = [
    "disabled", "skipped", "skip", "notrun", "not_run", "ignored", "pending", "excluded",
  ]

  public static func status(of testcase: TestCaseResult) -> TestStatus {
    status(results: testcase.results, statusAttribute: testcase.statusAttribute)
  }

  /// The status of an attempt with these result elements and `status` attribute (lowercased).
  public static func status(results: [ResultElement], statusAttribute: String?) -> TestStatus {
    var sawFailure = false
    var sawSkipped = false
    for result in results {
      switch result.kind {
      case .error: return .error
      case .failure: sawFailure = true
      case .skipped: sawSkipped = true
      case .flakyFailure, .flakyError, .rerunFailure, .rerunError: break
      }
    }
    if sawFailure { return .failed }
    if sawSkipped { return .skipped }
    if let attribute = statusAttribute, notRunStatusAttributes.contains(attribute) {
      return .skipped
    }
    return .passed
  }

  public static func decidingResult(of testcase: TestCaseResult) -> ResultElement? {
    switch status(of: testcase) {
    case .error: return testcase.results.first { $0.kind == .error }
    case .failed: return testcase.results.first { $0.kind == .failure }
    case .skipped: return testcase.results.first { $0.kind == .skipped }
    case .passed: return nil
    }
  }

  /// Outcome of a logical test from its attempts, in the order they were read.
  public static func outcome(of attempts: [TestCaseResult]) -> TestOutcome {
    guard let final = attempts.last else { return .skipped }
    let finalStatus = final.status
    guard finalStatus == .passed else { return TestOutcome(finalStatus) }
    let failedBefore = attempts.dropLast().contains { $0.status == .failed || $0.status == .error }
    let finalHadReruns = final.results.contains { $0.kind.isRerun }
    return failedBefore || finalHadReruns ? .flaky : .passed
  }
}

extension TestOutcome {
  public init(_ status: TestStatus) {
    switch status {
    case .passed: self = .passed
    case .failed: self = .failed
    case .error: self = .error
    case .skipped: self = .skipped
    }
  }
}
