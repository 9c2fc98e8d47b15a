import BridgeCore
import Foundation

/// Reads the issue property Testomat.io's Jira app keeps its linked tests in,
/// `{project slug}.testomatio.tests`.
///
/// The property's shape is not published, so ids are collected wherever they are:
/// - any string (member value or member name) containing `@T` followed by 8 word characters,
///   every occurrence (the id form Testomat.io's reporters match, `@T8acca9eb`);
/// - a string that is exactly a bare id, `T1a2b3c4d` or `1a2b3c4d`, when it is an array
///   element or the value of an id-named member (`id`, `test_id`, `testId`, `tid`, …);
/// - an object member name that is exactly a bare id when the object sits under a `tests`,
///   `ids` or `test_ids` member.
///
/// Without the `@T` tag nothing says a string is an id, so a bare id must look like the ids
/// Testomat.io hands out: 8 lowercase hexadecimal digits, optionally after `T`. Words
/// (`["frontend"]`, `"status": "finished"`, `"Tutorials"`) are never taken for ids; an
/// all-digit string such as `"20260301"` still is, as ids can be all digits too.
public enum TestomatioTestsProperty {
  /// The property key for a Testomat.io project: `{slug}.testomatio.tests`.
  public static func key(projectSlug: String) -> String {
    "\(projectSlug).testomatio.tests"
  }

  /// The 8-character test ids (without `@T`) in the property value `json`, deduplicated in order
  /// of first appearance (object members in name order). Empty when `json` is not JSON.
  public static func testIDs(in json: Data) -> [String] {
    guard let root = try? JSONSerialization.jsonObject(with: json, options: [.fragmentsAllowed]) else { return [] }
    var collector = Collector()
    collector.walk(root, context: .root)
    return collector.ids
  }

  /// The id in `text` when it is exactly a bare one, `T1a2b3c4d` or `1a2b3c4d` (8 lowercase hex
  /// digits, surrounding spaces ignored). Tagged ids (`@T…`) are found by the tag scan.
  static func bareID(_ text: String) -> String? {
    var bytes = Substring(text.trimmingCharacters(in: .whitespaces)).utf8
    if bytes.count == 9, bytes.first == UInt8(ascii: "T") { bytes = bytes.dropFirst() }
    guard bytes.count == 8,
      bytes.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) })
    else { return nil }
    return String(decoding: bytes, as: UTF8.self)
  }

  private static let idMemberNames: Set<String> = TestIdentifiers.testIDPropertyNames.union([
    "testid", "test_uid", "testomatio_test_id", "uid",
  ])

  private static let idContainerNames: Set<String> = ["tests", "ids", "test_ids", "testids"]

  private enum Context {
    case root
    case arrayElement
    case member(String)
  }

  private struct Collector {
    var ids: [String] = []
    private var seen: Set<String> = []

    mutating func walk(_ value: Any, context: Context) {
      switch value {
      case let text as String:
        addTagged(in: text)
        switch context {
        case .arrayElement: addBare(text)
        case .member(let name) where TestomatioTestsProperty.idMemberNames.contains(name.lowercased()): addBare(text)
        default: break
        }
      case let list as [Any]:
        for item in list { walk(item, context: .arrayElement) }
      case let object as [String: Any]:
        let container: Bool
        if case .member(let name) = context {
          container = TestomatioTestsProperty.idContainerNames.contains(name.lowercased())
        } else {
          container = false
        }
        for name in object.keys.sorted() {
          addTagged(in: name)
          if container { addBare(name) }
          if let member = object[name] { walk(member, context: .member(name)) }
        }
      default:
        break
      }
    }

    private mutating func add(_ id: String) {
      if seen.insert(id).inserted { ids.append(id) }
    }

    /// A string that is exactly a bare id (see ``TestomatioTestsProperty/bareID(_:)``).
    private mutating func addBare(_ text: String) {
      if let id = TestomatioTestsProperty.bareID(text) { add(id) }
    }

    /// Every `@T` + 8 word characters (not followed by a ninth) inside `text`.
    private mutating func addTagged(in text: String) {
      let bytes = Array(text.utf8)
      guard bytes.count >= 10 else { return }
      var index = 0
      while index + 10 <= bytes.count {
        if bytes[index] == UInt8(ascii: "@"), bytes[index + 1] == UInt8(ascii: "T"),
          bytes[(index + 2)..<(index + 10)].allSatisfy(Self.isWord),
          index + 10 == bytes.count || !Self.isWord(bytes[index + 10])
        {
          add(String(decoding: bytes[(index + 2)..<(index + 10)], as: UTF8.self))
          index += 10
        } else {
          index += 1
        }
      }
    }

    private static func isWord(_ byte: UInt8) -> Bool {
      (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
        || byte == UInt8(ascii: "_")
    }
  }
}
