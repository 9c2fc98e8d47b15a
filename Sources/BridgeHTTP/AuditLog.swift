import BridgeCore
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// The audit log could not be opened.
public struct AuditLogError: Error, Sendable, Hashable, CustomStringConvertible {
  public let path: String
  public let reason: String

  public var description: String { "cannot open audit log '\(path)': \(reason)" }
}

/// Appends one JSON line per HTTP attempt to a file:
/// `{"time":"2025-01-02T03:04:05.678Z","method":"POST","url":"https://…?api_key=REDACTED","status":503,"attempt":1,"duration":0.213}`
/// (`"error":"…"` replaces `"status"` when no response arrived).
///
/// The file is opened with `O_APPEND`, so concurrent writers (several bridge processes on one
/// CI machine) interleave whole lines, and each record is a single `write`. Safe to share
/// across tasks. Write failures are ignored: auditing must never fail a report.
public struct AuditLog: Sendable {
  private final class File: Sendable {
    // The descriptor; the lock also serialises writes from concurrent tasks of this process.
    let descriptor: Locked<Int32>

    init(descriptor: Int32) { self.descriptor = Locked(descriptor) }

    deinit {
      descriptor.withLock { fd in
        if fd >= 0 { _ = close(fd) }
        fd = -1
      }
    }
  }

  private let file: File
  public let path: String

  /// Opens (creating with mode 0600 if needed) the file at `path` for appending.
  public init(path: String) throws(AuditLogError) {
    let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
    guard fd >= 0 else {
      throw AuditLogError(path: path, reason: String(cString: strerror(errno)))
    }
    self.path = path
    self.file = File(descriptor: fd)
  }

  /// Appends `record` as one line.
  public func record(_ record: HTTPAttemptRecord) {
    let line = Array((AuditLog.jsonLine(for: record) + "\n").utf8)
    file.descriptor.withLock { fd in
      guard fd >= 0 else { return }
      var offset = 0
      while offset < line.count {
        let written = line[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if written < 0 {
          if errno == EINTR { continue }
          return
        }
        offset += written
      }
    }
  }

  /// An observer for ``RetryingTransport`` that records every attempt here.
  public var observer: @Sendable (HTTPAttemptRecord) -> Void {
    { record in self.record(record) }
  }

  /// The JSON object for `record`, keys in a fixed order, without a newline.
  public static func jsonLine(for record: HTTPAttemptRecord) -> String {
    var fields: [String] = [
      "\"time\":\(jsonString(record.time.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))))",
      "\"method\":\(jsonString(record.method.rawValue))",
      "\"url\":\(jsonString(Redactor.redactPatterns(record.url)))",
    ]
    if let status = record.status { fields.append("\"status\":\(status)") }
    if let error = record.error {
      fields.append("\"error\":\(jsonString(Redactor.redact(text: error, secrets: [])))")
    }
    fields.append("\"attempt\":\(record.attempt)")
    let millis = record.duration.isFinite ? (max(0, record.duration) * 1000).rounded() : 0
    fields.append("\"duration\":\(millis / 1000)")
    return "{" + fields.joined(separator: ",") + "}"
  }

  static func jsonString(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case _ where scalar.value < 0x20 || scalar.value == 0x7F:
        out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
          + String(scalar.value, radix: 16)
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out + "\""
  }
}
