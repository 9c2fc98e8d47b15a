/// Where one webhook's tests run: a Testomat.io project (linked tests, the run) and the CI
/// that starts them.
public struct WebhookTarget: Sendable {
  /// Shown in log lines (a config profile's name); nil for the only target.
  public var name: String?
  public let linkedTests: any LinkedTestsSource
  public let scheduler: any RunScheduler
  /// The dispatcher of each CI kind that is configured.
  public let dispatchers: [CIKind: any CIDispatcher]
  /// The CI of rules that name none.
  public let defaultCI: CIKind
  /// Passed to CI as `testomatio_url`.
  public let testomatioURL: String?

  /// - Parameter dispatchers: one per configured CI; a rule asking for another CI is answered 500.
  public init(
    name: String? = nil, linkedTests: any LinkedTestsSource, scheduler: any RunScheduler,
    dispatchers: [any CIDispatcher], defaultCI: CIKind, testomatioURL: String? = nil
  ) {
    self.name = name
    self.linkedTests = linkedTests
    self.scheduler = scheduler
    var byKind: [CIKind: any CIDispatcher] = [:]
    for dispatcher in dispatchers where byKind[dispatcher.kind] == nil {
      byKind[dispatcher.kind] = dispatcher
    }
    self.dispatchers = byKind
    self.defaultCI = defaultCI
    self.testomatioURL = testomatioURL
  }
}

/// Which target a webhook goes to, by its issue's Jira project (pure).
///
/// One serve process can start tests for several Testomat.io projects: each owns some Jira
/// projects, and an issue of a project nobody owns is ignored rather than sent anywhere.
public struct WebhookRoutes: Sendable {
  private let byProject: [String: WebhookTarget]
  private let fallback: WebhookTarget?

  /// Every issue goes to `target`.
  public init(_ target: WebhookTarget) {
    byProject = [:]
    fallback = target
  }

  /// Issues of each project key (case-insensitive) go to its target; others to `fallback`,
  /// or nowhere when it is nil.
  public init(byProject: [String: WebhookTarget], fallback: WebhookTarget? = nil) {
    self.byProject = Dictionary(byProject.map { ($0.key.uppercased(), $0.value) }) { first, _ in first }
    self.fallback = fallback
  }

  /// The target of issues in `projectKey`, nil when no target owns it.
  public func target(forProject projectKey: String) -> WebhookTarget? {
    byProject[projectKey.uppercased()] ?? fallback
  }

  /// The project keys that have a target of their own, sorted (for messages).
  public var routedProjects: [String] { byProject.keys.sorted() }
}
