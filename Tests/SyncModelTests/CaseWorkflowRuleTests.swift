import Testing
@testable import SyncModel

/// The case work rules of PROTOCOL.md §14 as pure functions: every row of the stage and
/// date tables, and the action completion rule.
struct CaseWorkflowRuleTests {
    typealias Rule = CaseWorkflowRule
    let today = "2026-06-10"

    func facts(_ stage: WorkflowStage, opened: String? = "2026-06-01", agreed: String? = nil, closed: String? = nil, unfinished: Int = 0) -> Rule.Facts {
        Rule.Facts(status: stage, opened: opened, agreed: agreed, closed: closed, unfinishedActions: unfinished)
    }

    func move(_ facts: Rule.Facts, to stage: WorkflowStage, _ extra: [FieldChange] = [], reopening: Bool = false) throws(Rule.Violation) -> Rule.Outcome {
        try Rule.apply([.set("status", .text(stage.rawValue))] + extra, to: facts, today: today, reopening: reopening)
    }

    func violation(_ facts: Rule.Facts, to stage: WorkflowStage, _ extra: [FieldChange] = [], reopening: Bool = false) -> Rule.Violation? {
        do {
            _ = try move(facts, to: stage, extra, reopening: reopening)
            return nil
        } catch {
            return error
        }
    }

    @Test func forwardMovesPassAndRecordTheDayTheStageWasEntered() throws {
        let outcome = try move(facts(.intake), to: .negotiation)
        #expect(outcome.changes == [.set("status", .text("negotiation")), .set("stageEntered", .text(today))])
        #expect(outcome.warnings.isEmpty)
        let agreed = try move(facts(.negotiation), to: .agreement, [.set("agreed", .text("2026-06-08"))])
        #expect(agreed.changes.contains(.set("stageEntered", .text("2026-06-08"))), "the given agreement day is the stage's day")
        #expect(!agreed.changes.contains(.set("agreed", .text(today))))
        #expect(try move(facts(.negotiation), to: .agreement).changes.contains(.set("agreed", .text(today))))
    }

    @Test func closingNeedsAnAgreementAndAnEndedCaseNeedsAReopen() throws {
        for stage in [WorkflowStage.intake, .preparation, .opening, .exploration, .negotiation] {
            #expect(violation(facts(stage), to: .closed) == .closeWithoutAgreement(from: stage))
            #expect(violation(facts(stage), to: .withdrawn) == nil)
        }
        #expect(violation(facts(.agreement, agreed: "2026-06-05"), to: .closed) == nil)
        #expect(violation(facts(.followUp, agreed: "2026-06-05"), to: .closed) == nil)
        for ended in [WorkflowStage.closed, .withdrawn] {
            #expect(violation(facts(ended), to: .negotiation) == .endedCase(ended))
            #expect(violation(facts(ended), to: .closed, reopening: true) == .reopenToEnded(.closed))
            #expect(violation(facts(ended), to: .exploration, reopening: true) == nil)
        }
        #expect(violation(facts(.negotiation), to: .exploration, reopening: true) == .notEnded(.negotiation))
    }

    @Test func movingBackWarnsAndBeforeAgreementClearsTheAgreementDay() throws {
        let back = try move(facts(.negotiation), to: .exploration)
        #expect(back.warnings == [.movedBack(from: .negotiation, to: .exploration)])
        let fellThrough = try move(facts(.followUp, agreed: "2026-06-05"), to: .negotiation)
        #expect(fellThrough.changes.contains(.clear("agreed")))
        #expect(fellThrough.warnings == [.movedBack(from: .followUp, to: .negotiation), .agreementCleared("2026-06-05")])
        let backToAgreement = try move(facts(.followUp, agreed: "2026-06-05"), to: .agreement)
        #expect(!backToAgreement.changes.contains { $0.field == "agreed" }, "back from follow-up keeps the agreement's day")
    }

    @Test func reopeningClearsTheClosingDayAndKeepsTheAgreement() throws {
        let reopened = try move(facts(.closed, agreed: "2026-06-05", closed: "2026-06-09"), to: .followUp, reopening: true)
        #expect(reopened.changes.contains(.clear("closed")))
        #expect(!reopened.changes.contains { $0.field == "agreed" })
        #expect(reopened.warnings == [.closedCleared("2026-06-09")])
    }

    @Test func datesMustNotComeBeforeTheDatesTheyFollow() throws {
        #expect(violation(facts(.negotiation), to: .agreement, [.set("agreed", .text("2026-05-31"))])
            == .dateOrder(field: "agreed", date: "2026-05-31", before: "opened", otherDate: "2026-06-01"))
        #expect(violation(facts(.agreement, agreed: "2026-06-05"), to: .closed, [.set("closed", .text("2026-06-04"))])
            == .dateOrder(field: "closed", date: "2026-06-04", before: "agreed", otherDate: "2026-06-05"))
        // A write that moves `opened` past a recorded date is refused too.
        #expect(throws: Rule.Violation.self) { try Rule.apply([.set("opened", .text("2026-06-06"))], to: facts(.agreement, agreed: "2026-06-05"), today: today) }
        // Clearing `opened` leaves nothing to compare with.
        #expect(try Rule.apply([.clear("opened")], to: facts(.agreement, agreed: "2026-06-05"), today: today).warnings.isEmpty)
        let future = try move(facts(.negotiation), to: .agreement, [.set("agreed", .text("2026-07-01"))])
        #expect(future.warnings == [.future(field: "agreed", date: "2026-07-01")])
    }

    @Test func closingWithUnfinishedActionsWarns() throws {
        #expect(try move(facts(.followUp, agreed: "2026-06-05", unfinished: 2), to: .closed).warnings == [.unfinishedActions(2)])
        #expect(try move(facts(.followUp, agreed: "2026-06-05"), to: .closed).warnings.isEmpty)
    }

    @Test func metRecordsTheCompletionDayAndLeavingMetClearsIt() {
        let met = ActionFollowUp.withCompletion([.set("status", .text("met"))], currentStatus: "open", completed: nil, today: today)
        #expect(met == [.set("status", .text("met")), .set("completed", .text(today))])
        let given = [FieldChange.set("status", .text("met")), .set("completed", .text("2026-06-01"))]
        #expect(ActionFollowUp.withCompletion(given, currentStatus: "open", completed: nil, today: today) == given)
        #expect(ActionFollowUp.withCompletion([.set("status", .text("in-progress"))], currentStatus: "met", completed: "2026-06-01", today: today).last == .clear("completed"))
        #expect(ActionFollowUp.withCompletion([.set("owner", .text("ward"))], currentStatus: "met", completed: "2026-06-01", today: today) == [.set("owner", .text("ward"))])
        let entry = ActionFollowUp.reviewEntry(date: "2026-06-10", status: "missed", note: "letter: not sent")
        #expect(entry == "2026-06-10 missed: letter: not sent")
        #expect(ActionFollowUp.review(entry)?.status == "missed")
        #expect(ActionFollowUp.review(entry)?.note == "letter: not sent")
        #expect(ActionFollowUp.review("2026-06-10 met")?.note == nil)
        #expect(ActionFollowUp.review("someone typed this") == nil)
    }
}

/// Findings of the review of the first version, each a case the rules got wrong.
struct CaseWorkflowRuleReviewTests {
    typealias Rule = CaseWorkflowRule
    let today = "2026-06-10"

    @Test func contradictoryStoredDatesDoNotBlockAnUnrelatedWrite() throws {
        // agreed 06-10 and closed 06-05 came from two merged concurrent writes.
        let merged = Rule.Facts(status: .closed, opened: "2026-06-01", agreed: "2026-06-10", closed: "2026-06-05")
        #expect(try Rule.apply([.set("outcome", .text("Apology given"))], to: merged, today: today).changes == [.set("outcome", .text("Apology given"))])
        #expect(throws: Rule.Violation.self) { try Rule.apply([.set("closed", .text("2026-06-06"))], to: merged, today: today) }
        #expect(try Rule.apply([.set("closed", .text("2026-06-10"))], to: merged, today: today).warnings.isEmpty)
    }

    @Test func reopeningAtAgreementKeepsTheAgreementDay() throws {
        let closed = Rule.Facts(status: .closed, opened: "2026-06-01", agreed: "2026-06-05", closed: "2026-06-08")
        let reopened = try Rule.apply([.set("status", .text("agreement"))], to: closed, today: today, reopening: true)
        #expect(!reopened.changes.contains { $0.field == "agreed" })
        #expect(reopened.changes.contains(.set("stageEntered", .text(today))))
    }

    @Test func fieldsThatDecideWhoHoldsARecordAreNeverCleared() throws {
        var note = RecordState(type: .note, id: try RecordID("0192f0c6-1b2c-7d3e-9f40-a1b2c3d4e5f6"))
        try note.apply([.set("case", .text("0192f0c4-7d3e-7a41-9b2c-5e8f00a1b2c3")), .set("text", .text("caucus only")), .set("visibility", .text("caucus"))],
                       stamp: Fixtures.stamp("ann-laptop", 1))
        var copy = note
        #expect(throws: ModelError.self) { try copy.apply([.clear("visibility")], stamp: Fixtures.stamp("ann-laptop", 2)) }
        #expect(copy == note)
        var theCase = try Fixtures.newCase()
        #expect(throws: ModelError.self) { try theCase.apply([.clear("confidentiality")], stamp: Fixtures.stamp("ann-laptop", 9)) }
    }
}
