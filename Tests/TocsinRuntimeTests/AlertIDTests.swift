import TocsinCore
import XCTest

@testable import TocsinRuntime

/// Alert ids are written out and must never change: the engine hashes each alert's id from the
/// state its rule keeps after the rule's name (`AlertRule.idPrefixes`), which must give exactly
/// the id hashed from the start (`Alert.makeIDHash(rule:…)`), the documented definition, for
/// matches and time-outs alike. The golden values pin the definition itself.
final class AlertIDTests: XCTestCase {
  func testPrefixedHashEqualsHashFromStart() {
    let names = ["r", "card_velocity", "w2_login_no_logout_big_purchase", "", "Zürich_rule", "a\u{0}timeout"]
    let identities: [[EventIdentity]] = [[], ["e1"], ["e0000006", "e0013465", "e0021948"], ["a-long-identity-of-many-bytes"]]
    for (index, name) in names.enumerated() {
      let source = AlertRule(index: index, name: name, severity: .medium)
      for isTimeout in [false, true] {
        for keyText in ["", "u089695", "u1|FR"] {
          for ids in identities {
            XCTAssertEqual(
              Alert.makeIDHash(source: source, isTimeout: isTimeout, keyText: keyText, identities: ids),
              Alert.makeIDHash(rule: name, isTimeout: isTimeout, keyText: keyText, identities: ids),
              "\(name) timeout \(isTimeout) key \(keyText) \(ids)")
          }
        }
      }
    }
  }

  /// The ids of two alerts as `tocsin run` writes them: if these change, every alert id in
  /// every user's history changes with them.
  func testGoldenIDs() {
    XCTAssertEqual(
      Alert.makeID(rule: "w2_night_spree", isTimeout: false, keyText: "c073347", identities: ["e0002563", "e0013465", "e0021948"]),
      "0b012a7c818dcafe")
    let source = AlertRule(index: 0, name: "w2_night_spree", severity: .medium)
    XCTAssertEqual(
      StableHash.hex(
        Alert.makeIDHash(source: source, isTimeout: false, keyText: "c073347", identities: ["e0002563", "e0013465", "e0021948"])),
      "0b012a7c818dcafe")
  }
}
