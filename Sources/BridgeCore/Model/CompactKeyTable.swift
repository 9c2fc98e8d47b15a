import Dispatch

/// A set of 64-bit key hashes, each with 4 bits of state, in about 7 bytes a key.
///
/// The hash's top 12 bits choose one of 4,096 partitions, so a partition needs
/// to keep only 44 more bits of it (56 bits in all: two tests out of five
/// million merge by accident about once in 10^4 reports).
///
/// A partition is a sorted array of 6-byte entries (44 bits of hash, 4 of
/// state) and a short log of the keys counted since it was last sorted. A key
/// is counted by appending it to its partition's log, which touches one cache
/// line a partition: a hash table would take a cache miss for every key once it
/// outgrows the processor's caches, and move many entries at each insertion.
/// When a log is full it is sorted and merged into the array, which then fits
/// in the cache. A log holds at most an eighth of its array (and 32 keys at
/// least), so memory follows the number of distinct keys, however often a key
/// repeats.
///
/// Keys counted with ``mergeLater(_:_:)`` first wait in one short buffer of
/// arrival order, handed out to the logs when it fills. Between two keys a
/// parser streams through far more bytes than the processor's caches hold, so
/// appending each key to its log at once waited on memory for every key; the
/// buffer's hand-out touches the logs back to back, and the processor fetches
/// many of them at once.
///
/// States are combined by `merge`, which must be associative with nil as its
/// identity (`merge(merge(a, b), c) == merge(a, merge(b, c))`): a log's
/// attempts are folded among themselves before they meet the array's.
final class CompactKeyTable: @unchecked Sendable {
  // Not thread-safe; each table is used by one owner at a time, and a shared
  // one is copied before it is changed (StreamingTotals checks uniqueness).
  // `mergeJoined` and `stateCounts` work on disjoint partitions from two threads.
  private static let partitionBits = 12
  private static let partitionCount = 1 << partitionBits
  private static let fingerprintBits: UInt64 = 44
  private static let fingerprintMask: UInt64 = (1 << fingerprintBits) - 1
  /// A log entry: fingerprint, then its place in the log (so sorting keeps
  /// the attempts of one key in order), then the state.
  private static let sequenceShift: UInt64 = 4
  private static let fingerprintShift: UInt64 = 20
  /// At most 2^15 so a log and the whole pending buffer together fit the 16
  /// sequence bits (``forEachState(_:)`` folds them in one copy).
  private static let maxLogCapacity = 1 << 15
  /// Keys waiting to be handed to their logs: 128 KiB.
  private static let pendingCapacity = 1 << 14
  private static let minLogCapacity = 32
  /// A sorted entry: fingerprint above 4 bits of state, stored in 6 bytes.
  private static let entryBytes = 6
  private static let entryMask: UInt64 = (1 << 48) - 1

  private struct Partition {
    /// `sortedCount` entries of 6 bytes, ascending, and 2 bytes of padding so
    /// every entry can be read as one unaligned 8-byte load.
    var sorted: UnsafeMutableRawPointer?
    var sortedCount = 0
    var log: UnsafeMutablePointer<UInt64>?
    var logCount = 0
    var logCapacity = 0
  }

  private var partitions: UnsafeMutablePointer<Partition>
  /// Keys counted after this table's, joined by ``absorb(_:releasingMemory:)``
  /// and not merged in yet: reading the totals walks both tables as they are,
  /// and the first change to this table merges them. The totals of a report
  /// whose halves were counted on two threads are then read with no merge at
  /// all (and without the merge's memory).
  private var joined: CompactKeyTable?
  private var releaseWhileMerging: @Sendable () -> Void = {}
  /// How a key's stored state and a new one combine (the old state is nil for a new key).
  private let merge: @Sendable (UInt8?, UInt8) -> UInt8
  /// Keys counted after every log entry, in arrival order, not handed to their
  /// logs yet: the hash's top 56 bits (all the table keeps) over 4 bits of
  /// state. Empty whenever `joined` is set. Reading the table never hands them
  /// out (a table shared between threads is only read), it reads them where they are.
  private let pending: UnsafeMutablePointer<UInt64>
  private var pendingCount = 0

  init(merge: @escaping @Sendable (UInt8?, UInt8) -> UInt8) {
    self.merge = merge
    partitions = .allocate(capacity: Self.partitionCount)
    partitions.initialize(repeating: Partition(), count: Self.partitionCount)
    pending = .allocate(capacity: Self.pendingCapacity)
  }

  deinit {
    for index in 0..<Self.partitionCount { Self.release(&partitions[index]) }
    partitions.deinitialize(count: Self.partitionCount)
    partitions.deallocate()
    pending.deallocate()
  }

  /// An independent table with the same keys and states.
  func copy() -> CompactKeyTable {
    let copy = CompactKeyTable(merge: merge)
    for index in 0..<Self.partitionCount {
      let source = partitions[index]
      var target = Partition()
      if let sorted = source.sorted {
        let bytes = Self.sortedBytes(source.sortedCount)
        target.sorted = .allocate(byteCount: bytes, alignment: 8)
        target.sorted!.copyMemory(from: sorted, byteCount: bytes)
        target.sortedCount = source.sortedCount
      }
      if let log = source.log {
        target.log = .allocate(capacity: source.logCapacity)
        target.log!.initialize(from: log, count: source.logCount)
        target.logCount = source.logCount
        target.logCapacity = source.logCapacity
      }
      copy.partitions[index] = target
    }
    copy.pending.update(from: pending, count: pendingCount)
    copy.pendingCount = pendingCount
    copy.joined = joined?.copy()
    copy.releaseWhileMerging = releaseWhileMerging
    return copy
  }

  /// Merges `state` into the key's stored state, returning the result.
  @discardableResult
  func merge(_ hash: UInt64, _ state: UInt8) -> UInt8 {
    if _slowPath(joined != nil) { mergeJoined() }
    handOutPending()
    let merged = merge(self.state(of: hash), state) & 0xF
    appendToLog(Self.pendingEntry(hash, state))
    return merged
  }

  /// Merges `state` into the key's stored state, without telling the result.
  @inline(__always)
  func mergeLater(_ hash: UInt64, _ state: UInt8) {
    if _slowPath(joined != nil) { mergeJoined() }
    if _slowPath(pendingCount == Self.pendingCapacity) { handOutPending() }
    pending[pendingCount] = Self.pendingEntry(hash, state)
    pendingCount += 1
  }

  /// The 56 bits of the hash that ``split(_:)`` reads, over the state.
  @inline(__always)
  private static func pendingEntry(_ hash: UInt64, _ state: UInt8) -> UInt64 {
    hash & ~0xFF | UInt64(state & 0xF)
  }

  /// Appends the pending keys to their partitions' logs, in arrival order.
  private func handOutPending() {
    for index in 0..<pendingCount { appendToLog(pending[index]) }
    pendingCount = 0
  }

  @inline(__always)
  private func appendToLog(_ entry: UInt64) {
    let (index, fingerprint) = Self.split(entry)
    let partition = partitions + index
    if partition.pointee.logCount == partition.pointee.logCapacity { makeRoom(in: partition) }
    let position = partition.pointee.logCount
    partition.pointee.log![position] =
      fingerprint << Self.fingerprintShift | UInt64(position) << Self.sequenceShift | entry & 0xF
    partition.pointee.logCount = position + 1
  }

  /// The stored state of a key, if the table has it.
  func state(of hash: UInt64) -> UInt8? {
    let (index, fingerprint) = Self.split(hash)
    let partition = partitions[index]
    var state = Self.search(fingerprint, in: partition)
    for position in 0..<partition.logCount where partition.log![position] >> Self.fingerprintShift == fingerprint {
      state = merge(state, UInt8(partition.log![position] & 0xF)) & 0xF
    }
    for position in 0..<pendingCount where pending[position] & ~0xFF == hash & ~0xFF {
      state = merge(state, UInt8(pending[position] & 0xF)) & 0xF
    }
    if let later = joined?.state(of: hash) { state = state.map { merge($0, later) & 0xF } ?? later }
    return state
  }

  /// Calls `body` with the state of every key.
  func forEachState(_ body: (UInt8) -> Void) {
    let waiting = PendingByPartition(pending, count: pendingCount)
    defer { waiting.release() }
    walk(0..<Self.partitionCount, waiting: waiting, body)
  }

  /// How many keys hold each of the 16 states. The partitions are walked on
  /// two workers: on a report of millions of tests this is the last thing
  /// counting does, after both halves are read.
  func stateCounts() -> [Int] {
    let waiting = PendingByPartition(pending, count: pendingCount)
    defer { waiting.release() }
    let workers = 2
    // Each worker's 16 counters on cache lines of their own.
    let stride = 16
    let counts = UnsafeMutablePointer<Int>.allocate(capacity: workers * stride)
    counts.initialize(repeating: 0, count: workers * stride)
    defer { counts.deallocate() }
    let shared = SendablePointer(counts)
    DispatchQueue.concurrentPerform(iterations: workers) { worker in
      let range = (worker * Self.partitionCount / workers)..<((worker + 1) * Self.partitionCount / workers)
      let mine = shared.pointer + worker * stride
      walk(range, waiting: waiting) { mine[Int($0)] += 1 }
    }
    return (0..<stride).map { state in (0..<workers).reduce(0) { $0 + counts[$1 * stride + state] } }
  }

  /// Lets the workers of ``stateCounts()`` write to their own parts of one buffer.
  private struct SendablePointer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Int>
    init(_ pointer: UnsafeMutablePointer<Int>) { self.pointer = pointer }
  }

  /// Calls `body` with the state of every key in a range of partitions.
  private func walk(_ range: Range<Int>, waiting: PendingByPartition, _ body: (UInt8) -> Void) {
    var logCopy = Scratch()
    var runs = Scratch()
    defer {
      logCopy.memory?.deallocate()
      runs.memory?.deallocate()
    }
    for index in range {
      let partition = partitions[index]
      // Logs are folded in a copy (with the keys still pending after them):
      // reading the totals leaves the table as it was.
      let folded = foldedCopy(of: partition, then: waiting.entries(of: index), into: &logCopy)
      guard let later = joined?.partitions[index] else {
        mergeSorted(
          partition.sorted, partition.sortedCount, with: logCopy.memory, folded, readingSecond: Self.loadFolded
        ) { body(UInt8($0 & 0xF)) }
        continue
      }
      // A joined table not merged yet: this partition's keys as one run, the
      // joined table's as another, and the two walked as one.
      let earlierBytes = Self.sortedBytes(partition.sortedCount + folded)
      let memory = runs.reserve(earlierBytes + Self.sortedBytes(later.sortedCount + later.logCount))
      let earlierKeys = merge(partition, foldedLog: folded, from: logCopy.memory, into: memory)
      let laterFolded = foldedCopy(of: later, into: &logCopy)
      let laterKeys = merge(later, foldedLog: laterFolded, from: logCopy.memory, into: memory + earlierBytes)
      mergeSorted(memory, earlierKeys, with: memory + earlierBytes, laterKeys, readingSecond: Self.loadSorted) {
        body(UInt8($0 & 0xF))
      }
    }
  }

  /// Folds a copy of a partition's log, and then of its pending keys, into
  /// sorted entries in `scratch`; returns how many.
  private func foldedCopy(
    of partition: Partition, then waiting: UnsafeBufferPointer<UInt64> = .init(start: nil, count: 0),
    into scratch: inout Scratch
  ) -> Int {
    let count = partition.logCount + waiting.count
    guard count > 0 else { return 0 }
    let copy = scratch.reserve(count * 8).bindMemory(to: UInt64.self, capacity: count)
    if let log = partition.log { copy.update(from: log, count: partition.logCount) }
    for (offset, entry) in waiting.enumerated() {
      let position = partition.logCount + offset
      copy[position] =
        Self.split(entry).fingerprint << Self.fingerprintShift | UInt64(position) << Self.sequenceShift | entry & 0xF
    }
    return fold(copy, count: count)
  }

  /// The pending keys grouped by partition, each group in arrival order (a
  /// counting sort), for reading the table without handing them out.
  private struct PendingByPartition: @unchecked Sendable {  // only read once made
    private var grouped: UnsafeMutablePointer<UInt64>?
    private var starts: UnsafeMutablePointer<Int>?

    init(_ pending: UnsafePointer<UInt64>, count: Int) {
      guard count > 0 else { return }
      let partitionCount = CompactKeyTable.partitionCount
      let starts = UnsafeMutablePointer<Int>.allocate(capacity: partitionCount + 1)
      starts.initialize(repeating: 0, count: partitionCount + 1)
      for index in 0..<count { starts[CompactKeyTable.split(pending[index]).partition + 1] += 1 }
      for partition in 0..<partitionCount { starts[partition + 1] += starts[partition] }
      let grouped = UnsafeMutablePointer<UInt64>.allocate(capacity: count)
      var next = Array(UnsafeBufferPointer(start: starts, count: partitionCount))
      for index in 0..<count {
        let partition = CompactKeyTable.split(pending[index]).partition
        grouped[next[partition]] = pending[index]
        next[partition] += 1
      }
      (self.grouped, self.starts) = (grouped, starts)
    }

    func entries(of partition: Int) -> UnsafeBufferPointer<UInt64> {
      guard let grouped, let starts else { return UnsafeBufferPointer(start: nil, count: 0) }
      return UnsafeBufferPointer(start: grouped + starts[partition], count: starts[partition + 1] - starts[partition])
    }

    func release() {
      grouped?.deallocate()
      starts?.deallocate()
    }
  }

  /// Entries held in the sorted arrays and logs (tests check that memory
  /// follows the number of distinct keys); the fixed pending buffer is not counted.
  var storedEntries: Int {
    (0..<Self.partitionCount).reduce(joined?.storedEntries ?? 0) {
      $0 + partitions[$1].sortedCount + partitions[$1].logCount
    }
  }

  /// Takes every key of `later` (keys counted after this table's) as counted
  /// here, leaving `later` empty. The keys are joined, not merged: see
  /// `joined`. When they are merged (two workers take half the partitions
  /// each), `later` is emptied a partition at a time so the two never hold
  /// all their keys twice over, and `releasingMemory` is called every 64
  /// partitions: when `later` was filled on another thread its memory sits in
  /// another malloc arena, which this table's growth cannot reuse.
  func absorb(_ later: CompactKeyTable, releasingMemory: @escaping @Sendable () -> Void = {}) {
    // At most one table waits to be merged, and it has none of its own.
    mergeJoined()
    later.mergeJoined()
    handOutPending()
    later.handOutPending()
    let moved = CompactKeyTable(merge: merge)
    swap(&moved.partitions, &later.partitions)
    joined = moved
    releaseWhileMerging = releasingMemory
  }

  /// Merges the joined table's keys into this table's, partition by partition
  /// on two workers.
  private func mergeJoined() {
    guard let later = joined else { return }
    joined = nil
    let releasingMemory = releaseWhileMerging
    let workers = 2
    DispatchQueue.concurrentPerform(iterations: workers) { worker in
      let range = (worker * Self.partitionCount / workers)..<((worker + 1) * Self.partitionCount / workers)
      var scratch = Scratch()
      defer { scratch.memory?.deallocate() }
      for index in range {
        absorbPartition(index, of: later, through: &scratch)
        if index % 64 == 63 { releasingMemory() }
      }
    }
  }

  /// A worker's buffer for the two arrays being merged.
  private struct Scratch {
    var memory: UnsafeMutableRawPointer?
    var capacity = 0

    mutating func reserve(_ bytes: Int) -> UnsafeMutableRawPointer {
      if bytes > capacity || memory == nil {
        memory?.deallocate()
        capacity = max(bytes, 2 * capacity)
        memory = .allocate(byteCount: capacity, alignment: 8)
      }
      return memory!
    }
  }

  /// Merges one partition of `later` into this table's. Each side's log is
  /// folded into its array in a worker's scratch buffer, and all four buffers
  /// are freed before the merged array is allocated, so it can take their
  /// place in the heap. (Sorting each log into a new array first left holes
  /// too small for the next partition's: the join peaked 9 MB higher on a
  /// 1 GB report.) The logs are not kept: counting more grows them again.
  private func absorbPartition(_ index: Int, of later: CompactKeyTable, through scratch: inout Scratch) {
    let earlier = partitions + index
    let other = later.partitions + index
    let earlierLog = earlier.pointee.log.map { fold($0, count: earlier.pointee.logCount) } ?? 0
    let laterLog = other.pointee.log.map { fold($0, count: other.pointee.logCount) } ?? 0
    let earlierRun = earlier.pointee.sortedCount + earlierLog
    let laterRun = other.pointee.sortedCount + laterLog
    let runs = scratch.reserve(Self.sortedBytes(earlierRun) + Self.sortedBytes(laterRun))
    let laterRunStart = runs + Self.sortedBytes(earlierRun)
    let earlierKeys = merge(earlier.pointee, foldedLog: earlierLog, from: earlier.pointee.log, into: runs)
    let laterKeys = merge(other.pointee, foldedLog: laterLog, from: other.pointee.log, into: laterRunStart)
    Self.release(&earlier.pointee)
    Self.release(&other.pointee)
    guard earlierKeys + laterKeys > 0 else { return }
    let merged = UnsafeMutableRawPointer.allocate(byteCount: Self.sortedBytes(earlierKeys + laterKeys), alignment: 8)
    earlier.pointee.sorted = merged
    earlier.pointee.sortedCount = write(into: merged) { store in
      mergeSorted(runs, earlierKeys, with: laterRunStart, laterKeys, readingSecond: Self.loadSorted, store)
    }
  }

  /// Writes a partition's array merged with its folded log (`foldedLog`
  /// entries at `log`) to `destination`; returns the count.
  private func merge(
    _ partition: Partition, foldedLog: Int, from log: UnsafeMutableRawPointer?, into destination: UnsafeMutableRawPointer
  ) -> Int {
    write(into: destination) { store in
      mergeSorted(partition.sorted, partition.sortedCount, with: log, foldedLog, readingSecond: Self.loadFolded, store)
    }
  }

  /// Stores the entries `produce` hands out, in order, as 6-byte entries; returns how many.
  @inline(__always)
  private func write(
    into destination: UnsafeMutableRawPointer, _ produce: ((UInt64) -> Void) -> Void
  ) -> Int {
    var written = 0
    produce {
      // Entries are written in order, so an 8-byte store only covers bytes not yet written.
      destination.storeBytes(of: $0, toByteOffset: written * Self.entryBytes, as: UInt64.self)
      written += 1
    }
    return written
  }

  // MARK: - Partitions

  private static func split(_ hash: UInt64) -> (partition: Int, fingerprint: UInt64) {
    let partition = Int(truncatingIfNeeded: hash >> UInt64(64 - partitionBits))
    return (partition, (hash >> 8) & fingerprintMask)
  }

  private static func sortedBytes(_ count: Int) -> Int { count * entryBytes + 2 }

  @inline(__always)
  private static func loadSorted(_ base: UnsafeRawPointer, _ index: Int) -> UInt64 {
    base.loadUnaligned(fromByteOffset: index * entryBytes, as: UInt64.self) & entryMask
  }

  @inline(__always)
  private static func loadFolded(_ base: UnsafeRawPointer, _ index: Int) -> UInt64 {
    base.load(fromByteOffset: index * 8, as: UInt64.self)
  }

  private static func release(_ partition: inout Partition) {
    partition.sorted?.deallocate()
    partition.log?.deallocate()
    partition = Partition()
  }

  /// A full log grows while it is small next to the sorted array; otherwise it is merged into it.
  private func makeRoom(in partition: UnsafeMutablePointer<Partition>) {
    let wanted = min(Self.maxLogCapacity, max(Self.minLogCapacity, partition.pointee.sortedCount / 8))
    if partition.pointee.logCapacity < wanted {
      let capacity = min(wanted, max(8, 2 * partition.pointee.logCapacity))
      let grown = UnsafeMutablePointer<UInt64>.allocate(capacity: capacity)
      if let log = partition.pointee.log {
        grown.moveInitialize(from: log, count: partition.pointee.logCount)
        log.deallocate()
      }
      partition.pointee.log = grown
      partition.pointee.logCapacity = capacity
    } else {
      sortLog(of: partition)
    }
  }

  /// Merges a partition's log into its sorted array, leaving the log empty.
  private func sortLog(of partition: UnsafeMutablePointer<Partition>) {
    guard let log = partition.pointee.log, partition.pointee.logCount > 0 else { return }
    let folded = fold(log, count: partition.pointee.logCount)
    let merged = UnsafeMutableRawPointer.allocate(
      byteCount: Self.sortedBytes(partition.pointee.sortedCount + folded), alignment: 8)
    let count = merge(partition.pointee, foldedLog: folded, from: log, into: merged)
    partition.pointee.sorted?.deallocate()
    partition.pointee.sorted = merged
    partition.pointee.sortedCount = count
    partition.pointee.logCount = 0
  }

  /// Sorts `count` log entries in place and folds each key's attempts into one
  /// sorted entry; returns how many keys there are (the first entries).
  private func fold(_ log: UnsafeMutablePointer<UInt64>, count: Int) -> Int {
    Self.sort(log, count: count)
    var keys = 0
    var index = 0
    while index < count {
      let fingerprint = log[index] >> Self.fingerprintShift
      var state = merge(nil, UInt8(log[index] & 0xF)) & 0xF
      index += 1
      while index < count, log[index] >> Self.fingerprintShift == fingerprint {
        state = merge(state, UInt8(log[index] & 0xF)) & 0xF
        index += 1
      }
      log[keys] = fingerprint << 4 | UInt64(state)
      keys += 1
    }
    return keys
  }

  /// Walks two ascending runs of entries as one, calling `body` once per key;
  /// a key in both gets its state in `first` merged with the one in `second`.
  @inline(__always)
  private func mergeSorted(
    _ first: UnsafeRawPointer?, _ firstCount: Int, with second: UnsafeRawPointer?, _ secondCount: Int,
    readingSecond: (UnsafeRawPointer, Int) -> UInt64, _ body: (UInt64) -> Void
  ) {
    var (i, j) = (0, 0)
    while i < firstCount, j < secondCount {
      let earlier = Self.loadSorted(first!, i)
      let later = readingSecond(second!, j)
      if earlier >> 4 < later >> 4 {
        body(earlier)
        i += 1
      } else if later >> 4 < earlier >> 4 {
        body(later)
        j += 1
      } else {
        body(earlier & ~0xF | UInt64(merge(UInt8(earlier & 0xF), UInt8(later & 0xF)) & 0xF))
        i += 1
        j += 1
      }
    }
    while i < firstCount {
      body(Self.loadSorted(first!, i))
      i += 1
    }
    while j < secondCount {
      body(readingSecond(second!, j))
      j += 1
    }
  }

  /// Sorts log entries (all distinct, by their sequence bits) ascending.
  ///
  /// An entry's top bits are hash bits, evenly spread: a log of up to 4,096
  /// entries is first dealt into buckets of about two entries by those bits,
  /// then finished by an insertion sort that moves each entry a step or two. A
  /// comparison sort on such random keys mispredicts a branch at nearly every
  /// other comparison. When the keys crowd into a few buckets (keys made to,
  /// or a test's), and for longer logs, a quicksort sorts them instead.
  private static func sort(_ entries: UnsafeMutablePointer<UInt64>, count: Int) {
    if count > 16, count <= 4_096, dealtIntoBuckets(entries, count: count) {
      insertionSort(entries, count: count)
      return
    }
    var depthLimit = 2 * (Int.bitWidth - count.leadingZeroBitCount)
    quicksort(entries, count: count, depthLimit: &depthLimit)
  }

  /// Orders the entries by their top bits (a counting sort), about two
  /// entries a bucket; false, leaving them as they were, when a bucket would
  /// hold more than 32.
  private static func dealtIntoBuckets(_ entries: UnsafeMutablePointer<UInt64>, count: Int) -> Bool {
    let bits = Int.bitWidth - count.leadingZeroBitCount - 1
    let shift = UInt64(64 - bits)
    return withUnsafeTemporaryAllocation(of: Int.self, capacity: (1 << bits) + 1) { starts in
      starts.initialize(repeating: 0)
      for index in 0..<count { starts[Int(truncatingIfNeeded: entries[index] >> shift) &+ 1] &+= 1 }
      var largest = 0
      for bucket in 0..<(1 << bits) {
        largest = max(largest, starts[bucket + 1])
        starts[bucket + 1] &+= starts[bucket]
      }
      guard largest <= 32 else { return false }
      withUnsafeTemporaryAllocation(of: UInt64.self, capacity: count) { dealt in
        for index in 0..<count {
          let bucket = Int(truncatingIfNeeded: entries[index] >> shift)
          dealt[starts[bucket]] = entries[index]
          starts[bucket] &+= 1
        }
        entries.update(from: dealt.baseAddress!, count: count)
      }
      return true
    }
  }

  private static func insertionSort(_ base: UnsafeMutablePointer<UInt64>, count: Int) {
    for index in 1..<max(1, count) {
      let entry = base[index]
      var slot = index
      while slot > 0, base[slot - 1] > entry {
        base[slot] = base[slot - 1]
        slot -= 1
      }
      base[slot] = entry
    }
  }

  private static func quicksort(_ entries: UnsafeMutablePointer<UInt64>, count: Int, depthLimit: inout Int) {
    var (base, count) = (entries, count)
    while count > 16 {
      guard depthLimit > 0 else {
        var rest = UnsafeMutableBufferPointer(start: base, count: count)
        rest.sort()
        return
      }
      depthLimit -= 1
      // Median of three as the pivot, then Hoare's partition.
      let (first, middle, last) = (base[0], base[count / 2], base[count - 1])
      let pivot = max(min(first, middle), min(max(first, middle), last))
      var (low, high) = (0, count - 1)
      while true {
        while base[low] < pivot { low += 1 }
        while base[high] > pivot { high -= 1 }
        if low >= high { break }
        (base[low], base[high]) = (base[high], base[low])
        low += 1
        high -= 1
      }
      // Recurse into the smaller side, loop on the larger.
      let split = high + 1
      if split < count - split {
        quicksort(base, count: split, depthLimit: &depthLimit)
        base += split
        count -= split
      } else {
        quicksort(base + split, count: count - split, depthLimit: &depthLimit)
        count = split
      }
    }
    insertionSort(base, count: count)
  }

  /// The state stored in the sorted array for a fingerprint (binary search).
  private static func search(_ fingerprint: UInt64, in partition: Partition) -> UInt8? {
    guard let sorted = partition.sorted else { return nil }
    var (low, high) = (0, partition.sortedCount)
    while low < high {
      let middle = (low + high) / 2
      let entry = loadSorted(sorted, middle)
      if entry >> 4 < fingerprint {
        low = middle + 1
      } else if entry >> 4 > fingerprint {
        high = middle
      } else {
        return UInt8(entry & 0xF)
      }
    }
    return nil
  }
}
