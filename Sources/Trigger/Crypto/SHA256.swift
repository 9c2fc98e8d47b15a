/// SHA-256 (FIPS 180-4) in pure Swift, for webhook signatures where CryptoKit is unavailable.
///
/// ```swift
/// let digest = SHA256.hash(Array("abc".utf8))   // 32 bytes
/// var hasher = SHA256()
/// hasher.update(part1)
/// hasher.update(part2)
/// let same = hasher.finalize()
/// ```
public struct SHA256: Sendable {
  /// The length of a digest in bytes.
  public static let digestByteCount = 32
  /// The length of one input block in bytes.
  public static let blockByteCount = 64

  private var state: [UInt32] = SHA256.initialState
  /// Input not yet compressed: always fewer than 64 bytes between calls.
  private var pending: [UInt8] = []
  /// Bytes absorbed so far.
  private var byteCount: UInt64 = 0

  /// A hasher with no input yet.
  public init() {
    pending.reserveCapacity(Self.blockByteCount)
  }

  /// The digest of `bytes`.
  public static func hash(_ bytes: some Sequence<UInt8>) -> [UInt8] {
    var hasher = SHA256()
    hasher.update(bytes)
    return hasher.finalize()
  }

  /// Adds `bytes` to the input.
  public mutating func update(_ bytes: some Sequence<UInt8>) {
    let absorbed: Void? = bytes.withContiguousStorageIfAvailable { buffer in
      absorb(buffer)
    }
    if absorbed == nil {
      let copy = Array(bytes)
      copy.withUnsafeBufferPointer { absorb($0) }
    }
  }

  /// The digest of everything added so far; the hasher itself is left unchanged.
  public func finalize() -> [UInt8] {
    var copy = self
    let bitLength = byteCount &* 8
    var tail: [UInt8] = [0x80]
    let used = (copy.pending.count + 1) % Self.blockByteCount
    let zeros = used <= 56 ? 56 - used : 64 + 56 - used
    tail.append(contentsOf: repeatElement(0, count: zeros))
    for shift in stride(from: 56, through: 0, by: -8) {
      tail.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift)))
    }
    // The length was captured above, so absorbing the padding does not change it.
    tail.withUnsafeBufferPointer { copy.absorb($0) }
    var digest: [UInt8] = []
    digest.reserveCapacity(Self.digestByteCount)
    for word in copy.state {
      digest.append(UInt8(truncatingIfNeeded: word >> 24))
      digest.append(UInt8(truncatingIfNeeded: word >> 16))
      digest.append(UInt8(truncatingIfNeeded: word >> 8))
      digest.append(UInt8(truncatingIfNeeded: word))
    }
    return digest
  }

  private mutating func absorb(_ input: UnsafeBufferPointer<UInt8>) {
    guard let base = input.baseAddress, !input.isEmpty else { return }
    byteCount &+= UInt64(input.count)
    var index = 0
    if !pending.isEmpty {
      let take = min(Self.blockByteCount - pending.count, input.count)
      pending.append(contentsOf: UnsafeBufferPointer(start: base, count: take))
      index = take
      guard pending.count == Self.blockByteCount else { return }
      let block = pending
      pending.removeAll(keepingCapacity: true)
      block.withUnsafeBufferPointer { buffer in
        if let start = buffer.baseAddress { Self.compress(&state, start) }
      }
    }
    while input.count - index >= Self.blockByteCount {
      Self.compress(&state, base + index)
      index += Self.blockByteCount
    }
    if index < input.count {
      pending.append(contentsOf: UnsafeBufferPointer(start: base + index, count: input.count - index))
    }
  }

  @inline(__always)
  private static func rotr(_ value: UInt32, _ count: UInt32) -> UInt32 {
    (value >> count) | (value << (32 - count))
  }

  /// One application of the compression function (FIPS 180-4 §6.2.2) to a 64-byte block.
  private static func compress(_ hash: inout [UInt32], _ block: UnsafePointer<UInt8>) {
    withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { schedule in
      for t in 0..<16 {
        let i = t * 4
        let b0 = UInt32(block[i]) << 24
        let b1 = UInt32(block[i + 1]) << 16
        let b2 = UInt32(block[i + 2]) << 8
        let b3 = UInt32(block[i + 3])
        schedule[t] = b0 | b1 | b2 | b3
      }
      for t in 16..<64 {
        let w15 = schedule[t - 15]
        let w2 = schedule[t - 2]
        let s0 = rotr(w15, 7) ^ rotr(w15, 18) ^ (w15 >> 3)
        let s1 = rotr(w2, 17) ^ rotr(w2, 19) ^ (w2 >> 10)
        schedule[t] = schedule[t - 16] &+ s0 &+ schedule[t - 7] &+ s1
      }
      var a = hash[0]
      var b = hash[1]
      var c = hash[2]
      var d = hash[3]
      var e = hash[4]
      var f = hash[5]
      var g = hash[6]
      var h = hash[7]
      for t in 0..<64 {
        let bigSigma1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
        let choose = (e & f) ^ (~e & g)
        let t1 = h &+ bigSigma1 &+ choose &+ roundConstants[t] &+ schedule[t]
        let bigSigma0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
        let majority = (a & b) ^ (a & c) ^ (b & c)
        let t2 = bigSigma0 &+ majority
        h = g
        g = f
        f = e
        e = d &+ t1
        d = c
        c = b
        b = a
        a = t1 &+ t2
      }
      hash[0] &+= a
      hash[1] &+= b
      hash[2] &+= c
      hash[3] &+= d
      hash[4] &+= e
      hash[5] &+= f
      hash[6] &+= g
      hash[7] &+= h
    }
  }

  private static let initialState: [UInt32] = [
    0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19,
  ]

  private static let roundConstants: [UInt32] = [
    0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
    0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
    0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
    0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
    0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
    0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
    0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
    0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
  ]
}
