import BridgeCore
import Testing

@Suite struct DurationParserTests {
  @Test(arguments: [
    ("1.5", 1.5), ("  2 ", 2), ("1e-3", 0.001), ("0,5", 0.5), ("2,503.1", 2503.1),
    ("1,234,567", 1_234_567), ("-4", 0),
  ] as [(String, Double)])
  func readable(raw: String, seconds: Double) {
    #expect(DurationParser.seconds(raw) == seconds)
  }

  @Test(arguments: ["", "fast", "NaN", "inf", "1.2.3"])
  func unreadableIsUnknown(raw: String) {
    #expect(DurationParser.seconds(raw) == nil)
  }

  @Test func missingIsUnknown() {
    #expect(DurationParser.seconds(nil) == nil)
  }

  /// Plain decimals take a shortcut; it must read exactly what strtod reads
  /// (Swift's `Double(String)`), up to the 17 digits it takes and past them.
  @Test func plainDecimalsReadAsStrtodDoes() {
    var generator = SystemRandomNumberGenerator()
    let edges = [".", "5.", ".5", "0", "0.000", "1000000000", "1000000000.001", "12345678901234567", "123456789012345678",
      "9007199254740993", "0.30000000000000004", "99999999999999999", "4.35", "0.1"]
    var inputs = edges
    for _ in 0..<5_000 {
      let digits = Int.random(in: 1...19, using: &generator)
      var text = String((0..<digits).map { _ in Character(String(Int.random(in: 0...9, using: &generator))) })
      if Bool.random(using: &generator) { text.insert(".", at: text.index(text.startIndex, offsetBy: Int.random(in: 0...digits))) }
      inputs.append(text)
    }
    for text in inputs {
      let expected = Double(text).flatMap { $0 <= DurationParser.maxSeconds ? $0 : nil }
      #expect(DurationParser.seconds(text) == expected, "\(text)")
    }
  }
}

@Suite struct TestIdentifiersTests {
  @Test(arguments: [
    ("login works @T1a2b3c4d", "1a2b3c4d"),
    ("@T1a2b3c4d at start", "1a2b3c4d"),
    ("too long @T1a2b3c4d5", nil),
    ("too short @T1a2b3c", nil),
    ("no id", nil),
  ] as [(String, String?)])
  func idInTitle(title: String, id: String?) {
    #expect(TestIdentifiers.testomatioID(inTitle: title) == id)
  }

  @Test func idInOutputAndProperties() {
    #expect(TestIdentifiers.testomatioID(inOutput: "a\n[ID] tid://@Tabcdef12\nb") == "abcdef12")
    #expect(TestIdentifiers.testomatioID(inOutput: "tid://@Tabc") == nil)
    #expect(TestIdentifiers.testomatioID(inPropertyValue: "@T1a2b3c4d") == "1a2b3c4d")
    #expect(TestIdentifiers.testomatioID(inPropertyValue: "T1a2b3c4d") == "1a2b3c4d")
    #expect(TestIdentifiers.testomatioID(inPropertyValue: " 1a2b3c4d ") == "1a2b3c4d")
    #expect(TestIdentifiers.testomatioID(inPropertyValue: "1a2b3c4") == nil)
  }

  @Test(arguments: [
    ("PROJ-1", ["PROJ-1"]),
    ("PROJ-1, OPS-22 ABC_1-3", ["PROJ-1", "OPS-22", "ABC_1-3"]),
    ("see https://jira/browse/PROJ-7?x", ["PROJ-7"]),
    ("proj-1 P-0 X-01", []),
    ("PROJ-1 PROJ-1", ["PROJ-1"]),
    ("UTF-8", ["UTF-8"]),
  ] as [(String, [String])])
  func jiraKeysInProperties(value: String, keys: [String]) {
    #expect(TestIdentifiers.jiraKeys(inPropertyValue: value) == keys)
  }

  @Test func jiraKeysInTitlesNeedTheAtSign() {
    #expect(TestIdentifiers.jiraKeys(inTitle: "checkout @PROJ-12 handles UTF-8 @OPS-3") == ["PROJ-12", "OPS-3"])
    #expect(TestIdentifiers.jiraKeys(inTitle: "mentions PROJ-12 without tag") == [])
    #expect(TestIdentifiers.isJiraKey("PROJ-12"))
    #expect(!TestIdentifiers.isJiraKey("PROJ-12x"))
  }
}

@Suite struct CappedTextTests {
  @Test func keepsShortTextWhole() {
    var text = CappedText(limit: 10)
    text.append("héllo")
    #expect(text.text == "héllo")
  }

  @Test func cutsAtACharacterBoundaryAndSaysHowMuchWasDropped() {
    var text = CappedText(limit: 4)
    text.append("abcé")  // 5 bytes: é is 2 bytes and straddles the limit
    text.append("xyz")
    #expect(text.text == "abc\n[testbridge: output truncated, 5 more bytes]")
  }
}

@Suite struct StatusRulesTests {
  func attempt(_ kinds: [ResultElement.Kind], status: String? = nil) -> TestCaseResult {
    TestCaseResult(name: "t", statusAttribute: status, results: kinds.map { ResultElement(kind: $0) })
  }

  @Test func precedenceIsErrorFailureSkippedPassed() {
    #expect(attempt([.skipped, .failure, .error]).status == .error)
    #expect(attempt([.skipped, .failure]).status == .failed)
    #expect(attempt([.skipped]).status == .skipped)
    #expect(attempt([]).status == .passed)
    #expect(attempt([], status: "disabled").status == .skipped)
    #expect(attempt([.failure], status: "disabled").status == .failed)
    #expect(attempt([.flakyFailure]).status == .passed)
  }

  @Test func outcomesOfAttempts() {
    #expect(StatusRules.outcome(of: [attempt([.failure]), attempt([])]) == .flaky)
    #expect(StatusRules.outcome(of: [attempt([.error]), attempt([])]) == .flaky)
    #expect(StatusRules.outcome(of: [attempt([]), attempt([.failure])]) == .failed)
    #expect(StatusRules.outcome(of: [attempt([.skipped]), attempt([])]) == .passed)
    #expect(StatusRules.outcome(of: [attempt([.flakyError])]) == .flaky)
    #expect(StatusRules.outcome(of: [attempt([.failure, .rerunFailure])]) == .failed)
    #expect(StatusRules.outcome(of: [attempt([]), attempt([.skipped])]) == .skipped)
  }
}
