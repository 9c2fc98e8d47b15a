import Testing
import Trigger

@Suite struct SHA256Tests {
  private func hex(_ text: String) -> String { Hex.encode(SHA256.hash(Array(text.utf8))) }

  @Test(
    "FIPS 180-4 example messages",
    arguments: [
      ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
      ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
      (
        "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
      ),
      (
        "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
        "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
      ),
    ])
  func exampleMessages(message: String, digest: String) {
    #expect(hex(message) == digest)
  }

  @Test func oneMillionLetterA() {
    let input = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
    #expect(Hex.encode(SHA256.hash(input)) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
  }

  /// Lengths around the padding boundaries (55/56 bytes leave room for the length or not).
  @Test(
    "padding boundaries",
    arguments: [
      (1, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
      (55, "463eb28e72f82e0a96c0a4cc53690c571281131f672aa229e0d45ae59b598b59"),
      (56, "da2ae4d6b36748f2a318f23e7ab1dfdf45acdc9d049bd80e59de82a60895f562"),
      (57, "2fe741af801cc238602ac0ec6a7b0c3a8a87c7fc7d7f02a3fe03d1c12eac4d8f"),
      (63, "29af2686fd53374a36b0846694cc342177e428d1647515f078784d69cdb9e488"),
      (64, "fdeab9acf3710362bd2658cdc9a29e8f9c757fcf9811603a8c447cd1d9151108"),
      (65, "4bfd2c8b6f1eec7a2afeb48b934ee4b2694182027e6d0fc075074f2fabb31781"),
      (111, "60780e9451bdc43cf4530ffc95cbb0c4eb24dae2c39f55f334d679e076c08065"),
      (119, "da18797ed7c3a777f0847f429724a2d8cd5138e6ed2895c3fa1a6d39d18f7ec6"),
      (120, "f52b23db1fbb6ded89ef42a23ce0c8922c45f25c50b568a93bf1c075420bbb7c"),
      (127, "92ca0fa6651ee2f97b884b7246a562fa71250fedefe5ebf270d31c546bfea976"),
      (128, "471fb943aa23c511f6f72f8d1652d9c880cfa392ad80503120547703e56a2be5"),
      (129, "5099c6a56203f9687f7d33f4bfdf576d31dc91f6b695ecea38b2770c87631135"),
      (1000, "4e4c294b331f7a2099a379bec34b9f9fc03dc46ab465d998f4d683da53487e6d"),
    ])
  func paddingBoundaries(length: Int, digest: String) {
    let input = (0..<length).map { UInt8($0 % 251) }
    #expect(Hex.encode(SHA256.hash(input)) == digest)
  }

  @Test func incrementalUpdatesMatchOneShot() {
    let input = (0..<1000).map { UInt8($0 % 251) }
    for chunk in [1, 3, 63, 64, 65, 200] {
      var hasher = SHA256()
      var index = 0
      while index < input.count {
        let end = min(index + chunk, input.count)
        hasher.update(input[index..<end])
        index = end
      }
      #expect(Hex.encode(hasher.finalize()) == "4e4c294b331f7a2099a379bec34b9f9fc03dc46ab465d998f4d683da53487e6d")
    }
  }

  @Test func finalizeLeavesTheHasherUsable() {
    var hasher = SHA256()
    hasher.update(Array("ab".utf8))
    _ = hasher.finalize()
    hasher.update(AnySequence(Array("c".utf8)))
    #expect(Hex.encode(hasher.finalize()) == hex("abc"))
  }
}

@Suite struct HMACTests {
  private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

  /// RFC 4231 §4.2–4.8.
  @Test(
    "RFC 4231 test cases",
    arguments: [
      (
        [UInt8](repeating: 0x0b, count: 20), Array("Hi There".utf8),
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
      ),
      (
        Array("Jefe".utf8), Array("what do ya want for nothing?".utf8),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
      ),
      (
        [UInt8](repeating: 0xaa, count: 20), [UInt8](repeating: 0xdd, count: 50),
        "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"
      ),
      (
        Array(1...25), [UInt8](repeating: 0xcd, count: 50),
        "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"
      ),
      (
        [UInt8](repeating: 0xaa, count: 131), Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
      ),
      (
        [UInt8](repeating: 0xaa, count: 131),
        Array(
          "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm."
            .utf8),
        "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"
      ),
    ] as [([UInt8], [UInt8], String)])
  func rfc4231(key: [UInt8], message: [UInt8], mac: String) {
    #expect(Hex.encode(HMACSHA256.authenticationCode(for: message, key: key)) == mac)
  }

  @Test func rfc4231TruncatedOutput() {
    let mac = HMACSHA256.authenticationCode(
      for: bytes("Test With Truncation"), key: [UInt8](repeating: 0x0c, count: 20))
    #expect(Hex.encode(mac.prefix(16)) == "a3b6167473100ee06e0c796c2955552b")
  }

  @Test func keyOfExactlyOneBlockIsNotHashed() {
    let mac = HMACSHA256.authenticationCode(for: bytes("block-size key"), key: [UInt8](repeating: UInt8(ascii: "k"), count: 64))
    #expect(Hex.encode(mac) == "3639ed45f96410ae1abf821aaf15a4e616209464f7e06fb79435d35e485bd3c2")
  }

  /// Atlassian's published example for admin webhook signatures.
  @Test func jiraWebhookExample() {
    let mac = HMACSHA256.authenticationCode(for: bytes("Hello World!"), key: bytes("It's a Secret to Everybody"))
    #expect(Hex.encode(mac) == "a4771c39fbe90f317c7824e83ddef3caae9cb3d976c214ace1f2937e133263c9")
  }

  @Test func incrementalMessage() {
    var mac = HMACSHA256(key: bytes("Jefe"))
    mac.update(bytes("what do ya want "))
    mac.update(bytes("for nothing?"))
    #expect(Hex.encode(mac.finalize()) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
  }

  @Test func constantTimeComparison() {
    #expect(constantTimeEquals([], []))
    #expect(constantTimeEquals([1, 2, 3], [1, 2, 3]))
    #expect(!constantTimeEquals([1, 2, 3], [1, 2, 4]))
    #expect(!constantTimeEquals([0, 2, 3], [1, 2, 3]))
    #expect(!constantTimeEquals([1, 2, 3], [1, 2]))
    #expect(!constantTimeEquals([], [0]))
  }

  @Test func hexRoundTripAndCaseInsensitiveDecoding() {
    #expect(Hex.encode([0x00, 0xab, 0xff]) == "00abff")
    #expect(Hex.decode("00ABff") == [0x00, 0xab, 0xff])
    #expect(Hex.decode("abc") == nil)
    #expect(Hex.decode("zz") == nil)
    #expect(Hex.decode("") == [])
  }
}
