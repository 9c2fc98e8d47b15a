internal import CLibXML2

/// Lets tests check the libxml2 options without importing libxml2 themselves.
public enum JUnitParserOptionsProbe {
  /// Names of dangerous libxml2 options that are set; must always be empty.
  public static var forbiddenFlagsSet: [String] {
    let forbidden: [(String, UInt32)] = [
      ("XML_PARSE_NOENT", XML_PARSE_NOENT.rawValue), ("XML_PARSE_DTDLOAD", XML_PARSE_DTDLOAD.rawValue),
      ("XML_PARSE_DTDATTR", XML_PARSE_DTDATTR.rawValue), ("XML_PARSE_DTDVALID", XML_PARSE_DTDVALID.rawValue),
      ("XML_PARSE_XINCLUDE", XML_PARSE_XINCLUDE.rawValue), ("XML_PARSE_HUGE", XML_PARSE_HUGE.rawValue),
      ("XML_PARSE_RECOVER", XML_PARSE_RECOVER.rawValue),
    ]
    let options = UInt32(bitPattern: JUnitParser.parserOptions)
    return forbidden.filter { options & $0.1 != 0 }.map(\.0)
  }
}
