import Foundation
import Jira
import Testing

@Suite struct JiraConfigTests {
  private let token = "ATATT3xFfGF0-secret-token-value"
  private let pat = "NjM2OTk1-personal-access-token"

  @Test func cloudBasicAuthFromEnvironment() throws {
    let config = try JiraConfig.resolve(environment: [
      "JIRA_URL": "https://acme.atlassian.net/", "JIRA_EMAIL": "ci@acme.com", "JIRA_API_TOKEN": token,
    ])
    #expect(config.deployment == .cloud)
    #expect(config.apiVersion == .v3)
    #expect(config.usesADF)
    #expect(config.restBaseURL.absoluteString == "https://acme.atlassian.net/rest/api/3")
    #expect(config.browseURL(issue: "ABC-1").absoluteString == "https://acme.atlassian.net/browse/ABC-1")
    let expected = "Basic " + Data("ci@acme.com:\(token)".utf8).base64EncodedString()
    #expect(config.auth.authorizationHeader == expected)
  }

  @Test func dataCenterBearerFromPersonalAccessToken() throws {
    let config = try JiraConfig.resolve(environment: ["JIRA_URL": "https://jira.acme.com/jira", "JIRA_PAT": pat])
    #expect(config.deployment == .dataCenter)
    #expect(config.apiVersion == .v2)
    #expect(!config.usesADF)
    #expect(config.restBaseURL.absoluteString == "https://jira.acme.com/jira/rest/api/2")
    #expect(config.auth.authorizationHeader == "Bearer \(pat)")
  }

  @Test func scopedTokensGoThroughTheGatewayWithTheCloudID() throws {
    let config = try JiraConfig.resolve(environment: [
      "JIRA_URL": "https://acme.atlassian.net", "JIRA_EMAIL": "ci@acme.com", "JIRA_API_TOKEN": token,
      "JIRA_CLOUD_ID": "35273b54-3f06-40d2-880f-dd28cf8daafa",
    ])
    #expect(
      config.restBaseURL.absoluteString
        == "https://api.atlassian.com/ex/jira/35273b54-3f06-40d2-880f-dd28cf8daafa/rest/api/3")
    #expect(config.browseURL(issue: "ABC-2").absoluteString == "https://acme.atlassian.net/browse/ABC-2")
    #expect(config.description.contains("cloud id"))
  }

  @Test func flagsWinOverTheEnvironment() throws {
    let environment = [
      "JIRA_URL": "https://env.atlassian.net", "JIRA_EMAIL": "env@acme.com", "JIRA_API_TOKEN": token,
    ]
    let config = try JiraConfig.resolve(
      environment: environment,
      overrides: JiraConfig.Overrides(url: "https://flag.atlassian.net", email: "flag@acme.com"))
    #expect(config.siteURL.absoluteString == "https://flag.atlassian.net")
    #expect(config.auth == .basic(email: "flag@acme.com", apiToken: token))

    // An explicit PAT beats a token that only comes from the environment.
    let bearer = try JiraConfig.resolve(
      environment: environment.merging(["JIRA_URL": "https://jira.acme.com"]) { $1 },
      overrides: JiraConfig.Overrides(pat: pat))
    #expect(bearer.auth == .bearer(token: pat))
    #expect(bearer.deployment == .dataCenter)
  }

  @Test(arguments: [
    ([:], "JIRA_URL"),
    (["JIRA_URL": "https://acme.atlassian.net"], "JIRA_API_TOKEN (with JIRA_EMAIL) or JIRA_PAT"),
    (["JIRA_URL": "https://acme.atlassian.net", "JIRA_API_TOKEN": "t0ken-value"], "JIRA_EMAIL"),
    (["JIRA_URL": "https://acme.atlassian.net", "JIRA_EMAIL": "ci@acme.com"], "JIRA_API_TOKEN"),
    (["JIRA_URL": "  ", "JIRA_PAT": "abcdefgh"], "JIRA_URL"),
  ] as [([String: String], String)])
  func missingSettingsNameTheVariable(environment: [String: String], variable: String) {
    do {
      _ = try JiraConfig.resolve(environment: environment)
      Issue.record("expected '\(variable)' to be reported missing")
    } catch {
      guard case .missingConfiguration(let missing, _) = error else {
        Issue.record("expected a missing-configuration error, got \(error)")
        return
      }
      #expect(missing == variable)
      #expect(error.description.contains(variable))
    }
  }

  @Test func apiVersionOverride() throws {
    let cloud = [
      "JIRA_URL": "https://acme.atlassian.net", "JIRA_EMAIL": "ci@acme.com", "JIRA_API_TOKEN": token,
      "JIRA_API_VERSION": "2",
    ]
    let v2 = try JiraConfig.resolve(environment: cloud)
    #expect(v2.deployment == .cloud)
    #expect(v2.apiVersion == .v2)
    #expect(v2.restBaseURL.absoluteString == "https://acme.atlassian.net/rest/api/2")

    let flag = try JiraConfig.resolve(environment: cloud, overrides: JiraConfig.Overrides(apiVersion: "v3"))
    #expect(flag.apiVersion == .v3)

    #expect(throws: JiraError.invalidConfiguration(setting: "JIRA_API_VERSION", reason: "'7' is not 2 or 3")) {
      try JiraConfig.resolve(environment: cloud.merging(["JIRA_API_VERSION": "7"]) { $1 })
    }
    #expect(
      throws: JiraError.invalidConfiguration(setting: "JIRA_API_VERSION", reason: "Jira Data Center has no REST v3; use 2")
    ) {
      try JiraConfig.resolve(environment: ["JIRA_URL": "https://jira.acme.com", "JIRA_PAT": pat, "JIRA_API_VERSION": "3"])
    }
  }

  @Test func deploymentFollowsTheSiteThenTheAuthKind() throws {
    let oauthOnCloud = try JiraConfig.resolve(environment: ["JIRA_URL": "https://acme.atlassian.net", "JIRA_PAT": pat])
    #expect(oauthOnCloud.deployment == .cloud)
    #expect(oauthOnCloud.apiVersion == .v3)

    let basicOnCustomDomain = try JiraConfig.resolve(environment: [
      "JIRA_URL": "https://jira.acme.com", "JIRA_EMAIL": "ci@acme.com", "JIRA_API_TOKEN": token,
    ])
    #expect(basicOnCustomDomain.deployment == .cloud)

    let explicit = try JiraConfig.resolve(environment: [
      "JIRA_URL": "https://jira.acme.com", "JIRA_EMAIL": "ci@acme.com", "JIRA_API_TOKEN": token,
      "JIRA_DEPLOYMENT": "datacenter",
    ])
    #expect(explicit.deployment == .dataCenter)
    #expect(explicit.apiVersion == .v2)

    #expect(throws: JiraError.self) {
      try JiraConfig.resolve(environment: [
        "JIRA_URL": "https://jira.acme.com", "JIRA_PAT": pat, "JIRA_DEPLOYMENT": "datacenter", "JIRA_CLOUD_ID": "abc",
      ])
    }
  }

  @Test func tokenAndPATAtTheSamePrecedenceConflict() {
    do {
      _ = try JiraConfig.resolve(environment: [
        "JIRA_URL": "https://acme.atlassian.net", "JIRA_EMAIL": "ci@acme.com", "JIRA_API_TOKEN": token, "JIRA_PAT": pat,
      ])
      Issue.record("expected a conflict")
    } catch {
      #expect(error.description.contains("JIRA_API_TOKEN"))
      #expect(error.description.contains("JIRA_PAT"))
      #expect(!error.description.contains(token))
    }
  }

  @Test(arguments: [
    "ftp://acme.atlassian.net", "https://user:pass@acme.atlassian.net", "https://acme.atlassian.net/?x=1",
    "https://acme.atlassian.net/rest/api/3", "not a url",
  ])
  func unusableSiteURLsAreRejected(url: String) {
    #expect(throws: JiraError.self) {
      try JiraConfig.resolve(environment: ["JIRA_URL": url, "JIRA_PAT": pat])
    }
  }

  @Test func valuesAreTrimmedAndEmptyMeansUnset() throws {
    let config = try JiraConfig.resolve(environment: [
      "JIRA_URL": " https://acme.atlassian.net\n", "JIRA_EMAIL": "ci@acme.com", "JIRA_API_TOKEN": "\(token)\n",
      "JIRA_PAT": "", "JIRA_CLOUD_ID": " ",
    ])
    #expect(config.auth == .basic(email: "ci@acme.com", apiToken: token))
    #expect(config.cloudID == nil)
  }

  @Test func secretsNeverAppearInDescriptions() throws {
    let basic = try JiraConfig.resolve(environment: [
      "JIRA_URL": "https://acme.atlassian.net", "JIRA_EMAIL": "ci@acme.com", "JIRA_API_TOKEN": token,
    ])
    let bearer = try JiraConfig.resolve(environment: ["JIRA_URL": "https://jira.acme.com", "JIRA_PAT": pat])
    let encoded = Data("ci@acme.com:\(token)".utf8).base64EncodedString()
    for text in [
      basic.description, basic.debugDescription, String(reflecting: basic), "\(basic)", "\(basic.auth)",
      String(reflecting: basic.auth), bearer.description, String(reflecting: bearer), "\(bearer.auth)",
    ] {
      #expect(!text.contains(token))
      #expect(!text.contains(encoded))
      #expect(!text.contains(pat))
    }
  }
}
