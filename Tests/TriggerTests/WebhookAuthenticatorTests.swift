import HTTPServer
import Testing
import Trigger

@Suite struct WebhookAuthenticatorTests {
  private let body = Array(#"{"webhookEvent":"jira:issue_updated","issue":{"key":"PROJ-1"}}"#.utf8)
  private let authenticator = WebhookAuthenticator(
    secrets: WebhookSecrets(signingSecret: webhookSecret, token: automationToken))

  private func check(_ headers: HTTPHeaders, body: [UInt8]? = nil, with authenticator: WebhookAuthenticator? = nil)
    -> WebhookAuthentication?
  {
    let result = (authenticator ?? self.authenticator).authenticate(headers: headers, body: body ?? self.body)
    switch result {
    case .success(let method): return method
    case .failure(let error):
      // A refusal never repeats a secret or the credential it was given.
      #expect(!error.description.contains(webhookSecret))
      #expect(!error.description.contains(automationToken))
      return nil
    }
  }

  @Test func validSignatureIsAccepted() {
    #expect(check(["X-Hub-Signature": signature(body)]) == .signature)
  }

  @Test func signatureHexAndMethodAreCaseInsensitive() {
    let upper = "SHA256=" + signature(body).dropFirst("sha256=".count).uppercased()
    #expect(check(["x-hub-signature": upper]) == .signature)
  }

  @Test func jiraPublishedExample() {
    let authenticator = WebhookAuthenticator(secrets: WebhookSecrets(signingSecret: "It's a Secret to Everybody"))
    let headers: HTTPHeaders = [
      "X-Hub-Signature": "sha256=a4771c39fbe90f317c7824e83ddef3caae9cb3d976c214ace1f2937e133263c9"
    ]
    #expect(check(headers, body: Array("Hello World!".utf8), with: authenticator) == .signature)
  }

  @Test(
    "refused signatures",
    arguments: [
      "sha256=" + String(repeating: "0", count: 64),  // wrong MAC
      "sha1=0123456789abcdef0123456789abcdef01234567",  // other method
      "sha256=abc",  // too short
      "sha256=" + String(repeating: "g", count: 64),  // not hex
      "sha256",  // no value
      "",
    ])
  func refusedSignatures(header: String) {
    #expect(check(["X-Hub-Signature": header]) == nil)
  }

  @Test func signatureOfAnotherBodyIsRefused() {
    var tampered = body
    tampered[tampered.count - 3] = UInt8(ascii: "2")
    #expect(check(["X-Hub-Signature": signature(body)], body: tampered) == nil)
  }

  @Test func signatureWithTheWrongSecretIsRefused() {
    #expect(check(["X-Hub-Signature": signature(body, secret: "another-secret")]) == nil)
  }

  @Test func aWrongSignatureIsNotRescuedByAValidToken() {
    let headers: HTTPHeaders = [
      "X-Hub-Signature": signature(body, secret: "another-secret"), "X-Testbridge-Token": automationToken,
    ]
    #expect(check(headers) == nil)
  }

  @Test func missingCredentialsAreRefused() {
    #expect(check([:]) == nil)
    #expect(check(["Content-Type": "application/json"]) == nil)
  }

  @Test func tokenHeaderIsAccepted() {
    #expect(check(["X-Testbridge-Token": automationToken]) == .token)
  }

  @Test func bearerTokenIsAccepted() {
    #expect(check(["Authorization": "Bearer \(automationToken)"]) == .token)
    #expect(check(["authorization": "bearer   \(automationToken)"]) == .token)
  }

  @Test(
    "refused tokens",
    arguments: [
      ["X-Testbridge-Token": "wrong"],
      ["X-Testbridge-Token": automationToken + "x"],
      ["X-Testbridge-Token": ""],
      ["Authorization": "Bearer wrong"],
      ["Authorization": "Basic \(automationToken)"],
      ["Authorization": automationToken],
      ["X-Testbridge-Token": webhookSecret],  // the signing secret is not the token here
    ] as [HTTPHeaders])
  func refusedTokens(headers: HTTPHeaders) {
    #expect(check(headers) == nil)
  }

  @Test func tokenDefaultsToTheSigningSecret() {
    let authenticator = WebhookAuthenticator(secrets: WebhookSecrets(signingSecret: webhookSecret))
    #expect(check(["X-Testbridge-Token": webhookSecret], with: authenticator) == .token)
  }

  @Test func emptySecretsRefuseEverything() {
    let authenticator = WebhookAuthenticator(secrets: WebhookSecrets(signingSecret: "", token: ""))
    let emptySignature = "sha256=" + Hex.encode(HMACSHA256.authenticationCode(for: body, key: [UInt8]()))
    #expect(check(["X-Hub-Signature": emptySignature], with: authenticator) == nil)
    #expect(check(["X-Testbridge-Token": ""], with: authenticator) == nil)
    #expect(check(["Authorization": "Bearer "], with: authenticator) == nil)
    #expect(check([:], with: authenticator) == nil)
  }

  @Test func emptySigningSecretRefusesSignaturesButKeepsTheToken() {
    let authenticator = WebhookAuthenticator(secrets: WebhookSecrets(signingSecret: "", token: automationToken))
    let emptySignature = "sha256=" + Hex.encode(HMACSHA256.authenticationCode(for: body, key: [UInt8]()))
    #expect(check(["X-Hub-Signature": emptySignature], with: authenticator) == nil)
    #expect(check(["X-Testbridge-Token": automationToken], with: authenticator) == .token)
  }

  @Test func secretsResolveFromTheEnvironment() throws {
    let both = try WebhookSecrets.resolve(
      environment: ["TESTBRIDGE_WEBHOOK_SECRET": "s3cret-value", "TESTBRIDGE_WEBHOOK_TOKEN": "t0ken-value"])
    #expect(both.signingSecret == "s3cret-value")
    #expect(both.token == "t0ken-value")
    #expect(!both.description.contains("s3cret"))
    #expect(!both.description.contains("t0ken"))
    let secretOnly = try WebhookSecrets.resolve(environment: ["TESTBRIDGE_WEBHOOK_SECRET": "s3cret-value"])
    #expect(secretOnly.token == "s3cret-value")
    #expect(throws: TriggerError.self) { try WebhookSecrets.resolve(environment: [:]) }
    #expect(throws: TriggerError.self) { try WebhookSecrets.resolve(environment: ["TESTBRIDGE_WEBHOOK_SECRET": ""]) }
    do {
      _ = try WebhookSecrets.resolve(environment: [:])
    } catch {
      #expect(error.description.contains("TESTBRIDGE_WEBHOOK_SECRET"))
    }
  }
}

@Suite struct DeliveryLogTests {
  @Test func aRepeatedIdIsADuplicate() async {
    let log = DeliveryLog()
    #expect(await log.register("a1"))
    #expect(await log.register("a2"))
    #expect(await !log.register("a1"))
    #expect(await !log.register("a2"))
    #expect(await log.count == 2)
  }

  @Test func memoryIsBoundedOldestForgottenFirst() async {
    let log = DeliveryLog(capacity: 3)
    for id in ["a", "b", "c", "d"] { #expect(await log.register(id)) }
    #expect(await log.count == 3)
    #expect(await !log.contains("a"))
    #expect(await log.contains("d"))
    #expect(await log.register("a"))  // forgotten, so new again; evicts "b"
    #expect(await !log.register("c"))
    #expect(await log.register("b"))
  }

  @Test func tenThousandIdsStayBounded() async {
    let log = DeliveryLog()
    for index in 0..<10_500 { _ = await log.register("delivery-\(index)") }
    #expect(await log.count == 10_000)
    #expect(await !log.contains("delivery-0"))
    #expect(await log.contains("delivery-10499"))
  }

  @Test func forgottenIdsCanBeProcessedAgain() async {
    let log = DeliveryLog(capacity: 2)
    #expect(await log.register("x"))
    await log.forget("x")
    #expect(await log.register("x"))
    #expect(await !log.register("x"))
    #expect(await log.register("y"))
    #expect(await log.register("z"))
    #expect(await log.count == 2)
    #expect(await !log.contains("x"))
  }

  @Test func longIdsAreStoredHashed() async {
    let log = DeliveryLog()
    let long = String(repeating: "x", count: 10_000)
    #expect(await log.register(long))
    #expect(await !log.register(long))
    #expect(await log.register(long + "y"))
  }
}
