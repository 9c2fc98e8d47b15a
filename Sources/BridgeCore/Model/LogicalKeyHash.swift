/// A deterministic 64-bit hash of a logical test's key (suite path, classname, name).
///
/// The counting path hashes the raw attribute bytes libxml2 hands out, without
/// making Strings; the in-memory path hashes the Strings of a ``TestCaseResult``.
/// Both feed the same bytes in the same framing, so they agree. Unlike Swift's
/// `Hasher` it is not seeded per process: the same report counts the same way
/// every time. Words are mixed eight bytes at a time, which keeps it cheap on
/// the hot path of a multi-million-testcase report.
public struct LogicalKeyHash: Sendable {
  private var state: UInt64

  /// A hash with nothing fed yet.
  public init() { state = 0x243F_6A88_85A3_08D3 }

  /// Feeds one component (a suite name, the classname or the name), framed by its length.
  public mutating func combine(_ bytes: UnsafeBufferPointer<UInt8>) {
    mix(UInt64(bytes.count) | 0xA5 << 56)
    guard let base = bytes.baseAddress else { return }
    let raw = UnsafeRawPointer(base)
    var offset = 0
    while offset + 8 <= bytes.count {
      mix(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
      offset += 8
    }
    let rest = bytes.count - offset
    if rest > 0, bytes.count >= 8 {
      // The last eight bytes, shifted down to the `rest` not yet mixed: the
      // same word the byte loop below builds, in one load.
      let last = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: bytes.count - 8, as: UInt64.self))
      mix(last >> UInt64(64 - 8 * rest))
    } else if rest > 0 {
      var tail: UInt64 = 0
      var shift: UInt64 = 0
      while offset < bytes.count {
        tail |= UInt64(base[offset]) << shift
        shift += 8
        offset += 1
      }
      mix(tail)
    }
  }

  /// Feeds a String's UTF-8 bytes as one component.
  public mutating func combine(_ string: String) {
    var string = string
    string.withUTF8 { combine($0) }
  }

  private mutating func mix(_ word: UInt64) {
    state = (state ^ word) &* 0x9E37_79B9_7F4A_7C15
    state ^= state >> 29
  }

  /// The hash so far, with every input bit spread over the whole word.
  public var value: UInt64 {
    // MurmurHash3's 64-bit finaliser.
    var value = state
    value ^= value >> 33
    value &*= 0xFF51_AFD7_ED55_8CCD
    value ^= value >> 33
    value &*= 0xC4CE_B9FE_1A85_EC53
    value ^= value >> 33
    return value
  }

  /// The hash of a suite path, to be continued with the classname and name.
  ///
  /// Every component is framed by its length and a key always ends with exactly
  /// two (classname, name), so the suite path can be hashed one suite at a time.
  public static func suitePath(_ suites: [String]) -> LogicalKeyHash {
    var hash = LogicalKeyHash()
    for suite in suites { hash.combine(suite) }
    return hash
  }

  /// The key hash of a testcase read into memory.
  public static func of(_ testcase: TestCaseResult) -> UInt64 {
    var hash = suitePath(testcase.suitePath)
    hash.combine(testcase.classname ?? "")
    hash.combine(testcase.name)
    return hash.value
  }
}
