import Runner
import Testing

@Suite struct ManualPlanParserTests {
  static let plan = """
    # Checkout release plan
    Run against staging.

    Use the demo shop.

    ## Login works @T1a2b3c4d @SHOP-12
    Use the demo account.
    1. Open the login page
       Expected: the form is shown
    2. Enter valid credentials
       and press Enter
    - **Expected:** the dashboard appears
    3) Seed the data: `$ make seed`
    $ curl -s localhost:8080/health
    Expected: prints ok

    ## Checkout total @SHOP-7 @OPS-3
    1. Add two items
    ```
    ## not a heading inside a fence
    ```
    $ echo done
    """

  @Test func readsTitleDescriptionAndTests() throws {
    let plan = try ManualPlanParser.parse(Self.plan, path: "plans/checkout.md")
    #expect(plan.title == "Checkout release plan")
    #expect(plan.description == "Run against staging.\n\nUse the demo shop.")
    #expect(plan.path == "plans/checkout.md")
    #expect(plan.tests.map(\.title) == ["Login works", "Checkout total"])
  }

  @Test func headingCarriesIdAndJiraTags() throws {
    let plan = try ManualPlanParser.parse(Self.plan, path: "p.md")
    let login = plan.tests[0]
    #expect(login.heading == "Login works @T1a2b3c4d @SHOP-12")
    #expect(login.testomatioID == "1a2b3c4d")
    #expect(login.jiraKeys == ["SHOP-12"])
    #expect(login.line == 6)
    #expect(login.description == "Use the demo account.")
    #expect(plan.tests[1].testomatioID == nil)
    #expect(plan.tests[1].jiraKeys == ["SHOP-7", "OPS-3"])
  }

  @Test func stepsExpectationsAndCommands() throws {
    let steps = try ManualPlanParser.parse(Self.plan, path: "p.md").tests[0].steps
    #expect(steps.count == 4)
    #expect(steps[0] == ManualStep(text: "Open the login page", expected: "the form is shown", line: 8))
    #expect(steps[1].text == "Enter valid credentials\nand press Enter")
    #expect(steps[1].expected == "the dashboard appears")
    #expect(steps[1].command == nil)
    #expect(steps[2].text == "Seed the data: `$ make seed`")
    #expect(steps[2].command == "make seed")
    // A `$` line after a step that already has a command becomes a step of its own.
    #expect(steps[3] == ManualStep(text: "$ curl -s localhost:8080/health", expected: "prints ok",
      command: "curl -s localhost:8080/health", line: 14))
  }

  @Test func fencedCodeIsTextAndDollarLineAttachesToTheStepAbove() throws {
    let checkout = try ManualPlanParser.parse(Self.plan, path: "p.md").tests[1]
    #expect(checkout.steps.count == 1)
    #expect(checkout.steps[0].text == "Add two items\n```\n## not a heading inside a fence\n```")
    #expect(checkout.steps[0].command == "echo done")
  }

  @Test func titleFallsBackToTheFileName() throws {
    let plan = try ManualPlanParser.parse("## Only test\n1. Do it\n", path: "/tmp/smoke-tests.md")
    #expect(plan.title == "smoke-tests")
    #expect(plan.description == "")
  }

  @Test func testWithOnlyADescriptionIsAllowed() throws {
    let plan = try ManualPlanParser.parse("## App starts\nOpen the app and look around.\n", path: "p.md")
    #expect(plan.tests[0].steps.isEmpty)
    #expect(plan.tests[0].description == "Open the app and look around.")
  }

  @Test(arguments: [
    ("# Title\nJust text\n", 3, "no tests: start each test with a '## Title' heading"),
    ("## Login\n1. a\n## Login @T1a2b3c4d\n1. b\n", 3, "duplicate test title 'Login' (first at line 1)"),
    ("## A @T1a2b3c4d\n1. a\n## B @T1a2b3c4d\n1. b\n", 3, "duplicate test id '@T1a2b3c4d' (first at line 1)"),
    ("## A\nExpected: something\n", 2, "'Expected:' before the first step of test 'A'"),
    ("## A\n1. a\n# Late title\n", 3, "the '#' plan title must come before the first '##' test"),
    ("# One\n# Two\n## A\n1. a\n", 2, "a second '#' plan title (the first is at line 1)"),
    ("## \n1. a\n", 1, "test heading without a title"),
    ("## @T1a2b3c4d @PROJ-1\n1. a\n", 1, "test heading '@T1a2b3c4d @PROJ-1' has tags but no title"),
    ("## A\n1. a\n## B\n\n## C\n1. c\n", 3, "test 'B' has no steps"),
    ("## A\n1. a\n```\ncode\n", 3, "code fence is never closed"),
    ("## A\n1. a\nExpected:\n", 3, "empty 'Expected:'"),
  ] as [(String, Int, String)])
  func errorsNameFileAndLine(text: String, line: Int, message: String) {
    #expect(throws: ManualPlanError.invalid(path: "plan.md", line: line, message: message)) {
      try ManualPlanParser.parse(text, path: "plan.md")
    }
  }

  @Test func errorDescriptionStartsWithFileAndLine() {
    let error = ManualPlanError.invalid(path: "plan.md", line: 3, message: "duplicate test title 'Login'")
    #expect(error.description == "plan.md:3: duplicate test title 'Login'")
  }

  @Test func windowsLineEndingsAndClosingHashes() throws {
    let plan = try ManualPlanParser.parse("# Plan #\r\n## Login ##\r\n1. Open\r\nExpected: ok\r\n", path: "p.md")
    #expect(plan.title == "Plan")
    #expect(plan.tests[0].title == "Login")
    #expect(plan.tests[0].steps[0].expected == "ok")
  }
}
