/// The sample test suite the demo's CI job runs: a POSIX shell script, so the demo
/// needs nothing but /bin/sh. It runs the tests whose Testomat.io ids are in
/// `TESTBRIDGE_GREP` (all of them when it is empty), prints a line per test and
/// writes a JUnit report, like any real runner.
enum DemoSuite {
  struct Test {
    var id: String
    var name: String
    var jira: String
    var seconds: String
    /// Nil when the test passes.
    var failure: String?
  }

  static let tests: [Test] = [
    Test(id: "1a2b3c4d", name: "cart total adds line items", jira: "SHOP-101", seconds: "0.212", failure: nil),
    Test(id: "5e6f7a8b", name: "discount code applies 10 percent", jira: "SHOP-101", seconds: "0.348",
      failure: "expected 90.00 but got 91.00"),
    Test(id: "9c0d1e2f", name: "shipping is free above 50", jira: "SHOP-101", seconds: "0.129", failure: nil),
    Test(id: "3a4b5c6d", name: "invoice shows VAT", jira: "SHOP-102", seconds: "0.087", failure: nil),
  ]

  static var script: String {
    var lines = [
      "#!/bin/sh",
      "# testbridge demo suite: runs the selected tests and writes JUnit XML.",
      "out=\"${1:-reports/junit.xml}\"",
      "mkdir -p \"$(dirname \"$out\")\"",
      "selected() { [ -z \"$TESTBRIDGE_GREP\" ] && return 0; case \"|$TESTBRIDGE_GREP|\" in *\"|T$1|\"*) return 0;; esac; return 1; }",
      "failed=0; cases=''; count=0",
    ]
    for test in tests {
      let body: String
      if let failure = test.failure {
        body = "<failure message=\\\"\(failure)\\\" type=\\\"AssertionError\\\">AssertionError: \(failure)</failure>"
        lines.append(
          "if selected \(test.id); then echo \"  x \(test.name) @T\(test.id)\"; failed=1; count=$((count+1)); cases=\"$cases<testcase classname=\\\"checkout\\\" name=\\\"\(test.name) @T\(test.id)\\\" time=\\\"\(test.seconds)\\\"><properties><property name=\\\"jira\\\" value=\\\"\(test.jira)\\\"/></properties>\(body)</testcase>\"; fi"
        )
      } else {
        lines.append(
          "if selected \(test.id); then echo \"  ok \(test.name) @T\(test.id)\"; count=$((count+1)); cases=\"$cases<testcase classname=\\\"checkout\\\" name=\\\"\(test.name) @T\(test.id)\\\" time=\\\"\(test.seconds)\\\"><properties><property name=\\\"jira\\\" value=\\\"\(test.jira)\\\"/></properties></testcase>\"; fi"
        )
      }
    }
    lines.append("printf '<?xml version=\"1.0\" encoding=\"UTF-8\"?>\\n<testsuites><testsuite name=\"checkout\" tests=\"%s\">%s</testsuite></testsuites>\\n' \"$count\" \"$cases\" > \"$out\"")
    lines.append("echo \"  $count tests run\"")
    lines.append("exit $failed")
    return lines.joined(separator: "\n") + "\n"
  }
}
