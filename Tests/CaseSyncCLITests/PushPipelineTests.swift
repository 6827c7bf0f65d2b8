import SyncModel
import Testing
@testable import SyncClient
@testable import SyncStore

/// The rule that keeps two push batches in flight without the node meeting a record before
/// its case.
struct PushPipelineTests {
    func queued(_ id: RecordID, case caseID: RecordID) -> ReplicaStore.QueuedRecord {
        ReplicaStore.QueuedRecord(id: id, caseID: caseID, state: [])
    }

    @Test func aBatchWaitsOnlyForTheBatchHoldingItsRecordsCases() throws {
        var random = SystemRandomNumberGenerator()
        let ids = (0..<6).map { RecordID.make(milliseconds: 1_763_800_000_000 + Int64($0), using: &random) }
        let (caseA, caseB, partyA, partyB, caseC, partyOfOldCase) = (ids[0], ids[1], ids[2], ids[3], ids[4], ids[5])
        let inFlight: Set<RecordID> = [caseA, caseB]

        #expect(SyncEngine.dependsOn(inFlight, [queued(partyA, case: caseA)]))
        #expect(SyncEngine.dependsOn(inFlight, [queued(caseC, case: caseC), queued(partyB, case: caseB)]))
        // Cases alone, and records of cases not in flight, go out at once.
        #expect(!SyncEngine.dependsOn(inFlight, [queued(caseC, case: caseC)]))
        #expect(!SyncEngine.dependsOn(inFlight, [queued(partyOfOldCase, case: caseC)]))
        #expect(!SyncEngine.dependsOn([], [queued(partyA, case: caseA)]))
    }
}
