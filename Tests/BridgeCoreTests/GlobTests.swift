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

  @Test func fifosAndSocketsMatchedByGlobsAreNeverOpened() throws {
    // Opening a FIFO for reading blocks until a writer comes: a glob that matched
    // one and read it would hang the run.
    let root = try makeTree()
    defer { try? FileManager.default.removeItem(at: root) }
    let fifo = root.appendingPathComponent("a/b/TEST-fifo.xml").path
    try #require(mkfifo(fifo, 0o600) == 0)
    let socketPath = root.appendingPathComponent("a/TEST-socket.xml").path
    let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(listener) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
      raw.copyBytes(from: socketPath.utf8.prefix(raw.count - 1))
    }
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    try #require(bound == 0)
    let expected = ["a/TEST-1.xml", "a/TEST-2.xml", "a/b/c/TEST-3.xml"].map { root.path + "/" + $0 }
    #expect(ReportFinder().find([root.path + "/**/TEST-*.xml"]).files == expected)
    #expect(ReportFinder().find([root.path + "/a"]).files == expected)
    #expect(ReportFinder().find([root.path + "/a/*/TEST-*.xml"]).problems == [.noMatch(pattern: root.path + "/a/*/TEST-*.xml")])
    #expect(ReportFinder().find([fifo, socketPath]).problems == [.notRegularFile(path: fifo), .notRegularFile(path: socketPath)])
  }

  @Test func linkLoopsAreNotFollowedByAnyPattern() throws {
    let root = try makeTree()
    defer { try? FileManager.default.removeItem(at: root) }
    // `a/b/loop` points back at `a`. `*` segments follow links, but only as deep as the
    // pattern is long; `**` and directory arguments never follow them.
    let result = ReportFinder().find([root.path + "/a/*/*/TEST-*.xml", root.path + "/a/b/loop/b/loop/b/loop/TEST-1.xml"])
    #expect(result.problems.isEmpty)
    let expected = ["a/b/c/TEST-3.xml", "a/b/loop/TEST-1.xml", "a/b/loop/TEST-2.xml", "a/b/loop/b/loop/b/loop/TEST-1.xml"]
    #expect(result.files == expected.map { root.path + "/" + $0 })
  }
}
