import Dispatch

/// A set of 64-bit key hashes, each with 4 bits of state, in about 7 bytes a key.
///
/// The hash's top 12 bits choose one of 4,096 partitions, so a partition needs
/// to keep only 44 more bits of it (56 bits in all: two tests out of five
/// million merge by accident about once in 10^4 reports). An entry is three
/// UInt16 words. Partitions are Robin Hood tables, which stay quick to probe
/// up to 90% full, and grow on their own by a quarter at a time, so memory
/// follows the number of keys closely and a resize never holds two copies of
/// the whole table.
///
/// Slots live in memory of its own (no array headers to check or miss on the
/// hot path), so the table is a class; ``StreamingTotals`` copies it on write.
final class CompactKeyTable: @unchecked Sendable {
  // Not thread-safe; each table is used by one owner at a time, and a shared
  // one is copied before it is changed (StreamingTotals checks uniqueness).
  private static let partitionBits = 12
  private static let partitionCount = 1 << partitionBits
  private static let fingerprintBits: UInt64 = 44
  private static let fingerprintMask: UInt64 = (1 << fingerprintBits) - 1
  private static let maxLoad = 0.9
  private static let initialCapacity = 8

  /// One Robin Hood table: three UInt16 words a slot, all zero when empty.
  private struct Partition {
    var words: UnsafeMutableBufferPointer<UInt16>
    var used = 0
    var capacity: Int { words.count / 3 }

    init(capacity: Int) {
      words = .allocate(capacity: 3 * capacity)
      words.initialize(repeating: 0)
    }
  }

  private var partitions: UnsafeMutableBufferPointer<Partition>
  private(set) var count = 0
  /// How a key's stored state and a new one combine (the old state is nil for a new key).
  private let merge: @Sendable (UInt8?, UInt8) -> UInt8
  /// Merges waiting to be applied a batch at a time: reading every slot of a
  /// batch first lets the memory system fetch them in parallel, where one
  /// merge after another would wait for each cache miss in turn.
  private var pending: UnsafeMutableBufferPointer<(hash: UInt64, state: UInt8)>
  private var pendingCount = 0
  private static let batch = 32
  /// Keeps the reads of the first pass from being optimised away.
  private var touched: UInt16 = 0

  init(merge: @escaping @Sendable (UInt8?, UInt8) -> UInt8) {
    self.merge = merge
    pending = .allocate(capacity: Self.batch)
    partitions = .allocate(capacity: Self.partitionCount)
    for index in 0..<Self.partitionCount {
      partitions.initializeElement(at: index, to: Partition(capacity: Self.initialCapacity))
    }
  }

  deinit {
    for partition in partitions { partition.words.deallocate() }
    partitions.deallocate()
    pending.deallocate()
  }

  /// An independent table with the same keys and states.
  func copy() -> CompactKeyTable {
    applyPending()
    let copy = CompactKeyTable(merge: merge)
    for index in 0..<Self.partitionCount {
      copy.partitions[index].words.deallocate()
      let source = partitions[index]
      let words = UnsafeMutableBufferPointer<UInt16>.allocate(capacity: source.words.count)
      _ = words.initialize(fromContentsOf: source.words)
      copy.partitions[index].words = words
      copy.partitions[index].used = source.used
    }
    copy.count = count
    return copy
  }

  /// Merges `state` into the key's stored state now, returning the result.
  @discardableResult
  func merge(_ hash: UInt64, _ state: UInt8) -> UInt8 {
    applyPending()
    return apply(hash, state)
  }

  /// Merges `state` into the key's stored state before the next read of the table.
  func mergeLater(_ hash: UInt64, _ state: UInt8) {
    pending[pendingCount] = (hash, state)
    pendingCount += 1
    if pendingCount == Self.batch { applyPending() }
  }

  private func applyPending() {
    guard pendingCount > 0 else { return }
    var touched = self.touched
    for index in 0..<pendingCount {
      let (partition, fingerprint) = Self.split(pending[index].hash)
      let words = partitions[partition].words
      touched |= words[3 * Self.home(fingerprint, capacity: words.count / 3)]
    }
    self.touched = touched
    for index in 0..<pendingCount { _ = apply(pending[index].hash, pending[index].state) }
    pendingCount = 0
  }

  private func apply(_ hash: UInt64, _ state: UInt8) -> UInt8 {
    let (index, fingerprint) = Self.split(hash)
    let (merged, isNew) = apply(fingerprint, state, inPartition: index)
    if isNew { count += 1 }
    return merged
  }

  /// Merges into one partition only (so partitions can be filled side by side).
  @inline(__always)
  private func apply(_ fingerprint: UInt64, _ state: UInt8, inPartition index: Int) -> (merged: UInt8, isNew: Bool) {
    // Room is made first, so the probe and the write below are one pass.
    if Double(partitions[index].used + 1) > Double(partitions[index].capacity) * Self.maxLoad { grow(index) }
    let words = partitions[index].words
    switch Self.find(fingerprint, in: UnsafeBufferPointer(words)) {
    case .found(let slot):
      let merged = merge(UInt8(words[3 * slot + 2] & 0xF), state) & 0xF
      words[3 * slot + 2] = words[3 * slot + 2] & 0xFFF0 | UInt16(merged)
      return (merged, false)
    case .insertAt(let slot):
      let merged = merge(nil, state) & 0xF
      Self.insert(fingerprint, state: merged, at: slot, into: words)
      partitions[index].used += 1
      return (merged, true)
    }
  }

  /// The stored state of a key, if the table has it.
  func state(of hash: UInt64) -> UInt8? {
    applyPending()
    let (index, fingerprint) = Self.split(hash)
    let words = partitions[index].words
    guard case .found(let slot) = Self.find(fingerprint, in: UnsafeBufferPointer(words)) else { return nil }
    return UInt8(words[3 * slot + 2] & 0xF)
  }

  /// Merges every key of `later` (keys counted after this table's) into this
  /// table, emptying `later` a partition at a time so the two never hold all
  /// their keys twice over (two workers take half the partitions each). `releasingMemory` is called every 64
  /// partitions: when `later` was filled on another thread its memory sits in
  /// another malloc arena, which this table's growth cannot reuse.
  func absorb(_ later: CompactKeyTable, releasingMemory: @escaping @Sendable () -> Void = {}) {
    applyPending()
    later.applyPending()
    // Partitions are independent: each of two workers merges half of them.
    let added = Locked(0)
    let workers = 2
    DispatchQueue.concurrentPerform(iterations: workers) { worker in
      let range = (worker * Self.partitionCount / workers)..<((worker + 1) * Self.partitionCount / workers)
      let newKeys = absorbPartitions(range, of: later, releasingMemory: releasingMemory)
      added.withLock { $0 += newKeys }
    }
    count += added.withLock { $0 }
    later.count = 0
  }

  private func absorbPartitions(
    _ range: Range<Int>, of later: CompactKeyTable, releasingMemory: () -> Void
  ) -> Int {
    var newKeys = 0
    for index in range {
      let source = UnsafeBufferPointer(later.partitions[index].words)
      // Room for both at once: one resize instead of several as the keys arrive.
      let needed = partitions[index].used + later.partitions[index].used
      if Double(needed) > Double(partitions[index].capacity) * Self.maxLoad {
        resize(index, capacity: Int(Double(needed) / Self.maxLoad) + 1)
      }
      for slot in 0..<source.count / 3 where !Self.isEmpty(source, slot) {
        if apply(Self.fingerprint(source, slot), UInt8(source[3 * slot + 2] & 0xF), inPartition: index).isNew {
          newKeys += 1
        }
      }
      later.partitions[index].words.deallocate()
      later.partitions[index] = Partition(capacity: Self.initialCapacity)
      if index % 64 == 63 { releasingMemory() }
    }
    return newKeys
  }

  /// Calls `body` with the state of every key.
  func forEachState(_ body: (UInt8) -> Void) {
    applyPending()
    for partition in partitions {
      let words = UnsafeBufferPointer(partition.words)
      for slot in 0..<partition.capacity where !Self.isEmpty(words, slot) {
        body(UInt8(words[3 * slot + 2] & 0xF))
      }
    }
  }

  // MARK: - Layout

  private static func split(_ hash: UInt64) -> (partition: Int, fingerprint: UInt64) {
    let partition = Int(truncatingIfNeeded: hash >> UInt64(64 - partitionBits))
    let fingerprint = (hash >> 8) & fingerprintMask
    return (partition, fingerprint == 0 ? 1 : fingerprint)
  }

  @inline(__always)
  private static func isEmpty(_ words: UnsafeBufferPointer<UInt16>, _ slot: Int) -> Bool {
    words[3 * slot] | words[3 * slot + 1] | words[3 * slot + 2] >> 4 == 0
  }

  @inline(__always)
  private static func fingerprint(_ words: UnsafeBufferPointer<UInt16>, _ slot: Int) -> UInt64 {
    UInt64(words[3 * slot]) << 28 | UInt64(words[3 * slot + 1]) << 12 | UInt64(words[3 * slot + 2] >> 4)
  }

  /// Where a fingerprint would sit with no collisions; multiply-shift maps 32 of
  /// its bits onto any capacity, not only powers of two.
  @inline(__always)
  private static func home(_ fingerprint: UInt64, capacity: Int) -> Int {
    Int((UInt64(UInt32(truncatingIfNeeded: fingerprint >> 12)) &* UInt64(capacity)) >> 32)
  }

  private enum Probe {
    case found(Int)
    /// Not present; it belongs at this slot (which may be taken by a key that must move on).
    case insertAt(Int)
  }

  /// Robin Hood lookup: keys sit in order of their home slots, so the search
  /// stops at the first key that is nearer its home than we are to ours.
  private static func find(_ fingerprint: UInt64, in words: UnsafeBufferPointer<UInt16>) -> Probe {
    let capacity = words.count / 3
    var slot = home(fingerprint, capacity: capacity)
    var distance = 0
    while true {
      if isEmpty(words, slot) { return .insertAt(slot) }
      let resident = Self.fingerprint(words, slot)
      if resident == fingerprint { return .found(slot) }
      var residentDistance = slot - home(resident, capacity: capacity)
      if residentDistance < 0 { residentDistance += capacity }
      if residentDistance < distance { return .insertAt(slot) }
      slot += 1
      if slot == capacity { slot = 0 }
      distance += 1
    }
  }

  /// Puts the key at `slot`, moving the run of keys from there to the next empty
  /// slot one place on (which keeps the Robin Hood order).
  private static func insert(
    _ fingerprint: UInt64, state: UInt8, at slot: Int, into words: UnsafeMutableBufferPointer<UInt16>
  ) {
    let capacity = words.count / 3
    let readable = UnsafeBufferPointer(words)
    var empty = slot
    while !isEmpty(readable, empty) {
      empty += 1
      if empty == capacity { empty = 0 }
    }
    while empty != slot {
      let previous = empty == 0 ? capacity - 1 : empty - 1
      words[3 * empty] = words[3 * previous]
      words[3 * empty + 1] = words[3 * previous + 1]
      words[3 * empty + 2] = words[3 * previous + 2]
      empty = previous
    }
    words[3 * slot] = UInt16(truncatingIfNeeded: fingerprint >> 28)
    words[3 * slot + 1] = UInt16(truncatingIfNeeded: fingerprint >> 12)
    words[3 * slot + 2] = UInt16(truncatingIfNeeded: fingerprint & 0xFFF) << 4 | UInt16(state & 0xF)
  }

  private func grow(_ index: Int) {
    let oldCapacity = partitions[index].capacity
    resize(index, capacity: oldCapacity + oldCapacity / 4 + 1)
  }

  private func resize(_ index: Int, capacity: Int) {
    let old = UnsafeBufferPointer(partitions[index].words)
    let oldCapacity = old.count / 3
    var grown = Partition(capacity: capacity)
    for slot in 0..<oldCapacity where !Self.isEmpty(old, slot) {
      let fingerprint = Self.fingerprint(old, slot)
      guard case .insertAt(let target) = Self.find(fingerprint, in: UnsafeBufferPointer(grown.words)) else { continue }
      Self.insert(fingerprint, state: UInt8(old[3 * slot + 2] & 0xF), at: target, into: grown.words)
    }
    grown.used = partitions[index].used
    partitions[index].words.deallocate()
    partitions[index] = grown
  }
}
