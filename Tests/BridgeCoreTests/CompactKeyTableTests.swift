@testable import BridgeCore
import Testing

/// The key table against a plain dictionary that folds every key's states in
/// arrival order. Hashes are aimed at a few partitions, so their logs fill and
/// are sorted into the arrays many times over.
@Suite struct CompactKeyTableTests {
  /// Last status wins (low 3 bits); bit 3 is sticky. Associative with nil as
  /// identity, like StreamingTotals' merge, and sensitive to order: a log
  /// folded out of order leaves the wrong last status.
  static let merge: @Sendable (UInt8?, UInt8) -> UInt8 = { old, new in
    guard let old else { return new }
    return new | (old & 0x8)
  }

  /// The table's view of the hashes fed so far, as the model sees it.
  struct Model {
    var states: [UInt64: UInt8] = [:]

    /// Keys are told apart by the 56 bits the table keeps.
    static func key(_ hash: UInt64) -> UInt64 { hash >> 8 }

    mutating func merge(_ hash: UInt64, _ state: UInt8) -> UInt8 {
      let merged = CompactKeyTableTests.merge(states[Self.key(hash)], state) & 0xF
      states[Self.key(hash)] = merged
      return merged
    }

    func state(of hash: UInt64) -> UInt8? { states[Self.key(hash)] }

    var histogram: [UInt8: Int] { states.values.reduce(into: [:]) { $0[$1, default: 0] += 1 } }
  }

  /// The table's states as `forEachState` hands them out; `stateCounts` (two
  /// workers) must count the same.
  static func histogram(_ table: CompactKeyTable) -> [UInt8: Int] {
    var histogram: [UInt8: Int] = [:]
    table.forEachState { histogram[$0, default: 0] += 1 }
    let counted = table.stateCounts()
    #expect(counted == (0..<16).map { histogram[UInt8($0)] ?? 0 }, "stateCounts and forEachState differ")
    return histogram
  }

  /// A hash in one of `partitions` partitions, with one of `keys` fingerprints.
  static func hash(_ generator: inout SplitMix, partitions: UInt64, keys: UInt64) -> UInt64 {
    let partition = generator.next() % partitions
    let fingerprint = generator.next() % keys
    return partition << 52 | (fingerprint &* 0x9E37_79B9) << 8 & (1 << 52 - 1)
  }

  @Test(arguments: [(1, 50), (3, 4_000), (64, 100_000)] as [(UInt64, UInt64)])
  func foldsEveryKeyInArrivalOrder(partitions: UInt64, keys: UInt64) {
    var generator = SplitMix(seed: partitions &* keys)
    let table = CompactKeyTable(merge: Self.merge)
    var model = Model()
    for step in 0..<60_000 {
      let hash = Self.hash(&generator, partitions: partitions, keys: keys)
      let state = UInt8(generator.next() % 16)
      let expected = model.merge(hash, state)
      if step % 7 == 0 {
        #expect(table.merge(hash, state) == expected, "step \(step)")
      } else {
        table.mergeLater(hash, state)
      }
      if step % 997 == 0 {
        // Keys present, absent and just changed, with their logs not yet sorted.
        let probe = Self.hash(&generator, partitions: partitions, keys: keys)
        #expect(table.state(of: probe) == model.state(of: probe), "step \(step)")
        #expect(table.state(of: hash) == expected, "step \(step)")
      }
    }
    #expect(Self.histogram(table) == model.histogram)
    // Reading the totals changes nothing.
    #expect(Self.histogram(table) == model.histogram)
  }

  /// Counted with `mergeLater` alone, keys wait in the pending buffer (16,384
  /// of them) before their logs: reads find them there, in order, before and
  /// after it fills and is handed out.
  @Test(arguments: [(1, 50), (64, 100_000), (4_096, 1_000_000)] as [(UInt64, UInt64)])
  func keysStillPendingAreRead(partitions: UInt64, keys: UInt64) {
    var generator = SplitMix(seed: partitions &+ keys)
    let table = CompactKeyTable(merge: Self.merge)
    var model = Model()
    for step in 0..<70_000 {
      // The low 8 bits are not the table's: a key may come with any.
      let hash = Self.hash(&generator, partitions: partitions, keys: keys) | generator.next() & 0xFF
      let state = UInt8(generator.next() % 16)
      let expected = model.merge(hash, state)
      table.mergeLater(hash, state)
      if step % 1_999 == 0 {
        #expect(table.state(of: hash) == expected, "step \(step)")
        let probe = Self.hash(&generator, partitions: partitions, keys: keys)
        #expect(table.state(of: probe) == model.state(of: probe), "step \(step)")
      }
      if step % 9_001 == 0 {
        #expect(Self.histogram(table) == model.histogram, "step \(step)")
        #expect(Self.histogram(table.copy()) == model.histogram, "copy at step \(step)")
      }
    }
    #expect(Self.histogram(table) == model.histogram)
  }

  @Test func memoryFollowsDistinctKeysNotRepeats() {
    let table = CompactKeyTable(merge: Self.merge)
    for attempt in 0..<200_000 { table.mergeLater(0xABC0_0000_0000_1200, UInt8(attempt % 8)) }
    #expect(table.storedEntries <= 33, "one key, \(table.storedEntries) entries")
    #expect(table.state(of: 0xABC0_0000_0000_1200) == UInt8(199_999 % 8))

    var generator = SplitMix(seed: 9)
    let many = CompactKeyTable(merge: Self.merge)
    for _ in 0..<100 {
      for key in 0..<2_000 as Range<UInt64> { many.mergeLater(key << 20 | 0x55 << 8, UInt8(generator.next() % 8)) }
    }
    // 2,000 keys in one partition: its array, plus a log of at most an eighth of it.
    #expect(many.storedEntries <= 2_000 + 2_000 / 8, "\(many.storedEntries)")
    #expect(Self.histogram(many).values.reduce(0, +) == 2_000)
  }

  @Test(arguments: [0, 1, 17, 5_000, 29_999, 30_000])
  func absorbingALaterTableFoldsItsStatesAfter(_ cut: Int) {
    var generator = SplitMix(seed: UInt64(cut) + 1)
    let earlier = CompactKeyTable(merge: Self.merge)
    let later = CompactKeyTable(merge: Self.merge)
    var model = Model()
    for step in 0..<30_000 {
      let hash = Self.hash(&generator, partitions: 5, keys: 3_000)
      let state = UInt8(generator.next() % 16)
      _ = model.merge(hash, state)
      (step < cut ? earlier : later).mergeLater(hash, state)
    }
    let copy = earlier.copy()
    let before = Self.histogram(earlier)
    earlier.absorb(later)
    #expect(Self.histogram(earlier) == model.histogram)
    // Joined but not merged yet (the first change merges): every key reads as counted whole.
    for key in model.states.keys.prefix(2_000) { #expect(earlier.state(of: key << 8) == model.states[key]) }
    #expect(earlier.storedEntries >= model.states.count)
    let joinedCopy = earlier.copy()
    let joinedHistogram = Self.histogram(joinedCopy)
    #expect(Self.histogram(later).isEmpty, "the absorbed table is left empty")
    #expect(Self.histogram(copy) == before, "a copy taken before is not changed")
    // The emptied table counts afresh, and the joined one counts on (its logs were let go).
    later.mergeLater(42 << 8, 3)
    #expect(later.state(of: 42 << 8) == 3)
    for _ in 0..<5_000 {
      let hash = Self.hash(&generator, partitions: 5, keys: 3_000)
      let state = UInt8(generator.next() % 16)
      #expect(earlier.merge(hash, state) == model.merge(hash, state))
    }
    #expect(Self.histogram(earlier) == model.histogram)
    #expect(Self.histogram(joinedCopy) == joinedHistogram, "a copy of the joined table is not changed")
  }

  @Test func aCopyKeepsItsOwnLogs() {
    let table = CompactKeyTable(merge: Self.merge)
    for key in 0..<100 as Range<UInt64> { table.mergeLater(key << 8, 1) }
    let copy = table.copy()
    for key in 0..<100 as Range<UInt64> { table.mergeLater(key << 8, 0x8 | 2) }
    copy.mergeLater(7 << 8, 5)
    #expect(Self.histogram(table) == [0xA: 100])
    #expect(Self.histogram(copy) == [1: 99, 5: 1])
  }

  /// Logs sorted from ascending, descending and constant-partition runs come out right
  /// (the cases that defeat a quicksort's pivot).
  @Test(arguments: ["ascending", "descending", "organ pipe"])
  func logsInAnyOrderSort(_ order: String) {
    let table = CompactKeyTable(merge: Self.merge)
    var model = Model()
    let count: UInt64 = 50_000
    for index in 0..<count {
      let key: UInt64
      switch order {
      case "ascending": key = index
      case "descending": key = count - index
      default: key = index < count / 2 ? index : count - index
      }
      let hash = key << 8
      let state = UInt8(index % 16)
      _ = model.merge(hash, state)
      table.mergeLater(hash, state)
    }
    #expect(Self.histogram(table) == model.histogram)
  }
}
