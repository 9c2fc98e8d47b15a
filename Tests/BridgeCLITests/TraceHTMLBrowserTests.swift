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

  /// The DOM after the page's scripts ran, for `page` opened with `fragment` (`filter=failing`).
  static func dumpDOM(_ page: URL, fragment: String?, profile: URL) async throws -> String {
    let executable = try #require(executable)
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
      if: HeadlessChromium.executable != nil,
      "chromium is not installed (apt-get install -y chromium, or set CHROMIUM): the HTML page is not checked in a browser"))
  func htmlPageRendersFiguresAndFiltersInHeadlessChromium() async throws {
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
}
