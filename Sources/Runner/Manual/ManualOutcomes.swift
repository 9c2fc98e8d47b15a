import BridgeCore

/// Turns a plan and its answers into results for the JUnit writer and the reporters.
public enum ManualOutcomes {
  /// The message of a test nobody answered.
  public static let notAnsweredMessage = "not answered"

  /// One result per test, in plan order.
  ///
  /// pass gives a passed result; fail a `<failure>` whose message is the note;
  /// skip a `<skipped>` with the note; no answer a `<skipped>` "not answered".
  /// Suite path is the plan title, classname `manual`, `file`/`line` the heading.
  /// Answers naming no test are ignored; the first answer for a test counts.
  public static func results(plan: ManualPlan, answers: [ManualAnswer]) -> [TestCaseResult] {
    var byTest: [Int: ManualAnswer] = [:]
    for answer in answers {
      guard let index = plan.index(of: answer.reference), byTest[index] == nil else { continue }
      byTest[index] = answer
    }
    return plan.tests.enumerated().map { index, test in
      var result = TestCaseResult(
        suitePath: [plan.title], classname: "manual", name: test.title, file: plan.path, line: test.line,
        testomatioID: test.testomatioID, jiraKeys: test.jiraKeys)
      switch byTest[index] {
      case .some(let answer):
        switch answer.outcome {
        case .pass: break
        case .fail: result.results = [ResultElement(kind: .failure, message: answer.note)]
        case .skip: result.results = [ResultElement(kind: .skipped, message: answer.note)]
        }
      case .none:
        result.results = [ResultElement(kind: .skipped, message: notAnsweredMessage)]
      }
      return result
    }
  }
}
