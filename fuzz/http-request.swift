// libFuzzer target: the incremental HTTP/1.1 request parser of `serve` and the sandbox.
//
// The input is parsed twice: appended whole, and appended in random-size chunks
// (sizes drawn from a generator seeded by the input, from 1 byte up), calling
// `nextRequest()` after every chunk as the server does. Both must give the same
// requests and end the same way; how bytes arrive must never change the result.
// Small limits make the 413/431 paths reachable by small inputs.
import HTTPServer

private let limits = HTTPRequestParser.Limits(maxHeaderBytes: 512, maxBodyBytes: 2048)

private struct Outcome: Equatable {
  var requests: [ServerRequest] = []
  var error: HTTPServerError?
  /// Whether bytes of an unfinished request are buffered at the end.
  var partial = false
}

/// SplitMix64: a tiny deterministic generator, so a crash reproduces from its input alone.
private struct SplitMix {
  var state: UInt64
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

private func drain(_ parser: inout HTTPRequestParser, into outcome: inout Outcome) -> Bool {
  do {
    while let request = try parser.nextRequest() {
      outcome.requests.append(request)
      // Sanity of what the server relies on.
      guard request.body.count <= limits.maxBodyBytes else { fatalError("body over the limit was accepted") }
      _ = request.wantsKeepAlive
      _ = request.description
    }
    _ = parser.takeContinueRequest()
    return true
  } catch {
    outcome.error = error
    // A failed parser stays failed.
    do {
      _ = try parser.nextRequest()
      fatalError("a failed parser produced a request")
    } catch {
      guard error == outcome.error else { fatalError("a failed parser changed its error") }
    }
    return false
  }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Array(UnsafeBufferPointer(start: data, count: size))

  var whole = Outcome()
  var parser = HTTPRequestParser(limits: limits)
  parser.append(bytes)
  if drain(&parser, into: &whole) { whole.partial = parser.hasPartialRequest }

  var seed: UInt64 = 0xC0FF_EE00
  for byte in bytes.prefix(16) { seed = seed &* 31 &+ UInt64(byte) }
  var random = SplitMix(state: seed)
  var chunked = Outcome()
  var incremental = HTTPRequestParser(limits: limits)
  var offset = 0
  var alive = true
  while offset < bytes.count, alive {
    // Mostly tiny pieces (the hard cases for resumable scanning), sometimes larger ones.
    let roll = random.next()
    let length = roll % 4 == 0 ? Int((roll >> 8) % 512) + 1 : Int((roll >> 8) % 8) + 1
    let end = min(bytes.count, offset + length)
    incremental.append(bytes[offset..<end])
    offset = end
    alive = drain(&incremental, into: &chunked)
  }
  if alive { chunked.partial = incremental.hasPartialRequest }

  guard whole == chunked else {
    fatalError(
      """
      chunked parsing differs from whole parsing:
        whole:   \(whole.requests.count) requests, error \(String(describing: whole.error)), partial \(whole.partial)
        chunked: \(chunked.requests.count) requests, error \(String(describing: chunked.error)), partial \(chunked.partial)
      """)
  }
  return 0
}
