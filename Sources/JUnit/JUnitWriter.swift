import BridgeCore

/// Writes results as one valid JUnit document.
///
/// Suites keep their nesting, every attempt is written as its own testcase
/// (so retries and flaky tests read back the same), Surefire rerun elements are
/// kept, and suite-level failures go back onto their suite. Reading the output
/// again gives the same totals.
public struct JUnitWriter {
  private final class SuiteNode {
    let name: String
    var children: [SuiteNode] = []
    var childIndex: [String: Int] = [:]
    var testcases: [TestCaseResult] = []
    var suiteResults: [TestCaseResult] = []

    init(name: String) { self.name = name }

    func child(_ name: String) -> SuiteNode {
      if let index = childIndex[name] { return children[index] }
      let node = SuiteNode(name: name)
      childIndex[name] = children.count
      children.append(node)
      return node
    }

    var allTestcases: [TestCaseResult] { testcases + children.flatMap(\.allTestcases) }
    var allSuiteResults: [TestCaseResult] { suiteResults + children.flatMap(\.allSuiteResults) }
  }

  public let name: String

  public init(name: String = "testbridge") {
    self.name = name
  }

  public func write(_ testcases: [TestCaseResult], to output: inout some TextOutputStream) {
    let root = SuiteNode(name: name)
    for testcase in testcases {
      var node = root
      for suite in testcase.suitePath { node = node.child(suite) }
      if testcase.isSuiteLevel { node.suiteResults.append(testcase) } else { node.testcases.append(testcase) }
    }
    output.write("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
    output.write("<testsuites name=\"\(XMLEscaping.attribute(name))\"\(counts(root))>\n")
    for testcase in root.testcases { writeTestCase(testcase, indent: "  ", to: &output) }
    for child in root.children { writeSuite(child, indent: "  ", to: &output) }
    output.write("</testsuites>\n")
  }

  private func counts(_ node: SuiteNode) -> String {
    let testcases = node.allTestcases
    var failures = 0
    var errors = 0
    var skipped = 0
    var time = 0.0
    for testcase in testcases {
      switch testcase.status {
      case .failed: failures += 1
      case .error: errors += 1
      case .skipped: skipped += 1
      case .passed: break
      }
      time += testcase.duration ?? 0
    }
    for result in node.allSuiteResults {
      if result.status == .error { errors += 1 } else { failures += 1 }
    }
    return " tests=\"\(testcases.count)\" failures=\"\(failures)\" errors=\"\(errors)\" skipped=\"\(skipped)\" time=\"\(formatSeconds(time))\""
  }

  private func writeSuite(_ node: SuiteNode, indent: String, to output: inout some TextOutputStream) {
    output.write("\(indent)<testsuite name=\"\(XMLEscaping.attribute(node.name))\"\(counts(node))>\n")
    let inner = indent + "  "
    for result in node.suiteResults {
      for element in result.results { writeResult(element, indent: inner, to: &output) }
    }
    for testcase in node.testcases { writeTestCase(testcase, indent: inner, to: &output) }
    for child in node.children { writeSuite(child, indent: inner, to: &output) }
    output.write("\(indent)</testsuite>\n")
  }

  private func writeTestCase(_ testcase: TestCaseResult, indent: String, to output: inout some TextOutputStream) {
    var attributes = " name=\"\(XMLEscaping.attribute(testcase.name))\""
    if let classname = testcase.classname { attributes += " classname=\"\(XMLEscaping.attribute(classname))\"" }
    if let duration = testcase.duration { attributes += " time=\"\(formatSeconds(duration))\"" }
    if let file = testcase.file { attributes += " file=\"\(XMLEscaping.attribute(file))\"" }
    if let line = testcase.line { attributes += " line=\"\(line)\"" }
    if let timestamp = testcase.timestamp { attributes += " timestamp=\"\(XMLEscaping.attribute(timestamp))\"" }
    if let status = testcase.statusAttribute { attributes += " status=\"\(XMLEscaping.attribute(status))\"" }
    let hasChildren = !testcase.results.isEmpty || !testcase.properties.isEmpty || testcase.systemOut != nil
      || testcase.systemErr != nil
    guard hasChildren else {
      output.write("\(indent)<testcase\(attributes)/>\n")
      return
    }
    output.write("\(indent)<testcase\(attributes)>\n")
    let inner = indent + "  "
    if !testcase.properties.isEmpty {
      output.write("\(inner)<properties>\n")
      for property in testcase.properties {
        output.write(
          "\(inner)  <property name=\"\(XMLEscaping.attribute(property.name))\" value=\"\(XMLEscaping.attribute(property.value))\"/>\n"
        )
      }
      output.write("\(inner)</properties>\n")
    }
    for result in testcase.results { writeResult(result, indent: inner, to: &output) }
    if let out = testcase.systemOut { output.write("\(inner)<system-out>\(XMLEscaping.text(out))</system-out>\n") }
    if let err = testcase.systemErr { output.write("\(inner)<system-err>\(XMLEscaping.text(err))</system-err>\n") }
    output.write("\(indent)</testcase>\n")
  }

  private func writeResult(_ result: ResultElement, indent: String, to output: inout some TextOutputStream) {
    var attributes = ""
    if let message = result.message { attributes += " message=\"\(XMLEscaping.attribute(message))\"" }
    if let type = result.type { attributes += " type=\"\(XMLEscaping.attribute(type))\"" }
    let tag = result.kind.rawValue
    guard let text = result.text else {
      output.write("\(indent)<\(tag)\(attributes)/>\n")
      return
    }
    if result.kind.isRerun {
      output.write("\(indent)<\(tag)\(attributes)><stackTrace>\(XMLEscaping.text(text))</stackTrace></\(tag)>\n")
    } else {
      output.write("\(indent)<\(tag)\(attributes)>\(XMLEscaping.text(text))</\(tag)>\n")
    }
  }

  private func formatSeconds(_ seconds: Double) -> String {
    let rounded = (seconds * 1_000_000).rounded() / 1_000_000
    return String(rounded)
  }
}

/// Escaping for XML 1.0 output; characters XML cannot carry become U+FFFD.
public enum XMLEscaping {
  public static func attribute(_ value: String) -> String { escape(value, inAttribute: true) }
  public static func text(_ value: String) -> String { escape(value, inAttribute: false) }

  private static func escape(_ value: String, inAttribute: Bool) -> String {
    let needsWork = value.utf8.contains { byte in
      byte == UInt8(ascii: "&") || byte == UInt8(ascii: "<") || byte == UInt8(ascii: ">")
        || byte == UInt8(ascii: "\"") || byte < 0x20 || byte == 0xEF
    }
    guard needsWork else { return value }
    var result = ""
    result.reserveCapacity(value.utf8.count + 16)
    for scalar in value.unicodeScalars {
      switch scalar {
      case "&": result += "&amp;"
      case "<": result += "&lt;"
      case ">": result += "&gt;"
      case "\"": result += "&quot;"
      case "\n" where inAttribute: result += "&#10;"
      case "\r": result += "&#13;"
      case "\t" where inAttribute: result += "&#9;"
      case "\n", "\t": result.unicodeScalars.append(scalar)
      default:
        let isAllowed = scalar.value >= 0x20 && scalar.value != 0xFFFE && scalar.value != 0xFFFF
        result.unicodeScalars.append(isAllowed ? scalar : "\u{FFFD}")
      }
    }
    return result
  }
}
