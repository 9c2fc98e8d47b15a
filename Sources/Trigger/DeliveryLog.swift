/// Remembers recent webhook delivery ids so a delivery Jira repeats triggers only once.
///
/// Jira keeps `X-Atlassian-Webhook-Identifier` stable across its retries, and neither the
/// signature nor the body carries a timestamp, so the id is what stops a repeat (or a
/// captured request replayed later) from starting CI again. Memory is bounded: only the
/// most recent ``capacity`` ids are kept, oldest forgotten first. Ids longer than 128
/// characters are stored as their SHA-256, so a hostile header cannot inflate memory.
public actor DeliveryLog {
  /// The header Jira sends the delivery id in.
  public static let identifierHeader = "X-Atlassian-Webhook-Identifier"

  /// How many ids are remembered.
  public let capacity: Int
  private var known: Set<String> = []
  /// Ids in arrival order; `head` is the oldest still remembered.
  private var order: [String] = []
  private var head = 0

  /// - Parameter capacity: how many recent ids to remember (at least 1; default 10,000).
  public init(capacity: Int = 10_000) {
    self.capacity = max(1, capacity)
  }

  /// Records `id` and returns true if it is new, false if it was seen (a replay).
  public func register(_ id: String) -> Bool {
    guard !id.isEmpty else { return true }
    let key = Self.key(id)
    guard !known.contains(key) else { return false }
    known.insert(key)
    if order.count < capacity {
      order.append(key)
    } else {
      known.remove(order[head])
      order[head] = key
      head = (head + 1) % capacity
    }
    return true
  }

  /// Forgets `id`, so a later delivery with it is processed again (used when handling failed
  /// upstream and Jira is expected to retry).
  public func forget(_ id: String) {
    let key = Self.key(id)
    guard known.remove(key) != nil else { return }
    // Blank its slot, so evicting the slot later cannot drop a re-registration of the id.
    if let index = order.firstIndex(of: key) {
      order[index] = ""
    }
  }

  /// Whether `id` is currently remembered.
  public func contains(_ id: String) -> Bool {
    known.contains(Self.key(id))
  }

  /// How many ids are remembered.
  public var count: Int { known.count }

  private static func key(_ id: String) -> String {
    id.utf8.count <= 128 ? id : "sha256:" + Hex.encode(SHA256.hash(Array(id.utf8)))
  }
}
