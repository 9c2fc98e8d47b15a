import Foundation

/// Signals and liveness of a child's process group.
enum ProcessGroup {
  /// Sends `signal` to every process in the group.
  static func signal(_ pgid: pid_t, _ signal: Int32) {
    guard pgid > 1 else { return }
    _ = kill(-pgid, signal)
  }

  /// True while some process in the group is still running.
  ///
  /// Zombies do not count: a killed grandchild stays a zombie until init reaps it
  /// (container init processes can take a second or more), but it has released its
  /// pipes and does nothing, so waiting for the reap would only add delay.
  static func hasLiveMembers(_ pgid: pid_t) -> Bool {
    guard pgid > 1 else { return false }
    if kill(-pgid, 0) != 0, errno == ESRCH { return false }
    guard let directory = opendir("/proc") else { return true }
    defer { closedir(directory) }
    while let entry = readdir(directory) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
      }
      guard let pid = Int32(name), let stat = readStat(pid) else { continue }
      if stat.pgrp == pgid, stat.state != "Z", stat.state != "X" { return true }
    }
    return false
  }

  /// Waits until the group has no live member; false if `limit` passed first.
  static func waitUntilEmpty(_ pgid: pid_t, within limit: Duration) async -> Bool {
    let deadline = ContinuousClock.now + limit
    while hasLiveMembers(pgid) {
      guard ContinuousClock.now < deadline else { return false }
      try? await Task.sleep(for: .milliseconds(25))
    }
    return true
  }

  /// State letter and process group from `/proc/<pid>/stat`.
  static func readStat(_ pid: Int32) -> (state: Character, pgrp: Int32)? {
    let fd = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 512)
    let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, 512) }
    guard count > 0 else { return nil }
    // "pid (comm) S ppid pgrp …": comm may hold spaces and parentheses, so split after the last ')'.
    guard let close = buffer[0..<count].lastIndex(of: UInt8(ascii: ")")) else { return nil }
    let fields = buffer[(close + 1)..<count].split(separator: UInt8(ascii: " "))
    guard fields.count >= 3, let state = fields[0].first,
      let pgrp = Int32(String(decoding: fields[2], as: UTF8.self))
    else { return nil }
    return (Character(UnicodeScalar(state)), pgrp)
  }
}
