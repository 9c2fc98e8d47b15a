extension ParsedArguments {
  /// A copy in which option `long` falls back to `value` when neither the command
  /// line nor the environment gives one (a default worked out at run time, such as
  /// a run title from the CI environment). Unknown options are left alone.
  func defaulting(_ long: String, to value: String) -> ParsedArguments {
    guard var resolution = resolutions[long] else { return self }
    resolution.spec.defaultValue = value
    var updated = resolutions
    updated[long] = resolution
    return ParsedArguments(
      positionals: positionals, trailing: trailing, helpRequested: helpRequested, resolutions: updated,
      positionalCounts: positionalCounts)
  }
}
