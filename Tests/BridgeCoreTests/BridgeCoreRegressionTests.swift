import BridgeCore
import Testing

/// Defects found while fuzzing and reviewing for RELIABILITY.md, kept fixed.
@Suite struct BridgeCoreRegressionTests {
  /// `time="1e300"` used to be taken as 10^300 seconds: the summary then crashed
  /// converting it to minutes, and the result could not be encoded as JSON
  /// (milliseconds overflow to infinity), so its whole batch was lost.
  @Test(arguments: ["1e300", "1.7976931348623157e308", "2e9", "1000000001", "99999999999999999999", "1,000,000,001"])
  func absurdDurationsAreUnknown(text: String) {
    #expect(DurationParser.seconds(text) == nil)
  }

  @Test(arguments: [("1e9", 1e9), ("999999999.5", 999_999_999.5), ("86400", 86_400.0), ("1e-3", 0.001)])
  func longButPossibleDurationsAreKept(text: String, seconds: Double) {
    #expect(DurationParser.seconds(text) == seconds)
  }
}
