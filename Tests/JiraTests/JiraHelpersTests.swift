import BridgeCore
import Foundation
import Jira
import Testing

@Suite struct TestomatioTestsPropertyTests {
  @Test func keyFollowsTheProjectSlug() {
    #expect(TestomatioTestsProperty.key(projectSlug: "shop-e2e") == "shop-e2e.testomatio.tests")
  }

  @Test(arguments: [
    // A flat list of tagged ids.
    (#"["@T1a2b3c4d", "@T5e6f7a8b"]"#, ["1a2b3c4d", "5e6f7a8b"]),
    // Bare ids in a list, with and without the T.
    (#"["1a2b3c4d", "T5e6f7a8b"]"#, ["1a2b3c4d", "5e6f7a8b"]),
    // Objects with id members, nested.
    (#"{"tests": [{"id": "1a2b3c4d", "title": "login"}, {"test_id": "@T5e6f7a8b"}]}"#, ["1a2b3c4d", "5e6f7a8b"]),
    // An object keyed by ids under "tests".
    (#"{"tests": {"9c0d1e2f": {"status": "linked"}, "1a2b3c4d": {}}}"#, ["1a2b3c4d", "9c0d1e2f"]),
    // Ids mentioned in free text, several in one string.
    (#"{"note": "covers @T1a2b3c4d and @T5e6f7a8b; not @T123"}"#, ["1a2b3c4d", "5e6f7a8b"]),
    // Tagged ids as member names anywhere.
    (#"{"suites": {"@S00000001": {"@T9c0d1e2f": true}}}"#, ["9c0d1e2f"]),
    // Deep nesting and duplicates.
    (#"{"a": {"b": [[{"c": ["@T1a2b3c4d"]}], "@T1a2b3c4d"]}}"#, ["1a2b3c4d"]),
    // A single string value.
    (#""@Tabcdef12""#, ["abcdef12"]),
    // Eight-letter words that are not in an id position are not ids; nine characters are never ids.
    (#"{"status": "finished", "tests": ["@T123456789", "123456789"], "owner": "qa-team1"}"#, []),
    // Nor are words in id positions: a bare id is 8 lowercase hex digits, with or without T.
    (#"["frontend", "complete", "Tutorials", "T1A2B3C4D", "1A2B3C4D", "@1a2b3c4d", "1a2b3c4g"]"#, []),
    (#"{"tests": [{"id": "frontend"}, {"test_id": "Tbackends"}], "ids": {"checkout": {}}}"#, []),
    (#"{"labels": ["frontend", "deadbeef"], "tests": {"frontend": 1, "T9c0d1e2f": 2}}"#, ["deadbeef", "9c0d1e2f"]),
    // Bare hex, with spaces around it, and all digits.
    (#"[" 1a2b3c4d ", "T20260301"]"#, ["1a2b3c4d", "20260301"]),
    // With the @T tag any 8 word characters are an id, as Testomat.io's reporters match them.
    (#"["@Tfrontend", "covers @TAbC_1234."]"#, ["frontend", "AbC_1234"]),
    // Not JSON.
    (#"{"tests": ["@T1a2b3c4d""#, []),
  ] as [(String, [String])])
  func idsAreFoundWhateverTheNesting(json: String, expected: [String]) {
    #expect(TestomatioTestsProperty.testIDs(in: Data(json.utf8)) == expected)
  }
}

@Suite struct RunHistoryPropertyTests {
  private func run(_ id: String, title: String = "Nightly", failed: Int = 0) -> RunSummary {
    RunSummary(
      runID: id, title: title, url: "https://app.testomat.io/projects/shop/runs/\(id)",
      status: failed > 0 ? "failed" : "passed", counts: JiraRunCounts(passed: 12, failed: failed, skipped: 1, flaky: 1),
      at: Date(timeIntervalSince1970: 1_772_359_200))
  }

  @Test func encodesTheDocumentedShape() throws {
    var history = RunHistoryProperty()
    history.record(run("a1b2c3d4", failed: 1))
    let expected =
      #"{"runs":[{"at":"2026-03-01T10:00:00Z","failed":1,"flaky":1,"passed":12,"run_id":"a1b2c3d4","skipped":1,"status":"failed","title":"Nightly","url":"https://app.testomat.io/projects/shop/runs/a1b2c3d4"}],"version":1}"#
    #expect(history.encoded().text == expected)
    #expect(RunHistoryProperty.decode(history.encoded()) == history)
    #expect(RunHistoryProperty.key == "testbridge.runs")
  }

  @Test func newestFirstAndARerunReplacesItsEntry() {
    var history = RunHistoryProperty()
    history.record(run("r1"))
    history.record(run("r2"))
    history.record(run("r1", title: "Nightly (rerun)"))
    #expect(history.runs.map(\.runID) == ["r1", "r2"])
    #expect(history.runs.first?.title == "Nightly (rerun)")
  }

  @Test func keepsAtMostTheEntryLimit() {
    var history = RunHistoryProperty()
    for index in 0..<80 { history.record(run("r\(index)")) }
    #expect(history.runs.count == RunHistoryProperty.defaultMaxEntries)
    #expect(history.runs.first?.runID == "r79")
    #expect(history.runs.last?.runID == "r30")
    history.record(run("r80"), maxEntries: 3)
    #expect(history.runs.map(\.runID) == ["r80", "r79", "r78"])
  }

  @Test func staysUnder32KBByDroppingTheOldest() {
    var history = RunHistoryProperty()
    let longTitle = String(repeating: "Checkout flow ✓ ", count: 40)
    for index in 0..<200 {
      history.record(run("run-\(index)", title: longTitle))
      #expect(history.encoded().count <= RunHistoryProperty.maxBytes)
    }
    #expect(RunHistoryProperty.maxBytes < JiraLimits.maxPropertyBytes)
    #expect(history.runs.first?.runID == "run-199")
    #expect(history.runs.count < RunHistoryProperty.defaultMaxEntries)
    #expect(history.runs.count > 5)

    // One absurd entry is cut down rather than overflowing the property.
    var single = RunHistoryProperty()
    single.record(
      RunSummary(
        runID: "x", title: String(repeating: "t", count: 100_000), url: String(repeating: "u", count: 100_000),
        status: "passed", passed: 1, failed: 0, skipped: 0, flaky: 0, at: "2026-03-01T10:00:00Z"))
    #expect(single.encoded().count <= RunHistoryProperty.maxBytes)
  }

  @Test func decodingIsLenient() {
    #expect(RunHistoryProperty.decode(nil).runs.isEmpty)
    #expect(RunHistoryProperty.decode(Data("[1,2]".utf8)).runs.isEmpty)
    let mixed = #"{"version":1,"runs":[{"run_id":"ok","status":"passed","passed":1,"failed":0,"skipped":0,"flaky":0,"at":"2026-03-01T10:00:00Z"},{"run_id":7},"junk"]}"#
    #expect(RunHistoryProperty.decode(Data(mixed.utf8)).runs.map(\.runID) == ["ok"])
  }
}

@Suite struct RemoteLinkTitleTests {
  @Test(arguments: [
    (JiraRunCounts(passed: 12, failed: 1, skipped: 0, flaky: 1), "Nightly", "testbridge: 12 passed, 1 failed, 1 flaky · Nightly"),
    (JiraRunCounts(passed: 3), nil, "testbridge: 3 passed"),
    (JiraRunCounts(passed: 0, failed: 2, skipped: 4), "  ", "testbridge: 0 passed, 2 failed, 4 skipped"),
    (JiraRunCounts(passed: 1), "line one\nline two", "testbridge: 1 passed · line one line two"),
  ] as [(JiraRunCounts, String?, String)])
  func titles(counts: JiraRunCounts, runTitle: String?, expected: String) {
    #expect(RemoteLinkTitle.make(counts: counts, runTitle: runTitle) == expected)
  }

  @Test func longTitlesAreCutToJirasLimit() {
    let title = RemoteLinkTitle.make(counts: JiraRunCounts(passed: 1), runTitle: String(repeating: "x", count: 400))
    #expect(title.count == JiraLimits.maxRemoteLinkTitleLength)
    #expect(title.hasSuffix("…"))
  }

  @Test func countsFromRunTotalsFoldErrorsIntoFailures() {
    var totals = RunTotals()
    totals.passed = 5
    totals.failed = 1
    totals.errors = 2
    totals.flaky = 1
    #expect(JiraRunCounts(totals) == JiraRunCounts(passed: 5, failed: 3, skipped: 0, flaky: 1))
  }

  @Test func globalIDsAreStablePerLinkKey() {
    let nightly = RemoteLinkTitle.globalID(linkKey: "nightly")
    #expect(nightly == RemoteLinkTitle.globalID(linkKey: "nightly"))
    #expect(nightly != RemoteLinkTitle.globalID(linkKey: "pr-checks"))
    #expect(nightly.hasPrefix("testbridge:"))
    #expect(nightly.count == "testbridge:".count + 16)
    #expect(RemoteLinkTitle.globalID(linkKey: String(repeating: "k", count: 10_000)).count == nightly.count)
  }
}

@Suite struct JiraCommentDocumentTests {
  @Test func wikiMarkupEscapesTextAndLinks() {
    let document = JiraCommentDocument(paragraphs: [
      [.text("a*b_c [x] {y} |z|"), .link(text: "run [1]", url: "https://r.example/a|b")],
      [.strong("done")],
    ])
    #expect(
      document.wikiMarkup()
        == #"a\*b\_c \[x\] \{y\} \|z\|[run \[1\]|https://r.example/a%7Cb]"# + "\n\n*done*")
    #expect(document.plainText == "a*b_c [x] {y} |z|run [1]\ndone")
  }

  @Test func adfHasADocOfParagraphsAndDropsEmptyText() throws {
    let document = JiraCommentDocument(paragraphs: [[.text(""), .text("hello "), .link(text: "", url: "https://r.example")]])
    let object = document.adfObject()
    #expect(object["type"] as? String == "doc")
    let paragraph = try #require((object["content"] as? [[String: Any]])?.first)
    let nodes = try #require(paragraph["content"] as? [[String: Any]])
    #expect(nodes.count == 2)
    #expect(nodes[1]["text"] as? String == "https://r.example")
    #expect(JiraCommentDocument.plainText(fromADF: document.adfJSON()) == "hello https://r.example")
  }
}
