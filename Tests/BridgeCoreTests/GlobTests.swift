import BridgeCore
import BridgeTestSupport
import Foundation
import Testing

@Suite struct GlobPatternTests {
  @Test(arguments: [
    ("report.xml", "*.xml", true),
    ("report.xml", "*.json", false),
    ("TEST-a.b.xml", "TEST-*.xml", true),
    ("a", "?", true),
    ("ab", "?", false),
    ("junit-1.xml", "junit-[0-9].xml", true),
    ("junit-x.xml", "junit-[0-9].xml", false),
    ("junit-x.xml", "junit-[!0-9].xml", true),
    ("aXbXc", "a*b*c", true),
    ("abc", "a*b*d", false),
    ("[x]", "[x]", false),
    ("file[", "file[", true),
    ("ümlaut.xml", "?mlaut.xml", true),
    ("", "*", true),
  ])
  func segmentMatching(name: String, pattern: String, expected: Bool) {
    #expect(GlobPattern.matchSegment(Substring(name), Substring(pattern)) == expected)
  }

  @Test func longStarRunsStayFast() {
    let name = String(repeating: "a", count: 5_000)
    let pattern = String(repeating: "*a", count: 50) + "b"
    #expect(!GlobPattern.matchSegment(Substring(name), Substring(pattern)))
  }
}

@Suite struct ReportFinderTests {
  func makeTree() throws -> URL {
    let root = try ProjectPaths.temporaryDirectory("finder")
    let files = ["a/TEST-1.xml", "a/TEST-2.xml", "a/notes.txt", "a/b/c/TEST-3.xml", "z.xml", ".hidden/TEST-9.xml"]
    for file in files {
      let url = root.appendingPathComponent(file)
      try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
      try Data("<testsuite/>".utf8).write(to: url)
    }
    // A link back up the tree: `**` must not loop through it.
    try FileManager.default.createSymbolicLink(
      atPath: root.appendingPathComponent("a/b/loop").path, withDestinationPath: root.appendingPathComponent("a").path)
    return root
  }

  @Test func doubleStarFindsNestedFilesInOrderWithoutFollowingLinkLoops() throws {
    let root = try makeTree()
    defer { try? FileManager.default.removeItem(at: root) }
    let result = ReportFinder().find([root.path + "/**/TEST-*.xml"])
    #expect(result.problems.isEmpty)
    #expect(result.files == ["a/TEST-1.xml", "a/TEST-2.xml", "a/b/c/TEST-3.xml"].map { root.path + "/" + $0 })
  }

  @Test func directoryArgumentMeansEveryXMLBelowIt() throws {
    let root = try makeTree()
    defer { try? FileManager.default.removeItem(at: root) }
    let result = ReportFinder().find([root.appendingPathComponent("a").path])
    #expect(result.files.map { String($0.dropFirst(root.path.count + 1)) } == ["a/TEST-1.xml", "a/TEST-2.xml", "a/b/c/TEST-3.xml"])
  }

  @Test func noMatchesAndMissingPathsAreNamed() throws {
    let root = try makeTree()
    defer { try? FileManager.default.removeItem(at: root) }
    let pattern = root.path + "/nothing-*.xml"
    let missing = root.path + "/missing.xml"
    let result = ReportFinder().find([pattern, missing, root.path + "/z.xml", root.path + "/z.xml"])
    #expect(result.files == [root.path + "/z.xml"])
    #expect(result.problems == [.noMatch(pattern: pattern), .notFound(path: missing)])
    #expect(result.problems[0].description == "no file matches '\(pattern)'")
  }

  @Test func devicesAreNotReports() {
    #expect(ReportFinder().find(["/dev/nul?"]).problems == [.noMatch(pattern: "/dev/nul?")])
    #expect(ReportFinder().find(["/dev/null"]).problems == [.notRegularFile(path: "/dev/null")])
  }
}
