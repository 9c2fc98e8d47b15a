/// HMAC-SHA256 (RFC 2104 with SHA-256, test vectors in RFC 4231).
///
/// ```swift
/// let mac = HMACSHA256.authenticationCode(for: body, key: Array(secret.utf8))
/// let header = "sha256=" + Hex.encode(mac)
/// ```
public struct HMACSHA256: Sendable {
  /// The length of a MAC in bytes.
  public static let byteCount = SHA256.digestByteCount

  private var inner: SHA256
  private var outer: SHA256

  /// A MAC computation keyed with `key`; keys longer than a SHA-256 block are hashed first.
  public init(key: some Sequence<UInt8>) {
    var block = Array(key)
    if block.count > SHA256.blockByteCount { block = SHA256.hash(block) }
    block.append(contentsOf: repeatElement(0, count: SHA256.blockByteCount - block.count))
    inner = SHA256()
    inner.update(block.map { $0 ^ 0x36 })
    outer = SHA256()
    outer.update(block.map { $0 ^ 0x5c })
  }

  /// Adds `bytes` to the message.
  public mutating func update(_ bytes: some Sequence<UInt8>) {
    inner.update(bytes)
  }

  /// The MAC of everything added so far.
  public func finalize() -> [UInt8] {
    var result = outer
    result.update(inner.finalize())
    return result.finalize()
  }

  /// The MAC of `message` under `key`.
  public static func authenticationCode(for message: some Sequence<UInt8>, key: some Sequence<UInt8>) -> [UInt8] {
    var mac = HMACSHA256(key: key)
    mac.update(message)
    return mac.finalize()
  }
}

/// Whether two byte arrays are equal, taking the same time for every pair of equal-length inputs.
///
/// The running time depends only on the lengths, never on where the first difference is,
/// so an attacker cannot learn a MAC or token byte by byte from response times. Arrays of
/// different lengths compare unequal at once (the length of a MAC is public).
public func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
  guard lhs.count == rhs.count else { return false }
  var difference: UInt8 = 0
  for index in lhs.indices {
    difference |= lhs[index] ^ rhs[index]
  }
  return difference == 0
}

/// Lowercase hexadecimal text for bytes, and back.
public enum Hex {
  /// `[0xab, 0x01]` → `"ab01"`.
  public static func encode(_ bytes: some Sequence<UInt8>) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var text: [UInt8] = []
    for byte in bytes {
      text.append(digits[Int(byte >> 4)])
      text.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: text, as: UTF8.self)
  }

  /// The bytes of hexadecimal text (either case), or nil for an odd length or a non-hex character.
  public static func decode(_ text: some StringProtocol) -> [UInt8]? {
    let utf8 = Array(text.utf8)
    guard utf8.count % 2 == 0 else { return nil }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(utf8.count / 2)
    var index = 0
    while index < utf8.count {
      guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
      bytes.append(high << 4 | low)
      index += 2
    }
    return bytes
  }

  private static func nibble(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
  }
}
