import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// Headless Chromium driven over the DevTools protocol on `--remote-debugging-pipe`: the
/// browser reads NUL-terminated JSON commands on fd 3 and writes answers and events on fd 4.
/// Input goes through `Input.dispatchMouseEvent` and `Input.dispatchKeyEvent`, the events a
/// person's mouse and keyboard produce, so handlers, hit testing and layout are all exercised.
///
/// ```swift
/// let browser = try ChromiumDevTools(executable: chromium, profile: folder)
/// defer { browser.quit() }
/// let page = try browser.open(URL(fileURLWithPath: "trace.html"))
/// try page.click(selector: "#matrix thead th:nth-child(5)")
/// let order = try page.evaluate("document.body.getAttribute('data-sort')")
/// ```
final class ChromiumDevTools {
  struct ProtocolError: Error, CustomStringConvertible {
    var description: String
  }

  private let process: pid_t
  private let commands: Int32
  private let answers: Int32
  private var buffer: [UInt8] = []
  private var nextID = 0
  /// Seconds to wait for any one answer.
  let timeout: Double

  init(executable: URL, profile: URL, timeout: Double = 30) throws {
    self.timeout = timeout
    // Both pipes moved to high, close-on-exec descriptors first, so the dup2s onto 3 and 4 in
    // the child cannot clobber one another.
    func pipePair() throws -> (read: Int32, write: Int32) {
      var ends: [Int32] = [0, 0]
      guard pipe(&ends) == 0 else { throw ProtocolError(description: "pipe failed: errno \(errno)") }
      let read = fcntl(ends[0], F_DUPFD_CLOEXEC, 20)
      let write = fcntl(ends[1], F_DUPFD_CLOEXEC, 20)
      close(ends[0])
      close(ends[1])
      guard read >= 0, write >= 0 else { throw ProtocolError(description: "fcntl failed: errno \(errno)") }
      return (read, write)
    }
    let toBrowser = try pipePair()
    let fromBrowser = try pipePair()

    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    let log = profile.appendingPathComponent("chromium.log").path
    try FileManager.default.createDirectory(at: profile, withIntermediateDirectories: true)
    posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    posix_spawn_file_actions_adddup2(&actions, toBrowser.read, 3)
    posix_spawn_file_actions_adddup2(&actions, fromBrowser.write, 4)

    let arguments = [
      "/usr/bin/timeout", "120", executable.path, "--headless", "--no-sandbox", "--disable-gpu",
      "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check", "--user-data-dir=\(profile.path)",
      "--remote-debugging-pipe", "--window-size=1280,900", "about:blank",
    ]
    let environment = ["HOME=\(profile.path)", "PATH=/usr/bin:/bin"]
    var argv = arguments.map { strdup($0) } + [nil]
    var envp = environment.map { strdup($0) } + [nil]
    defer {
      for pointer in argv { free(pointer) }
      for pointer in envp { free(pointer) }
    }
    var pid: pid_t = 0
    let status = posix_spawn(&pid, arguments[0], &actions, nil, &argv, &envp)
    close(toBrowser.read)
    close(fromBrowser.write)
    guard status == 0 else {
      close(toBrowser.write)
      close(fromBrowser.read)
      throw ProtocolError(description: "cannot start chromium: posix_spawn returned \(status)")
    }
    process = pid
    commands = toBrowser.write
    answers = fromBrowser.read
  }

  /// Sends one command and returns its `result`, skipping the events that come before it.
  @discardableResult
  func send(_ method: String, _ params: [String: Any] = [:], session: String? = nil) throws -> [String: Any] {
    nextID += 1
    let id = nextID
    var message: [String: Any] = ["id": id, "method": method, "params": params]
    if let session { message["sessionId"] = session }
    var bytes = [UInt8](try JSONSerialization.data(withJSONObject: message))
    bytes.append(0)
    var offset = 0
    while offset < bytes.count {
      let written = bytes[offset...].withUnsafeBytes { write(commands, $0.baseAddress, $0.count) }
      guard written > 0 else { throw ProtocolError(description: "\(method): the browser closed its pipe") }
      offset += written
    }
    let deadline = Date().addingTimeInterval(timeout)
    while true {
      let reply = try readMessage(until: deadline, method: method)
      guard reply["id"] as? Int == id else { continue }
      if let error = reply["error"] as? [String: Any] {
        throw ProtocolError(description: "\(method): \(error["message"] as? String ?? "\(error)")")
      }
      return reply["result"] as? [String: Any] ?? [:]
    }
  }

  private func readMessage(until deadline: Date, method: String) throws -> [String: Any] {
    while true {
      if let end = buffer.firstIndex(of: 0) {
        let data = Data(buffer[..<end])
        buffer.removeSubrange(...end)
        if let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] { return object }
        continue
      }
      let left = deadline.timeIntervalSinceNow
      guard left > 0 else { throw ProtocolError(description: "\(method): no answer within \(timeout) s") }
      var descriptor = pollfd(fd: answers, events: Int16(POLLIN), revents: 0)
      let ready = poll(&descriptor, 1, Int32(min(left, 1) * 1000))
      if ready <= 0 { continue }
      var chunk = [UInt8](repeating: 0, count: 65_536)
      let count = chunk.withUnsafeMutableBytes { read(answers, $0.baseAddress, $0.count) }
      guard count > 0 else { throw ProtocolError(description: "\(method): the browser closed its pipe") }
      buffer.append(contentsOf: chunk[..<count])
    }
  }

  /// Opens `url` in a new tab and returns it once its document has loaded.
  func open(_ url: URL) throws -> Page {
    let target = try send("Target.createTarget", ["url": "about:blank"])
    guard let targetID = target["targetId"] as? String else { throw ProtocolError(description: "no target id") }
    let attached = try send("Target.attachToTarget", ["targetId": targetID, "flatten": true])
    guard let session = attached["sessionId"] as? String else { throw ProtocolError(description: "no session id") }
    let page = Page(browser: self, session: session)
    try send("Page.enable", session: session)
    try send("Runtime.enable", session: session)
    try send("Page.navigate", ["url": url.absoluteString], session: session)
    try page.waitUntil("document.readyState === 'complete'")
    return page
  }

  /// Ends the browser.
  func quit() {
    _ = try? send("Browser.close")
    close(commands)
    close(answers)
    var status: Int32 = 0
    for _ in 0..<50 {
      if waitpid(process, &status, WNOHANG) == process { return }
      usleep(100_000)
    }
    // `timeout` passes a TERM on to the browser.
    kill(process, SIGTERM)
    for _ in 0..<50 {
      if waitpid(process, &status, WNOHANG) == process { return }
      usleep(100_000)
    }
    kill(process, SIGKILL)
    waitpid(process, &status, 0)
  }

  /// One tab.
  struct Page {
    let browser: ChromiumDevTools
    let session: String

    /// The value of a JavaScript expression (JSON-compatible values only).
    func evaluate(_ expression: String) throws -> Any? {
      let result = try browser.send(
        "Runtime.evaluate", ["expression": expression, "returnByValue": true, "awaitPromise": true],
        session: session)
      if let exception = result["exceptionDetails"] as? [String: Any] {
        throw ProtocolError(description: "\(expression): \(exception["text"] as? String ?? "\(exception)")")
      }
      return (result["result"] as? [String: Any])?["value"]
    }

    /// Waits until `condition` (a JavaScript expression) is true.
    func waitUntil(_ condition: String, seconds: Double = 15) throws {
      let deadline = Date().addingTimeInterval(seconds)
      while Date() < deadline {
        if try evaluate("Boolean(\(condition))") as? Bool == true { return }
        usleep(50_000)
      }
      throw ProtocolError(description: "still false after \(seconds) s: \(condition)")
    }

    /// A left click at the centre of the first element matching `selector`, as mouse events.
    func click(selector: String) throws {
      let quoted = String(decoding: try JSONSerialization.data(withJSONObject: [selector]), as: UTF8.self)
      let box = try evaluate(
        """
        (function () {
          var element = document.querySelector(\(quoted)[0]);
          if (!element) return null;
          element.scrollIntoView({block: "center"});
          var r = element.getBoundingClientRect();
          return [r.left + r.width / 2, r.top + r.height / 2];
        })()
        """) as? [Any]
      guard let box, box.count == 2, let x = (box[0] as? NSNumber)?.doubleValue, let y = (box[1] as? NSNumber)?.doubleValue
      else { throw ProtocolError(description: "nothing to click at \(selector)") }
      try browser.send("Input.dispatchMouseEvent", ["type": "mouseMoved", "x": x, "y": y], session: session)
      for type in ["mousePressed", "mouseReleased"] {
        try browser.send(
          "Input.dispatchMouseEvent", ["type": type, "x": x, "y": y, "button": "left", "clickCount": 1],
          session: session)
      }
    }

    /// Presses and releases a key such as `ArrowDown` or `Enter` in the focused element.
    func press(_ key: String, code: Int) throws {
      for type in ["rawKeyDown", "keyUp"] {
        try browser.send(
          "Input.dispatchKeyEvent",
          ["type": type, "key": key, "code": key, "windowsVirtualKeyCode": code, "nativeVirtualKeyCode": code],
          session: session)
      }
    }
  }
}
