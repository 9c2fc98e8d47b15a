import BridgeCore
/// A request field that failed validation; answered with `status` (422 unless the
/// body is not JSON at all) and `message` naming the field.
struct ValidationFailure: Error, Sendable, Hashable {
  var field: String
  var problem: String
  var status = 422

  var message: String { "'\(field)' \(problem)" }
}

/// The JSON type a field must have; `null` is accepted for every optional field.
indirect enum FieldType: Sendable {
  case string
  case bool
  case number
  case integer
  case object
  case array
  case stringArray
  case anyValue
  case oneOf([String])
  case either([FieldType])

  var expectation: String {
    switch self {
    case .string: "a string"
    case .bool: "a boolean"
    case .number: "a number"
    case .integer: "an integer"
    case .object: "an object"
    case .array: "an array"
    case .stringArray: "an array of strings"
    case .anyValue: "any value"
    case .oneOf(let values): "one of \(values.joined(separator: ", "))"
    case .either(let types): types.map(\.expectation).joined(separator: " or ")
    }
  }

  func accepts(_ value: JSONValue) -> Bool {
    switch (self, value) {
    case (.anyValue, _): true
    case (.string, .string), (.bool, .bool), (.object, .object), (.array, .array): true
    case (.number, .integer), (.number, .number): true
    case (.integer, _): value.intValue != nil
    case (.stringArray, .array(let items)): items.allSatisfy { $0.stringValue != nil }
    case (.oneOf(let allowed), .string(let text)): allowed.contains(text)
    case (.either(let types), _): types.contains { $0.accepts(value) }
    default: false
    }
  }
}

/// Field rules for one kind of JSON object. Unknown members are ignored, as the real API does.
struct Schema: Sendable {
  var fields: [(name: String, type: FieldType)]
  var required: Set<String> = []

  /// Checks `object`, reporting the first problem with its full path (`tests[2].run_time`).
  func validate(_ object: [String: JSONValue], prefix: String = "") throws(ValidationFailure) {
    for (name, type) in fields {
      let path = prefix.isEmpty ? name : "\(prefix).\(name)"
      guard let value = object[name], !value.isNull else {
        if required.contains(name) { throw ValidationFailure(field: path, problem: "is required") }
        continue
      }
      guard type.accepts(value) else {
        let got: String
        if case .oneOf = type, let text = value.stringValue {
          got = "'\(text)'"
        } else {
          got = value.kindDescription
        }
        throw ValidationFailure(field: path, problem: "must be \(type.expectation), got \(got)")
      }
    }
  }
}

/// The reporter API's objects (contract §1.1–1.5).
enum ReporterSchemas {
  static let testStatuses = ["passed", "failed", "skipped"]
  static let statusEvents = ["finish", "pass", "fail", "finish_parallel", "pass_parallel", "fail_parallel"]
  static let closingEvents: Set<String> = ["finish", "pass", "fail"]
  static let grepTypes = ["jira", "tag", "plan", "label"]

  /// Run fields accepted on create (POST) and update (PUT).
  static let runFields: [(name: String, type: FieldType)] = [
    ("api_key", .string),
    ("title", .string),
    ("env", .string),
    ("group_title", .string),
    ("parallel", .bool),
    ("ci_build_url", .string),
    ("access_event", .string),
    ("jira_id", .string),
    ("label", .either([.string, .stringArray])),
    ("shared_run", .bool),
    ("shared_run_timeout", .either([.number, .bool])),
    ("kind", .oneOf(["automated", "manual", "mixed"])),
    ("configuration", .object),
    ("description", .string),
    ("tags", .stringArray),
  ]

  static let createRun = Schema(fields: runFields)

  static let updateRun = Schema(
    fields: runFields + [
      ("status_event", .oneOf(statusEvents)),
      ("duration", .number),
      ("detach", .either([.bool, .string])),
      ("tests", .array),
      ("create_tests", .bool),
      ("tests_count", .integer),
      ("passed_count", .integer),
      ("failed_count", .integer),
      ("skipped_count", .integer),
    ])

  static let batch = Schema(fields: [
    ("api_key", .string),
    ("tests", .array),
    ("batch_index", .integer),
  ])

  /// One test result (TestData).
  static let test = Schema(
    fields: [
      ("status", .oneOf(testStatuses)),
      ("title", .string),
      ("test_id", .string),
      ("suite_title", .string),
      ("suite_id", .string),
      ("root_suite_id", .string),
      ("rid", .string),
      ("message", .string),
      ("stack", .string),
      ("run_time", .number),
      ("timestamp", .number),
      ("file", .string),
      ("line", .either([.integer, .string])),
      ("code", .string),
      ("example", .either([.object, .string])),
      ("artifacts", .stringArray),
      ("files", .stringArray),
      ("steps", .array),
      ("meta", .object),
      ("labels", .stringArray),
      ("tags", .stringArray),
      ("overwrite", .bool),
      ("create", .bool),
      ("retry", .bool),
      ("substatus", .string),
      ("description", .string),
    ],
    required: ["status"])

  /// Validates one test object at `field` (`tests[3]`, or `""` for a single-test body).
  static func validateTest(_ value: JSONValue, field: String) throws(ValidationFailure) -> [String: JSONValue] {
    guard let object = value.objectValue else {
      throw ValidationFailure(field: field.isEmpty ? "body" : field, problem: "must be an object, got \(value.kindDescription)")
    }
    try test.validate(object, prefix: field)
    let title = object["title"]?.stringValue ?? ""
    let testID = object["test_id"]?.stringValue ?? ""
    if title.isEmpty && testID.isEmpty {
      let path = field.isEmpty ? "title" : "\(field).title"
      throw ValidationFailure(field: path, problem: "is required when 'test_id' is missing")
    }
    return object
  }
}
