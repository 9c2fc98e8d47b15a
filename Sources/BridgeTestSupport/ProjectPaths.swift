import Foundation

/// Locations tests read from: the package root and the shared JUnit corpus beside it.
public enum ProjectPaths {
  /// The package root, found from this file's compile-time path.
  public static var packageRoot: URL {
    URL(fileURLWithPath: #filePath)
      .deletingLastPathComponent()  // BridgeTestSupport
      .deletingLastPathComponent()  // Sources
      .deletingLastPathComponent()
  }

  /// `../shared/junit-corpus`, the real-world report corpus with its MANIFEST.tsv.
  public static var junitCorpus: URL {
    packageRoot.deletingLastPathComponent().appendingPathComponent("shared/junit-corpus")
  }

  /// A fresh empty directory under the system temp folder.
  public static func temporaryDirectory(_ label: String = "testbridge") throws -> URL {
    let url = FileManager.default.temporaryDirectory
      .appendingPathComponent("\(label)-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }
}
