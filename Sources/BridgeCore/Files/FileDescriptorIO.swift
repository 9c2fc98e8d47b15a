#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Low-level file descriptor helpers shared by output sinks, the spools and shard files.
public enum FileDescriptorIO {
  /// Writes every byte, retrying short writes and EINTR; returns the errno of a failure.
  @discardableResult
  public static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32? {
    guard let base = bytes.baseAddress else { return nil }
    var offset = 0
    while offset < bytes.count {
      let written = write(descriptor, base + offset, bytes.count - offset)
      if written < 0 {
        if errno == EINTR { continue }
        return errno
      }
      offset += written
    }
    return nil
  }

  /// Writes `bytes` to `path` so no reader ever sees part of it, even after a crash: into
  /// `temporary` (a name beside it) with `mode`, fsync, then rename over `path`. Returns why
  /// it failed, with the temporary file removed; nil when written.
  public static func writeAtomically(
    _ bytes: UnsafeRawBufferPointer, to path: String, temporary: String, mode: mode_t
  ) -> String? {
    let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
    guard descriptor >= 0 else { return String(cString: strerror(errno)) }
    var failure = writeAll(descriptor, bytes).map { String(cString: strerror($0)) }
    if failure == nil, fsync(descriptor) != 0 { failure = String(cString: strerror(errno)) }
    close(descriptor)
    if failure == nil, rename(temporary, path) != 0 { failure = String(cString: strerror(errno)) }
    if failure != nil { unlink(temporary) }
    return failure
  }
}
