import BridgeTestSupport
import Foundation
import Testing

/// Headless Chromium (Debian's `chromium` package), when installed.
enum HeadlessChromium {
  static let executable: URL? = {
    let environment = ProcessInfo.processInfo.environment
    let candidates = [environment["CHROMIUM"]].compactMap { $0 } + [
      "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/lib/chromium/chromium",
    ]
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }.map { URL(fileURLWithPath: $0) }
  }()

  /// Whether the browser tests run: when chromium is installed, and always under CI (`CI=true`),
  /// where a missing chromium fails them instead of skipping them unseen.
  static var testsEnabled: Bool {
    executable != nil || ProcessInfo.processInfo.environment["CI"]?.lowercased() == "true"
  }

  /// The browser, or a failure naming what to install.
  static func required() throws -> URL {
    try #require(
      executable,
      "CI=true and chromium is not installed: apt-get install -y chromium (.ci/run does), or set CHROMIUM")
  }

  /// The DOM after the page's scripts ran, for `page` opened with `fragment` (`filter=failing`).
  static func dumpDOM(_ page: URL, fragment: String?, profile: URL) async throws -> String {
    let executable = try required()
    var address = page.absoluteString
    if let fragment { address += "#" + fragment }
    let output = try await ChildProcess.runAsync(
      URL(fileURLWithPath: "/usr/bin/timeout"),
      [
        "90", executable.path, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--no-first-run", "--user-data-dir=\(profile.path)", "--dump-dom", address,
      ],
      environment: ["HOME": profile.path, "PATH": "/usr/bin:/bin"])
    #expect(output.status == 0, "chromium: \(output.stderr.suffix(2000))")
    return output.stdout
  }

  /// Each table row's key and whether it is shown.
  static func rows(_ dom: String) -> [(key: String, state: String, visible: Bool)] {
    let pattern = try! NSRegularExpression(pattern: #"<tr data-key="([^"]+)" data-state="([a-z_]+)"([^>]*)>"#)
    let text = dom as NSString
    return pattern.matches(in: dom, range: NSRange(location: 0, length: text.length)).map { match in
      (text.substring(with: match.range(at: 1)), text.substring(with: match.range(at: 2)),
       !text.substring(with: match.range(at: 3)).contains("hidden"))
    }
  }

  /// The figure elements' text by name.
  static func figures(_ dom: String) -> [String: String] {
    let pattern = try! NSRegularExpression(pattern: #"<b id="fig-([a-z_]+)" data-figure="[a-z_]+">([^<]*)</b>"#)
    let text = dom as NSString
    var figures: [String: String] = [:]
    for match in pattern.matches(in: dom, range: NSRange(location: 0, length: text.length)) {
      figures[text.substring(with: match.range(at: 1))] = text.substring(with: match.range(at: 2))
    }
    return figures
  }
}

/// The HTML page in a real browser: it renders, the figures its script computes match the
/// JSON output, the state filter hides the right rows, and sorting orders them.
@Suite(.serialized) struct TraceHTMLBrowserTests {
  @Test(
    .enabled(
      if: HeadlessChromium.testsEnabled,
      "chromium is not installed (apt-get install -y chromium, or set CHROMIUM): the HTML page is not checked in a browser"))
  func htmlPageRendersFiguresAndFiltersInHeadlessChromium() async throws {
    _ = try HeadlessChromium.required()
    let harness = try await TraceEndToEndTests.Harness.start()
    defer { Task { await harness.stop() } }
    let base = ["trace", "--jira-project", "TRC", "--results", "results.json"]
    let json = try await harness.testbridge(base + ["--format", "json"])
    #expect(json.status == 0, "\(json.stderr)")
    let document = try TraceEndToEndTests.object(json.stdout)
    let html = try await harness.testbridge(base + ["--format", "html", "--output", "trace.html"])
    #expect(html.status == 0, "\(html.stderr)")
    #expect(html.stdout.contains("4 of 6 issue(s) have tests (66.7%); written to trace.html"))
    let page = harness.directory.appendingPathComponent("trace.html")
    let source = try String(contentsOf: page, encoding: .utf8)
    // Self-contained: nothing is fetched.
    #expect(!source.contains("src="))
    #expect(!source.contains("<link"))
    #expect(!source.contains("@import"))
    #expect(!source.contains("url("))

    let profile = harness.directory.appendingPathComponent("chromium-profile")
    let all = try await HeadlessChromium.dumpDOM(page, fragment: nil, profile: profile)
    #expect(all.contains(#"data-figures="computed""#), "the page's script did not run")
    #expect(all.contains(#"data-filter="all""#))
    #expect(all.contains("<h1>Traceability matrix</h1>"))
    let expected = (document["figures"] as? [String: Any] ?? [:]).mapValues { value -> String in
      let number = (value as? NSNumber)?.doubleValue ?? .nan
      return number == number.rounded() ? String(Int(number)) : String(number)
    }
    #expect(expected.count == 10)
    #expect(HeadlessChromium.figures(all) == expected)
    #expect(HeadlessChromium.rows(all).map(\.key) == ["TRC-1", "TRC-2", "TRC-3", "TRC-4", "TRC-5", "TRC-6"])
    #expect(HeadlessChromium.rows(all).filter(\.visible).count == 6)
    #expect(all.contains("6 of 6 shown"))
    // Escaped, not interpreted.
    #expect(all.contains("Refunds &lt;fast&gt; &amp; \"safe\""))

    let failing = try await HeadlessChromium.dumpDOM(page, fragment: "filter=failing", profile: profile)
    #expect(failing.contains(#"data-filter="failing""#))
    #expect(HeadlessChromium.rows(failing).filter(\.visible).map(\.key) == ["TRC-2"])
    #expect(HeadlessChromium.rows(failing).count == 6)
    #expect(failing.contains("1 of 6 shown"))
    #expect(HeadlessChromium.figures(failing) == expected)

    let untested = try await HeadlessChromium.dumpDOM(page, fragment: "filter=untested", profile: profile)
    #expect(HeadlessChromium.rows(untested).filter(\.visible).map(\.key) == ["TRC-4", "TRC-6"])
    let passing = try await HeadlessChromium.dumpDOM(page, fragment: "filter=passing", profile: profile)
    #expect(HeadlessChromium.rows(passing).filter(\.visible).map(\.key) == ["TRC-1", "TRC-5"])

    // Sorting, as a header click leaves it in the address.
    let byTests = try await HeadlessChromium.dumpDOM(page, fragment: "filter=all&sort=tests-desc", profile: profile)
    #expect(byTests.contains(#"data-sort="tests-desc""#))
    #expect(byTests.contains(#"aria-sort="descending">Tests</th>"#))
    #expect(HeadlessChromium.rows(byTests).map(\.key) == ["TRC-1", "TRC-2", "TRC-3", "TRC-5", "TRC-4", "TRC-6"])
    let byKey = try await HeadlessChromium.dumpDOM(page, fragment: "sort=issue-desc&filter=failing", profile: profile)
    #expect(HeadlessChromium.rows(byKey).map(\.key) == ["TRC-6", "TRC-5", "TRC-4", "TRC-3", "TRC-2", "TRC-1"])
    #expect(HeadlessChromium.rows(byKey).filter(\.visible).map(\.key) == ["TRC-2"])
  }

  /// Sorting and filtering as a person does them: mouse clicks on the column headers and the
  /// keyboard on the state filter, sent as input events over the DevTools protocol (not by
  /// editing the address), with the rows, the address and the "shown" count checked after each.
  @Test(
    .enabled(
      if: HeadlessChromium.testsEnabled,
      "chromium is not installed (apt-get install -y chromium, or set CHROMIUM): the HTML page is not checked in a browser"))
  func headerClicksSortAndTheFilterFollowsTheKeyboard() async throws {
    let chromium = try HeadlessChromium.required()
    let harness = try await TraceEndToEndTests.Harness.start()
    defer { Task { await harness.stop() } }
    let base = ["trace", "--jira-project", "TRC", "--results", "results.json"]
    let json = try await harness.testbridge(base + ["--format", "json"])
    #expect(json.status == 0, "\(json.stderr)")
    let issues = try TraceEndToEndTests.object(json.stdout)["issues"] as? [[String: Any]] ?? []
    let keys = issues.compactMap { $0["key"] as? String }
    #expect(keys == ["TRC-1", "TRC-2", "TRC-3", "TRC-4", "TRC-5", "TRC-6"])
    let linked = Dictionary(uniqueKeysWithValues: issues.map { ($0["key"] as? String ?? "", ($0["tests"] as? [Any])?.count ?? 0) })
    let states = Dictionary(uniqueKeysWithValues: issues.map { ($0["key"] as? String ?? "", $0["state"] as? String ?? "") })
    let html = try await harness.testbridge(base + ["--format", "html", "--output", "trace.html"])
    #expect(html.status == 0, "\(html.stderr)")
    let pageURL = harness.directory.appendingPathComponent("trace.html")

    let browser = try ChromiumDevTools(executable: chromium, profile: harness.directory.appendingPathComponent("devtools-profile"))
    defer { browser.quit() }
    let page = try browser.open(pageURL)
    try page.waitUntil("document.body.getAttribute('data-figures') === 'computed'")

    /// Row keys in page order, with "-" after a hidden one.
    func rows() throws -> [String] {
      try page.evaluate(
        "Array.prototype.map.call(document.querySelectorAll('#matrix tbody tr'), function (r) { return r.getAttribute('data-key') + (r.hidden ? '-' : ''); })"
      ) as? [String] ?? []
    }
    func text(_ expression: String) throws -> String { try page.evaluate(expression) as? String ?? "" }
    /// Keys sorted by their number of linked tests, ties kept in Jira's order.
    func byTests(ascending: Bool) -> [String] {
      keys.enumerated().sorted { a, b in
        let (x, y) = (linked[a.element] ?? 0, linked[b.element] ?? 0)
        return x != y ? (ascending ? x < y : x > y) : a.offset < b.offset
      }.map(\.element)
    }
    #expect(try rows() == keys)
    #expect(try text("location.hash") == "")

    // A click on "Tests" sorts ascending, a second click descending.
    let tests = "#matrix thead th:nth-child(5)"
    #expect(try text("document.querySelector('\(tests)').textContent") == "Tests")
    try page.click(selector: tests)
    try page.waitUntil("document.body.getAttribute('data-sort') === 'tests-asc'")
    #expect(try rows() == byTests(ascending: true))
    #expect(try text("document.querySelector('\(tests)').getAttribute('aria-sort')") == "ascending")
    #expect(try text("location.hash") == "#filter=all&sort=tests-asc")
    try page.click(selector: tests)
    try page.waitUntil("document.body.getAttribute('data-sort') === 'tests-desc'")
    #expect(try rows() == byTests(ascending: false))
    #expect(try rows() == ["TRC-1", "TRC-2", "TRC-3", "TRC-5", "TRC-4", "TRC-6"])

    // The state filter from the keyboard: focused by a click, then two steps down to "failing".
    try page.click(selector: "#filter")
    try page.press("Escape", code: 27)
    try page.waitUntil("document.activeElement === document.getElementById('filter')")
    try page.press("ArrowDown", code: 40)
    try page.press("ArrowDown", code: 40)
    try page.waitUntil("document.body.getAttribute('data-filter') === 'failing'")
    let failing = keys.filter { states[$0] == "failing" }
    #expect(failing == ["TRC-2"])
    #expect(try rows() == byTests(ascending: false).map { failing.contains($0) ? $0 : $0 + "-" })
    #expect(try text("document.getElementById('shown').textContent") == "1 of 6 shown")
    #expect(try text("location.hash") == "#filter=failing&sort=tests-desc")
    try page.press("ArrowDown", code: 40)
    try page.waitUntil("document.body.getAttribute('data-filter') === 'incomplete'")
    #expect(try rows().filter { !$0.hasSuffix("-") } == keys.filter { states[$0] == "incomplete" })

    // Sorting by issue keeps the filter; the figures never change.
    try page.click(selector: "#matrix thead th:nth-child(1)")
    try page.waitUntil("document.body.getAttribute('data-sort') === 'issue-asc'")
    #expect(try rows().map { $0.hasSuffix("-") ? String($0.dropLast()) : $0 } == keys)
    #expect(try text("location.hash") == "#filter=incomplete&sort=issue-asc")
    #expect(try text("document.getElementById('fig-issues').textContent") == "6")
    #expect(try text("document.getElementById('fig-issues_with_tests').textContent") == "4")
  }
}
