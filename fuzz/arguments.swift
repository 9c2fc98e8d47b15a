// libFuzzer target: the command-line parser against the real command specs.
//
// Input layout: the first byte picks the command (every subcommand testbridge
// has); the rest, up to an optional 0x01 byte, is split on NUL into argv; after
// 0x01, NUL-separated `NAME=value` entries form the environment. After parsing,
// the accessors, help text and the pure option readers commands use are run.
import BridgeCore
@testable import BridgeCLI

private final class Discard: TextSink {
  func write(_ text: String) {}
  func flush() {}
}

private let sink = Discard()

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  guard size > 0 else { return 0 }
  let bytes = UnsafeBufferPointer(start: data, count: size)
  let spec = BridgeCLI.commands[Int(bytes[0]) % BridgeCLI.commands.count].spec
  let rest = bytes.dropFirst()
  let marker = rest.firstIndex(of: 1) ?? rest.endIndex
  let argv = rest[..<marker].split(separator: 0, omittingEmptySubsequences: false)
    .map { String(decoding: $0, as: UTF8.self) }
  var environment: [String: String] = [:]
  if marker < rest.endIndex {
    for entry in rest[(marker + 1)...].split(separator: 0) {
      let text = String(decoding: entry, as: UTF8.self)
      guard let equals = text.firstIndex(of: "=") else { continue }
      environment[String(text[..<equals])] = String(text[text.index(after: equals)...])
    }
  }

  let parsed: ParsedArguments
  do {
    parsed = try ArgumentParser.parse(argv, spec: spec, environment: environment)
  } catch {
    guard error.commandName == spec.name, !error.message.isEmpty else { fatalError("usage error without a message") }
    _ = HelpFormatter.usage(for: spec)
    return 0
  }
  if parsed.helpRequested {
    _ = HelpFormatter.help(for: spec)
    return 0
  }
  for option in spec.options {
    let values = parsed.values(option.long)
    let value = parsed.value(option.long)
    _ = parsed.flag(option.long)
    _ = parsed.source(option.long)
    if let value, option.kind != .flag, !values.contains(value) { fatalError("value not among values for --\(option.long)") }
    if let allowed = option.allowedValues, let value, !allowed.contains(value) {
      fatalError("--\(option.long) took '\(value)', which is not allowed")
    }
  }
  var positionalTotal = 0
  for positional in spec.positionals {
    let taken = parsed.positional(positional.name)
    positionalTotal += taken.count
    if !positional.optional && taken.isEmpty { fatalError("required positional <\(positional.name)> is empty") }
    if !positional.repeating && taken.count > 1 { fatalError("positional <\(positional.name)> took \(taken.count) values") }
  }
  if positionalTotal != parsed.positionals.count { fatalError("positionals lost or invented") }

  // The option readers commands run before doing any I/O.
  let context = CommandContext(environment: environment, workingDirectory: "/work", stdout: sink, stderr: sink)
  _ = TestomatioOptions.apiKey(parsed)
  _ = try? TestomatioOptions.requestTimeout(parsed)
  _ = try? TestomatioOptions.config(parsed, apiKey: "tstmt_fuzz", context: context)  // includes baseURL
  _ = TestomatioOptions.spool(parsed, context: context)
  _ = try? ReportOptions(parsed, context: context)
  if let listen = parsed.value("listen") { _ = try? ServeCommand.listenAddress(listen) }
  return 0
}
