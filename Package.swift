// swift-tools-version:6.2
import PackageDescription

// Dependencies point downward only: BridgeCore at the bottom, BridgeCLI (the
// composition root) at the top, `testbridge` a one-line executable over it.
let package = Package(
  name: "testbridge",
  products: [
    .executable(name: "testbridge", targets: ["testbridge"])
  ],
  targets: [
    // libxml2 through pkg-config; only the JUnit target imports it.
    .systemLibrary(
      name: "CLibXML2",
      pkgConfig: "libxml-2.0",
      providers: [.apt(["libxml2-dev"]), .brew(["libxml2"])]
    ),
    // Shared vocabulary: the result model, status rules, identifiers, globbing, and Locked.
    .target(name: "BridgeCore"),
    // Streaming JUnit XML engine (SAX2 push parser) and JUnit writer.
    .target(name: "JUnit", dependencies: ["BridgeCore", "CLibXML2"]),
    // HTTP client seam: transport protocol, URLSession transport, retries, redaction.
    .target(name: "BridgeHTTP", dependencies: ["BridgeCore"]),
    // Small HTTP/1.1 server on sockets (sandbox and `serve`).
    .target(name: "HTTPServer", dependencies: ["BridgeCore"]),
    // Testomat.io reporter protocol: payloads, client, delivery, spool.
    .target(name: "Testomatio", dependencies: ["BridgeCore", "BridgeHTTP"]),
    // Jira REST client (Cloud v3 / Data Center v2) behind a least-privilege request guard.
    .target(name: "Jira", dependencies: ["BridgeCore", "BridgeHTTP"]),
    // Child processes for `run` and `manual`: spawn, stream, signals, timeouts, manual plans.
    .target(name: "Runner", dependencies: ["BridgeCore"]),
    // `serve`: Jira webhook authentication and rules, and starting CI (GitHub, GitLab).
    .target(
      name: "Trigger", dependencies: ["BridgeCore", "BridgeHTTP", "HTTPServer", "Testomatio"], exclude: ["RULES.md"]),
    // Local emulators of Testomat.io (and later Jira and CI) on HTTPServer.
    .target(name: "Sandbox", dependencies: ["BridgeCore", "HTTPServer"]),
    // Argument parsing, commands, output formats, exit codes, composition root.
    .target(
      name: "BridgeCLI",
      dependencies: ["BridgeCore", "JUnit", "BridgeHTTP", "HTTPServer", "Testomatio", "Jira", "Runner", "Trigger", "Sandbox"]
    ),
    .executableTarget(name: "testbridge", dependencies: ["BridgeCLI"]),
    // Test doubles and fixture helpers shared by the test targets.
    .target(name: "BridgeTestSupport", dependencies: ["BridgeCore", "BridgeHTTP", "HTTPServer"]),

    .testTarget(name: "BridgeCoreTests", dependencies: ["BridgeCore", "BridgeTestSupport"]),
    .testTarget(
      name: "JUnitTests",
      dependencies: ["JUnit", "BridgeCore", "BridgeTestSupport"],
      resources: [.copy("Fixtures")]
    ),
    .testTarget(name: "BridgeHTTPTests", dependencies: ["BridgeHTTP", "BridgeCore", "BridgeTestSupport", "HTTPServer"]),
    .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "BridgeTestSupport"]),
    .testTarget(
      name: "TestomatioTests",
      dependencies: ["Testomatio", "Sandbox", "BridgeHTTP", "BridgeCore", "BridgeTestSupport", "HTTPServer"]
    ),
    .testTarget(name: "JiraTests", dependencies: ["Jira", "Sandbox", "BridgeHTTP", "BridgeCore", "BridgeTestSupport", "HTTPServer"]),
    .testTarget(
      name: "TriggerTests",
      dependencies: ["Trigger", "Testomatio", "Sandbox", "BridgeHTTP", "BridgeCore", "BridgeTestSupport", "HTTPServer"]),
    .testTarget(name: "RunnerTests", dependencies: ["Runner", "BridgeCore", "BridgeTestSupport"]),
    .testTarget(
      name: "BridgeCLITests",
      dependencies: ["BridgeCLI", "BridgeCore", "BridgeTestSupport", "Jira", "Sandbox", "HTTPServer", "Trigger"],
      resources: [.copy("Fixtures")]
    ),
  ]
)

for target in package.targets where target.type != .system {
  target.swiftSettings = (target.swiftSettings ?? []) + [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
  ]
}
