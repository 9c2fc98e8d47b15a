import Runner
import Testing

@Suite struct AnswersFileTests {
  static let plan = ManualPlan(
    path: "plan.md", title: "Checkout",
    tests: [
      ManualTest(title: "Login works", heading: "Login works @T1a2b3c4d", testomatioID: "1a2b3c4d", line: 3),
      ManualTest(title: "Checkout total", line: 7),
      ManualTest(title: "Refunds", heading: "Refunds @PAY-9", jiraKeys: ["PAY-9"], line: 11),
    ])

  @Test func parsesOutcomesReferencesAndNotes() throws {
    let text = """
      # release 4.2 on staging

      pass  Login works
      fail  Checkout total — note: rounding off by 1
      SKIPPED @T1a2b3c4d
      failed Refunds @PAY-9 -- Note: refund button missing
      pass @T1a2b3c4d Login works
      """
    let answers = try AnswersFile.parse(text, path: "answers.txt")
    #expect(answers == [
      ManualAnswer(reference: .title("Login works"), outcome: .pass, line: 3),
      ManualAnswer(reference: .title("Checkout total"), outcome: .fail, note: "rounding off by 1", line: 4),
      ManualAnswer(reference: .id("1a2b3c4d"), outcome: .skip, line: 5),
      ManualAnswer(reference: .title("Refunds @PAY-9"), outcome: .fail, note: "refund button missing", line: 6),
      ManualAnswer(reference: .id("1a2b3c4d"), outcome: .pass, line: 7),
    ])
  }

  @Test(arguments: [
    ("maybe Login works", 1, "unknown outcome 'maybe': use pass, fail or skip"),
    ("# c\npass", 2, "'pass' needs a test title or '@T' id after it"),
    ("fail note: only a note", 1, "'fail' needs a test title or '@T' id after it"),
  ] as [(String, Int, String)])
  func syntaxErrorsNameFileAndLine(text: String, line: Int, message: String) {
    #expect(throws: ManualPlanError.invalid(path: "answers.txt", line: line, message: message)) {
      try AnswersFile.parse(text, path: "answers.txt")
    }
  }

  @Test func matchesByIdExactTitleOrFullHeading() throws {
    let answers = try AnswersFile.parse(
      "skip @T1a2b3c4d\nfail Checkout total\npass Refunds @PAY-9\n", path: "a.txt")
    let matched = try AnswersFile.match(answers, to: Self.plan, path: "a.txt")
    #expect(matched.mapValues(\.outcome) == [0: .skip, 1: .fail, 2: .pass])
  }

  @Test func unknownTestsAndSecondAnswersAreErrors() throws {
    let unknown = try AnswersFile.parse("pass login works\n", path: "a.txt")  // titles match exactly
    #expect(throws: ManualPlanError.invalid(path: "a.txt", line: 1, message: "no test titled 'login works' in plan 'plan.md'")) {
      try AnswersFile.match(unknown, to: Self.plan, path: "a.txt")
    }
    let unknownID = try AnswersFile.parse("pass @Tffffffff\n", path: "a.txt")
    #expect(throws: ManualPlanError.invalid(path: "a.txt", line: 1, message: "no test with id '@Tffffffff' in plan 'plan.md'")) {
      try AnswersFile.match(unknownID, to: Self.plan, path: "a.txt")
    }
    let twice = try AnswersFile.parse("pass Login works\n\nfail @T1a2b3c4d\n", path: "a.txt")
    #expect(throws: ManualPlanError.invalid(path: "a.txt", line: 3, message: "second answer for test 'Login works' (first at line 1)")) {
      try AnswersFile.match(twice, to: Self.plan, path: "a.txt")
    }
  }
}
