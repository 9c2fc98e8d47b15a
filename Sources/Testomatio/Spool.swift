import BridgeCore
import BridgeHTTP
import Foundation

/// What a spooled delivery needs besides its batches. Holds no secret: the API
/// key is read from the environment again when the spool is flushed.
public struct SpoolManifest: Codable, Sendable, Hashable {
  public var baseURL: String
  /// The run, once known; `nil` when Testomat.io could not be reached to create it.
  public var runID: String?
  /// The body to create (or adopt, with `adoptRunID`) the run with.
  public var runRequest: RunRequestBody
  public var adoptRunID: String?
  /// The closing request, when the run should be finished after the batches.
  public var finish: FinishBody?
  public var createdAt: Date

  /// `text` without credentials (``Redactor/withoutCredentials(_:)``); text that is not a URL
  /// is kept with anything that looks like a credential in it redacted.
  static func storableURL(_ text: String) -> String {
    if let url = URL(string: text), let clean = Redactor.withoutCredentials(url) { return clean.absoluteString }
    return Redactor.redact(urlText: text)
  }

  enum CodingKeys: String, CodingKey {
    case baseURL = "base_url", runID = "run_id", runRequest = "run_request", adoptRunID = "adopt_run_id"
    case finish, createdAt = "created_at"
  }
}

/// Results that could not be delivered, kept on disk until `testbridge flush`.
///
/// Layout: `<root>/<entry>/manifest.json` and `<root>/<entry>/batch-000001.json`,
/// one file per upload request. Every file is written to a temporary name,
/// synced and renamed, so a crash leaves either the old state or the new one.
/// Batch `rid`s are stored without the run prefix when the run did not exist yet.
public struct Spool: Sendable {
  public let root: URL

  public init(root: URL) {
    self.root = root
  }

  /// One spooled delivery.
  public struct Entry: Sendable, Hashable {
    public let directory: URL
    public var name: String { directory.lastPathComponent }
  }

  static let encoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    return encoder
  }()

  static let decoder: JSONDecoder = {
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    return decoder
  }()

  /// Creates a new entry holding `manifest`.
  public func createEntry(_ manifest: SpoolManifest) throws(TestomatioError) -> Entry {
    let stamp = ISO8601DateFormatter().string(from: manifest.createdAt).replacingOccurrences(of: ":", with: "")
    let name = "\(stamp)-\(manifest.runID ?? "new")-\(UUID().uuidString.prefix(8).lowercased())"
    let directory = root.appendingPathComponent(name)
    do {
      try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    } catch {
      throw .spool(path: directory.path, reason: error.localizedDescription)
    }
    let entry = Entry(directory: directory)
    try writeManifest(manifest, to: entry)
    return entry
  }

  /// Writes the manifest; credentials in its base URL (user info, an `api_key` query) are
  /// removed first, so the spool never holds one however the URL was given.
  public func writeManifest(_ manifest: SpoolManifest, to entry: Entry) throws(TestomatioError) {
    var manifest = manifest
    manifest.baseURL = SpoolManifest.storableURL(manifest.baseURL)
    manifest.runRequest.apiKey = nil
    manifest.finish?.apiKey = nil
    try write(manifest, to: entry.directory.appendingPathComponent("manifest.json"))
  }

  public func addBatch(_ batch: BatchBody, to entry: Entry) throws(TestomatioError) {
    var batch = batch
    batch.apiKey = nil
    try write(batch, to: entry.directory.appendingPathComponent(String(format: "batch-%06d.json", batch.batchIndex)))
  }

  /// Entries in creation order.
  public func entries() -> [Entry] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
    return names.sorted().compactMap { name in
      let directory = root.appendingPathComponent(name)
      guard FileManager.default.fileExists(atPath: directory.appendingPathComponent("manifest.json").path) else {
        return nil
      }
      return Entry(directory: directory)
    }
  }

  public func manifest(of entry: Entry) throws(TestomatioError) -> SpoolManifest {
    try read(SpoolManifest.self, from: entry.directory.appendingPathComponent("manifest.json"))
  }

  /// Batch files of an entry, in upload order.
  public func batchFiles(of entry: Entry) -> [URL] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: entry.directory.path)) ?? []
    return names.filter { $0.hasPrefix("batch-") && $0.hasSuffix(".json") }.sorted()
      .map { entry.directory.appendingPathComponent($0) }
  }

  public func batch(at url: URL) throws(TestomatioError) -> BatchBody {
    try read(BatchBody.self, from: url)
  }

  /// Number of results waiting in an entry.
  public func pendingResults(in entry: Entry) -> Int {
    batchFiles(of: entry).reduce(0) { $0 + ((try? batch(at: $1).tests.count) ?? 0) }
  }

  public func remove(_ url: URL) {
    try? FileManager.default.removeItem(at: url)
  }

  // MARK: - Atomic files

  private func write(_ value: some Encodable, to url: URL) throws(TestomatioError) {
    let data: Data
    do {
      data = try Self.encoder.encode(value)
    } catch {
      throw .spool(path: url.path, reason: "could not encode: \(error)")
    }
    let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp")
    let failure = data.withUnsafeBytes {
      FileDescriptorIO.writeAtomically($0, to: url.path, temporary: temporary.path, mode: 0o600)
    }
    if let failure { throw .spool(path: url.path, reason: failure) }
  }

  private func read<Value: Decodable>(_ type: Value.Type, from url: URL) throws(TestomatioError) -> Value {
    do {
      return try Self.decoder.decode(type, from: Data(contentsOf: url))
    } catch {
      throw .spool(path: url.path, reason: "unreadable: \(error.localizedDescription)")
    }
  }
}
