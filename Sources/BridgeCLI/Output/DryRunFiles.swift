import BridgeHTTP
import Foundation

/// `--dry-run-out DIR`: every request a dry run collected, whole and redacted, one JSON file
/// each, for a person to read what would have been sent (the terminal shows one line each).
enum DryRunFiles {
  static let option = OptionSpec(
    "dry-run-out", valueName: "DIR",
    help: "With --dry-run, also write each request whole (headers and body, secrets redacted) as a JSON file in DIR.",
    environment: ["TESTBRIDGE_DRY_RUN_OUT"])

  /// The folder to write to, when one was given; given without `--dry-run`, a usage error
  /// (a real run would otherwise send what the user meant to look at first).
  static func directory(_ arguments: ParsedArguments, context: CommandContext) throws(CLIError) -> URL? {
    guard let path = arguments.value("dry-run-out"), !path.isEmpty else { return nil }
    guard arguments.flag("dry-run") else {
      throw CLIError("--dry-run-out writes what a dry run would send: add --dry-run", exitStatus: .usage)
    }
    return URL(fileURLWithPath: context.absolutePath(path))
  }

  /// Writes `requests` to `directory` as `LABEL-001-METHOD-path.json`, … (files of an earlier
  /// dry run with the same label are removed first, so the folder shows this run alone) and
  /// returns the line that tells the user where they are.
  static func write(_ requests: [HTTPRequest], label: String, to directory: URL) -> String {
    let files = FileManager.default
    do {
      try files.createDirectory(at: directory, withIntermediateDirectories: true)
      for name in try files.contentsOfDirectory(atPath: directory.path) where isEarlierFile(name, label: label) {
        try files.removeItem(at: directory.appendingPathComponent(name))
      }
      for (index, request) in requests.enumerated() {
        let url = directory.appendingPathComponent(fileName(request, label: label, number: index + 1))
        try Data((DryRunTransport.redactedDocument(of: request) + "\n").utf8).write(to: url, options: .atomic)
      }
    } catch {
      return "  could not write the requests to \(directory.path): \(error.localizedDescription)"
    }
    return "  each request whole (secrets redacted) in \(directory.path)/\(label)-*.json"
  }

  /// `testomatio-002-POST-api-reporter-dry-run-testrun.json`: the order, the method and the path.
  static func fileName(_ request: HTTPRequest, label: String, number: Int) -> String {
    let number = String(format: "%03d", number)
    var path = ""
    // The path as the redacted URL has it: a token in a path never reaches a file name.
    let shownPath = URL(string: Redactor.redact(url: request.url))?.path ?? ""
    for character in shownPath.unicodeScalars {
      let keep = CharacterSet.alphanumerics.contains(character) && character.isASCII
      if keep {
        path.unicodeScalars.append(character)
      } else if !path.isEmpty, path.last != "-" {
        path.append("-")
      }
    }
    while path.last == "-" { path.removeLast() }
    return "\(label)-\(number)-\(request.method.rawValue)\(path.isEmpty ? "" : "-")\(path.prefix(80)).json"
  }

  private static func isEarlierFile(_ name: String, label: String) -> Bool {
    guard name.hasPrefix(label + "-"), name.hasSuffix(".json") else { return false }
    let number = name.dropFirst(label.count + 1).prefix { $0.isNumber }
    return number.count >= 3
  }
}
