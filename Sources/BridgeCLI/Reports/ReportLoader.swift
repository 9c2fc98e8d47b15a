import BridgeCore
import JUnit

/// Reports read from the command line's paths and globs.
struct LoadedReports: Sendable {
  var files: [FileParseResult] = []
  var finderProblems: [ReportFinderProblem] = []
  /// Every testcase in file order (empty when loaded in streaming mode).
  var testcases: [TestCaseResult] = []
  var totals = RunTotals()
  /// Failing tests to show a person: final attempts, in the order they failed.
  var failing: [TestCaseResult] = []

  var brokenFiles: [FileParseResult] { files.filter { !$0.isComplete } }
  var hasProblems: Bool { !finderProblems.isEmpty || !brokenFiles.isEmpty }
}

/// Finds and reads reports for any command that takes PATH_OR_GLOB arguments.
struct ReportLoader {
  var options: JUnitOptions

  /// Reads every report. `keepTestcases: false` counts without keeping results
  /// (flat memory for huge reports); true keeps them for outputs that list tests.
  func load(_ arguments: [String], keepTestcases: Bool, failureLimit: Int = 20) -> LoadedReports {
    var loaded = LoadedReports()
    let found = ReportFinder().find(arguments)
    loaded.finderProblems = found.problems
    let reader = ReportSetReader(options: options)
    if keepTestcases {
      var fileStart = 0
      reader.read(
        found.files,
        onTestCase: { loaded.testcases.append($0) },
        onFile: { file in
          if !file.isComplete {
            for index in fileStart..<loaded.testcases.count { loaded.testcases[index].incomplete = true }
          }
          fileStart = loaded.testcases.count
          loaded.files.append(file)
        })
      let tests = LogicalTest.group(loaded.testcases)
      loaded.totals = RunTotals(tests: tests)
      loaded.failing = Array(tests.filter { $0.outcome.isFailing }.map(\.final).prefix(failureLimit))
    } else {
      var streaming = StreamingTotals(failureLimit: failureLimit)
      reader.count(found.files, into: &streaming, onFile: { loaded.files.append($0) })
      loaded.totals = streaming.totals
      loaded.failing = streaming.failingTests
    }
    return loaded
  }

  /// The Jira issue keys the tests in `files` link, in the order first seen (a profile's
  /// choice reads the reports once before they are delivered).
  func jiraKeys(in files: [String]) -> [String] {
    var seen: Set<String> = []
    var keys: [String] = []
    ReportSetReader(options: options).read(
      files,
      onTestCase: { testcase in
        for key in testcase.jiraKeys where seen.insert(key).inserted { keys.append(key) }
      })
    return keys
  }
}
