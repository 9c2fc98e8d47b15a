import BridgeCore

/// Attribute local names the engine reads on `<testcase>`.
enum TestCaseAttribute {
  case name, classname, file, line, time, timestamp, status, other

  init(_ name: UnsafePointer<UInt8>) {
    @inline(__always) func equals(_ literal: StaticString) -> Bool {
      let count = literal.utf8CodeUnitCount
      let bytes = literal.utf8Start
      for index in 0..<count where name[index] != bytes[index] { return false }
      return name[count] == 0
    }
    switch name[0] {
    case UInt8(ascii: "n"): self = equals("name") ? .name : .other
    case UInt8(ascii: "c"): self = equals("classname") ? .classname : .other
    case UInt8(ascii: "f"): self = equals("file") ? .file : .other
    case UInt8(ascii: "l"): self = equals("line") ? .line : .other
    case UInt8(ascii: "t"): self = equals("time") ? .time : equals("timestamp") ? .timestamp : .other
    case UInt8(ascii: "d"): self = equals("duration") ? .time : .other
    case UInt8(ascii: "s"): self = equals("status") ? .status : .other
    default: self = .other
    }
  }
}

/// The JUnit elements the engine reacts to; everything else is skipped.
enum ElementName: UInt8 {
  case testsuites, testsuite, testcase
  case failure, error, skipped
  case flakyFailure, flakyError, rerunFailure, rerunError
  case systemOut, systemErr, properties, property, stackTrace
  case other

  /// Classifies a NUL-terminated local name without allocating.
  init(_ name: UnsafePointer<UInt8>) {
    @inline(__always) func equals(_ literal: StaticString) -> Bool {
      let count = literal.utf8CodeUnitCount
      let bytes = literal.utf8Start
      for index in 0..<count where name[index] != bytes[index] { return false }
      return name[count] == 0
    }
    switch name[0] {
    case UInt8(ascii: "t"):
      if equals("testcase") { self = .testcase }
      else if equals("testsuite") { self = .testsuite }
      else if equals("testsuites") { self = .testsuites }
      else { self = .other }
    case UInt8(ascii: "f"):
      if equals("failure") { self = .failure }
      else if equals("flakyFailure") { self = .flakyFailure }
      else if equals("flakyError") { self = .flakyError }
      else { self = .other }
    case UInt8(ascii: "e"): self = equals("error") ? .error : .other
    case UInt8(ascii: "s"):
      if equals("skipped") { self = .skipped }
      else if equals("system-out") { self = .systemOut }
      else if equals("system-err") { self = .systemErr }
      else if equals("stackTrace") { self = .stackTrace }
      else { self = .other }
    case UInt8(ascii: "r"):
      if equals("rerunFailure") { self = .rerunFailure }
      else if equals("rerunError") { self = .rerunError }
      else { self = .other }
    case UInt8(ascii: "p"):
      if equals("property") { self = .property }
      else if equals("properties") { self = .properties }
      else { self = .other }
    default: self = .other
    }
  }

  /// The result element this name stands for, when it is one.
  var resultKind: ResultElement.Kind? {
    switch self {
    case .failure: return .failure
    case .error: return .error
    case .skipped: return .skipped
    case .flakyFailure: return .flakyFailure
    case .flakyError: return .flakyError
    case .rerunFailure: return .rerunFailure
    case .rerunError: return .rerunError
    default: return nil
    }
  }
}

/// Classifications of names remembered by address.
///
/// libxml2 interns every element and attribute name of a parse in its parser
/// context's dictionary, which keeps them until the context is freed: within
/// one context a name always arrives at the same address, and an address
/// never holds another name. So each name is compared byte by byte once, and
/// then told by its address. One cache serves one parser context only.
final class InternedNames<Kind> {
  private static var slotCount: Int { 32 }
  private let addresses: UnsafeMutablePointer<UInt>
  private let kinds: UnsafeMutablePointer<Kind>
  private let classify: (UnsafePointer<UInt8>) -> Kind

  init(classify: @escaping (UnsafePointer<UInt8>) -> Kind, placeholder: Kind) {
    self.classify = classify
    addresses = .allocate(capacity: Self.slotCount)
    addresses.initialize(repeating: 0, count: Self.slotCount)
    kinds = .allocate(capacity: Self.slotCount)
    kinds.initialize(repeating: placeholder, count: Self.slotCount)
  }

  deinit {
    addresses.deallocate()
    kinds.deinitialize(count: Self.slotCount)
    kinds.deallocate()
  }

  @inline(__always) func kind(of name: UnsafePointer<UInt8>) -> Kind {
    let address = UInt(bitPattern: name)
    // Dictionary strings sit a few bytes apart: mix in higher bits too.
    let slot = Int(truncatingIfNeeded: (address >> 3 ^ address >> 8) & UInt(Self.slotCount - 1))
    if addresses[slot] == address { return kinds[slot] }
    let kind = classify(name)
    addresses[slot] = address
    kinds[slot] = kind
    return kind
  }
}

extension InternedNames where Kind == ElementName {
  convenience init() { self.init(classify: ElementName.init, placeholder: .other) }
}

extension InternedNames where Kind == TestCaseAttribute {
  convenience init() { self.init(classify: TestCaseAttribute.init, placeholder: .other) }
}
