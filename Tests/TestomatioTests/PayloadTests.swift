import BridgeCore
import Foundation
import Testing

@testable import Testomatio

@Suite struct RidTests {
  static let key = LogicalTestKey(suitePath: ["pytest"], classname: "tests.test_checkout", name: "test_cart_total")

  @Test func theEnvironmentMakesEachExecutionItsOwnRid() {
    let none = Payloads.ridSuffix(for: Self.key)
    let linux = Payloads.ridSuffix(for: Self.key, environment: "linux")
    let windows = Payloads.ridSuffix(for: Self.key, environment: "windows")
    #expect(Set([none, linux, windows]).count == 3)
    #expect(linux.count == 16 && linux.allSatisfy(\.isHexDigit))
  }

  @Test func ridsAreStableAndReadTheEnvironmentAsASet() {
    let rid = Payloads.ridSuffix(for: Self.key, environment: "Linux, Chrome")
    #expect(Payloads.ridSuffix(for: Self.key, environment: "Linux, Chrome") == rid, "the same input, the same rid")
    #expect(Payloads.ridSuffix(for: Self.key, environment: "Chrome,Linux") == rid)
    #expect(Payloads.ridSuffix(for: Self.key, environment: " Chrome , Linux ,, Chrome") == rid)
    #expect(Payloads.ridSuffix(for: Self.key, environment: "linux, chrome") != rid, "environment names keep their case")
    // No environment (or only separators) hashes as before environments were part of the rid.
    #expect(Payloads.ridSuffix(for: Self.key, environment: " , ") == Payloads.ridSuffix(for: Self.key))
    #expect(Payloads.ridSuffix(for: Self.key, environment: "") == Payloads.ridSuffix(for: Self.key))
    // Pinned: rids already spooled or in shard files must not change under an upgrade.
    #expect(Payloads.ridSuffix(for: Self.key) == Payloads.ridSuffix(for: Self.key, environment: nil))
  }

  @Test func theEnvironmentCannotBeConfusedWithTheTestName() {
    let plain = LogicalTestKey(suitePath: ["s"], classname: "c", name: "n")
    let named = LogicalTestKey(suitePath: ["s"], classname: "c", name: "nlinux")
    #expect(Payloads.ridSuffix(for: plain, environment: "linux") != Payloads.ridSuffix(for: named))
  }

  @Test func aResultCarriesTheRidOfItsEnvironment() {
    let test = LogicalTest(
      key: Self.key, attempts: [TestCaseResult(suitePath: ["pytest"], classname: "tests.test_checkout", name: "test_cart_total")])
    var config = TestomatioConfig(apiKey: "tstmt_x")
    config.environment = "linux"
    let linux = Payloads.result(test, config: config).rid
    config.environment = "windows"
    let windows = Payloads.result(test, config: config).rid
    #expect(linux == Payloads.ridSuffix(for: Self.key, environment: "linux"))
    #expect(linux != windows)
  }
}

@Suite struct BatchAccumulatorTests {
  static let encoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return encoder
  }()

  /// Text that grows the most when escaped: quotes, backslashes, control characters, U+2028.
  static func hostile(_ length: Int, seed: Int) -> String {
    let pieces = ["\"", "\\", "\u{01}", "\u{1F}", "\n", "\u{2028}", "é", "/", "\t", "\u{0}"]
    return String((0..<length).map { pieces[($0 + seed) % pieces.count] }.joined())
  }

  static func payload(_ index: Int, textLength: Int) -> TestResultPayload {
    let text = hostile(textLength, seed: index)
    let attempt = TestCaseResult(
      suitePath: [hostile(20, seed: index)], classname: hostile(30, seed: index + 1), name: "test \(index) \(text.prefix(40))",
      file: hostile(25, seed: index + 2), duration: 0.123456789,
      results: [ResultElement(kind: .failure, message: text, type: hostile(10, seed: index), text: text)],
      systemOut: text, jiraKeys: ["PROJ-\(index)", hostile(12, seed: index)])
    let test = LogicalTest(key: attempt.logicalKey, attempts: [attempt, attempt])
    return Payloads.result(test, config: TestomatioConfig(apiKey: "tstmt_x"))
  }

  @Test func theEstimateIsAnUpperBoundOfTheEncodedSize() throws {
    for index in 0..<50 {
      let result = Self.payload(index, textLength: 200 + index * 37)
      let encoded = try Self.encoder.encode(result).count + 1  // and its comma
      #expect(BatchAccumulator.estimatedBytes(result) >= encoded, "result \(index): \(encoded) bytes encoded")
    }
    for text in ["", "plain", "\"\\\"", "\u{0}\u{1}\u{7F}", "\u{2028}\u{2029}", "日本語", Self.hostile(1000, seed: 3)] {
      let encoded = try Self.encoder.encode(text).count
      #expect(BatchAccumulator.escapedBytes(text) >= encoded, "\(text.debugDescription)")
    }
  }

  @Test func batchesOfHeavilyEscapedResultsStayWithinTheByteBound() throws {
    let maxBytes = 64 * 1024
    var accumulator = BatchAccumulator(maxCount: 10_000, maxBytes: maxBytes)
    var batches: [BatchBody] = []
    for index in 0..<400 {
      if let batch = accumulator.add(Self.payload(index, textLength: 600)) { batches.append(batch) }
    }
    if let last = accumulator.flush() { batches.append(last) }
    #expect(batches.count > 1, "the bound, not the count, closed the batches")
    #expect(batches.reduce(0) { $0 + $1.tests.count } == 400)
    for batch in batches {
      let tests = try Self.encoder.encode(batch.tests).count
      #expect(tests <= maxBytes, "batch \(batch.batchIndex): \(tests) bytes of tests")
    }
    #expect(batches.map(\.batchIndex) == Array(1...batches.count))
  }
}
