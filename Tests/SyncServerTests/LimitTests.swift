import Foundation
import Hummingbird
import HummingbirdTesting
@testable import SyncServer
import Testing

/// The limits that keep the node's memory bounded and its answers coming, in process.
struct LimitTests {
    @Test func metricsAreLabelledByRouteTemplateSoUnknownPathsAddNoSeries() async throws {
        let fixture = try await NodeFixture()
        try await fixture.test { client in
            for index in 0..<300 {
                try await client.execute(uri: "/v1/anything-\(index)", method: .get) { #expect($0.status == .notFound) }
            }
            _ = try await fixture.pull(client, as: "ann-laptop")
            try await client.execute(uri: "/metrics", method: .get) { response in
                let text = String(buffer: response.body)
                let series = text.split(separator: "\n").filter { $0.hasPrefix("casesync_requests_total{") }
                #expect(!text.contains("anything-"), "a path a client typed became a label")
                #expect(series.contains { $0.contains(#"route="unmatched""#) && $0.contains(#"status="404""#) && $0.hasSuffix(" 300") })
                #expect(series.contains { $0.contains(#"route="/v1/sync/pull""#) && $0.contains(#"status="200""#) })
                #expect(series.count <= 3, "\(series)")
            }
        }
    }

    @Test func beyondTheInFlightLimitTheNodeAnswersBusyWithRetryAfterButStillAnswersHealthz() async throws {
        let fixture = try await NodeFixture(maxInFlight: 0)
        try await fixture.test { client in
            try await client.execute(uri: "/v1/sync/pull", method: .get, headers: [.authorization: fixture.credentials["ann-laptop"] ?? ""]) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.retryAfter] == "1")
                let answer = try NodeFixture.object(response.body)
                #expect(NodeFixture.errorCode(answer) == "busy")
            }
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
        }
    }

    @Test func theInFlightCounterAdmitsUpToItsLimitAndFreesPlaces() {
        let counter = InFlightCounter(limit: 2)
        #expect(counter.enter() && counter.enter())
        #expect(!counter.enter(), "a third request beyond a limit of two")
        counter.leave()
        #expect(counter.enter(), "a freed place is taken again")
    }

    @Test func theBodyBudgetMakesAReservationWaitUntilEnoughBytesAreReleased() async throws {
        let budget = BodyBudget(capacity: 100)
        #expect(try await budget.reserve(80) == 80)
        let large = Task { try await budget.reserve(500) }
        while budget.waitingCount == 0 { await Task.yield() }
        budget.release(80)
        #expect(try await large.value == 100, "a reservation above the capacity is clamped to it, and runs alone")
        budget.release(100)
        #expect(try await budget.reserve(100) == 100, "every byte came back")
    }

    @Test func aCancelledWaitLeavesTheBudgetQueueAndThrows() async throws {
        let budget = BodyBudget(capacity: 10)
        _ = try await budget.reserve(10)
        let waiter = Task { try await budget.reserve(5) }
        while budget.waitingCount == 0 { await Task.yield() }
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(budget.waitingCount == 0)
    }
}
