// libFuzzer target: the manual-plan Markdown parser, the answers file and the
// progress file of `testbridge manual`.
//
// Input layout: the plan text, then an optional NUL and the answers text (also
// tried as a progress file). When both parse, the answers are matched to the
// plan, a session is built, results are made, and the saved progress must read
// back as it was written.
import BridgeCore
import Foundation
import Runner

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = UnsafeBufferPointer(start: data, count: size)
  let separator = bytes.firstIndex(of: 0) ?? bytes.endIndex
  let planText = String(decoding: bytes[..<separator], as: UTF8.self)
  let answersBytes = separator < bytes.endIndex ? bytes[(separator + 1)...] : bytes[bytes.endIndex...]
  let answersText = String(decoding: answersBytes, as: UTF8.self)

  _ = try? ManualProgressFile.decode(Data(answersBytes), path: "fuzz.progress.json")
  let answers = try? AnswersFile.parse(answersText, path: "answers.txt")
  let plan: ManualPlan
  do {
    plan = try ManualPlanParser.parse(planText, path: "plans/fuzz.md")
  } catch {
    if case .invalid(_, let line, _) = error, line < 1 { fatalError("error line \(line) is not 1-based") }
    return 0
  }
  guard !plan.tests.isEmpty else { fatalError("a plan without tests was accepted") }
  guard Set(plan.tests.map(\.title)).count == plan.tests.count else { fatalError("duplicate titles were accepted") }
  let ids = plan.tests.compactMap(\.testomatioID)
  guard Set(ids).count == ids.count else { fatalError("duplicate ids were accepted") }
  for (index, test) in plan.tests.enumerated() where plan.index(of: test.reference) != index {
    fatalError("test \(index) '\(test.title)' is not found by its own reference")
  }

  var session = ManualSession(plan: plan)
  if let answers {
    if let filled = try? ManualSession(plan: plan, answers: answers, answersPath: "answers.txt") { session = filled }
    _ = ManualOutcomes.results(plan: plan, answers: answers)
  }
  if let next = session.nextIndex { session.record(.fail, note: answersText, at: next) }
  let results = ManualOutcomes.results(plan: plan, answers: session.givenAnswers)
  guard results.count == plan.tests.count else { fatalError("results do not match the tests") }

  let progress = session.progress(updatedAt: Date(timeIntervalSince1970: 1_700_000_000))
  do {
    let readBack = try ManualProgressFile.decode(ManualProgressFile.encode(progress), path: "p.json")
    guard readBack == progress else { fatalError("progress changed through its file") }
    let resumed = ManualSession(plan: plan, resuming: readBack)
    guard resumed.answers == session.answers else { fatalError("resuming changed the answers") }
  } catch {
    fatalError("saved progress does not read back: \(error)")
  }
  return 0
}
