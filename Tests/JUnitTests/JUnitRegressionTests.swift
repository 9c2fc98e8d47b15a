import BridgeCore
import Foundation
import JUnit
import Testing

/// Defects found by fuzzing the engine (`fuzz/junit.swift`; see RELIABILITY.md), kept fixed.
@Suite struct JUnitRegressionTests {
  /// AddressSanitizer keeps freed memory in quarantine, so resident memory grows anyway;
  /// its LeakSanitizer checks for the leak at exit instead.
  static let underAddressSanitizer = dlsym(nil, "__asan_init") != nil

  /// Resident memory of this process, in bytes.
  static func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
  }

  /// LeakSanitizer, on the billion-laughs fixture: libxml2 builds a stand-in document
  /// (`ctxt->myDoc`, with a DTD and an entity hash table) for every entity declaration
  /// even in SAX mode, and the parser context does not own it: ~12 KB leaked per
  /// refused report. Refusing 20,000 of them would leak ~250 MB.
  @Test func refusedEntityDeclarationsDoNotLeak() async {
    let xml = Array(
      #"<?xml version="1.0"?><!DOCTYPE t [<!ENTITY e "x">]><testsuite><testcase name="a">&e;</testcase></testsuite>"#
        .utf8)
    let (refused, grown) = await onOwnThread {
      var refused = 0
      for _ in 0..<500 {
        if case .entitiesRefused = JUnitParser.parse(bytes: xml, path: "entity.xml").error { refused += 1 }
      }
      let before = Self.residentBytes()
      for _ in 0..<20_000 {
        if case .entitiesRefused = JUnitParser.parse(bytes: xml, path: "entity.xml").error { refused += 1 }
      }
      return (refused, Self.residentBytes() - before)
    }
    #expect(refused == 20_500)
    if !Self.underAddressSanitizer {
      #expect(grown < 64 << 20, "resident memory grew by \(grown >> 20) MiB")
    }
  }
}
