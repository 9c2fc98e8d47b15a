internal import CLibXML2

/// libxml2 wants `xmlInitParser()` once before any parse on any thread.
enum LibXML2Setup {
  static let initialized: Void = { xmlInitParser() }()
}
