import Foundation
import Hummingbird
import HummingbirdTesting
import SyncModel
import SyncProtocol
import SyncServer
import SyncStore
import Testing

/// Every endpoint, error status and role, in process.
struct RouteTests {
    @Test(arguments: StoreKind.available) func aServedPathWithAnotherMethodIs405WithAllowAndAnUnknownPath404(store: StoreKind) async throws {
        let fixture = try await NodeFixture(store: store)
        try await fixture.test { client in
            for (method, path, allow) in [(HTTPRequest.Method.trace, "/v1/sync/pull", "GET"), (.delete, "/healthz", "GET"), (.get, "/v1/sync/push", "POST")] {
                try await client.execute(uri: path + "?since=0", method: method, headers: [.authorization: fixture.credentials["sue-desk"] ?? ""]) { response in
                    let answer = try NodeFixture.object(response.body)
                    #expect(response.status == .methodNotAllowed && response.headers[.allow] == allow, "\(method) \(path)")
                    #expect(NodeFixture.errorCode(answer) == "method_not_allowed")
                }
            }
            try await client.execute(uri: "/v1/nothing", method: .trace) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test(arguments: StoreKind.available) func healthAndMetricsAnswer(store: StoreKind) async throws {
        let fixture = try await NodeFixture(store: store)
        try await fixture.test { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == #"{"status":"ok"}"#)
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("casesync_requests_total"))
            }
        }
    }

    @Test(arguments: StoreKind.available) func enrollmentBindsADeviceOnceAndRefusesBadTokens(store: StoreKind) async throws {
        let fixture = try await NodeFixture(store: store)
        let token = try await fixture.node.makeEnrollmentToken(for: "ann", ttl: 3600)
        let expired = try await fixture.node.makeEnrollmentToken(for: "ann", ttl: 0)
        try await fixture.test { client in
            func enroll(_ body: String) async throws -> (HTTPResponse.Status, [String: Any]) {
                try await client.execute(uri: "/v1/enroll", method: .post, body: ByteBuffer(string: body)) { ($0.status, try NodeFixture.object($0.body)) }
            }
            let (status, answer) = try await enroll(#"{"device":"ann-phone","name":"Ann's phone","token":"\#(token)"}"#)
            #expect(status == .ok)
            #expect(answer["user"] as? String == "ann" && answer["role"] as? String == "mediator" && answer["device"] as? String == "ann-phone")
            #expect((answer["secret"] as? String)?.count == 64)
            #expect(try await enroll(#"{"device":"ann-tablet","name":"x","token":"\#(token)"}"#).0 == .unauthorized, "a token works once")
            #expect(try await enroll(#"{"device":"ann-tablet","name":"x","token":"\#(expired)"}"#).0 == .unauthorized, "expired")
            #expect(try await enroll(#"{"device":"ann-tablet","name":"x","token":"nope"}"#).0 == .unauthorized)
            #expect(try await enroll(#"{"device":"ann-tablet","name":"x""#).0 == .badRequest)
            #expect(try await enroll(#"{"device":"ann-tablet","name":"x","token":"t","extra":1}"#).0 == .badRequest)
        }
        // The secret is stored only as a hash.
        let stored = try #require(try await fixture.store.device(DeviceID("ann-phone")))
        #expect(stored.secretHash.count == 32)
    }

    @Test(arguments: StoreKind.available) func pushMergesInOneTransactionAndResendingIsHarmless(store: StoreKind) async throws {
        let fixture = try await NodeFixture(store: store)
        let mine = try NodeFixture.caseState(1, by: "ann-laptop", counter: 1)
        let note = try NodeFixture.note(1, in: mine.id, by: "ann-laptop", counter: 2)
        try await fixture.test { client in
            let (status, answer) = try await fixture.push(client, [mine, note], as: "ann-laptop")
            #expect(status == .ok)
            let results = try #require(answer["results"] as? [[String: Any]])
            #expect(results.count == 2)
            #expect(results.allSatisfy { $0["conflict"] as? Bool == false && $0["vv"] is [String: Int] })
            let seq = try #require(answer["seq"] as? Int)
            // The creating mediator is added to the case by the node.
            let caseVV = try #require(results.first?["vv"] as? [String: Int])
            #expect(caseVV["ann-laptop"] == 1 && caseVV.count == 2)

            let (again, answerAgain) = try await fixture.push(client, [mine, note], as: "ann-laptop")
            #expect(again == .ok)
            #expect(answerAgain["seq"] as? Int == seq, "a re-sent batch assigns no new sequence")
        }
        let stored = try #require(try await fixture.store.record(mine.id))
        #expect(stored.set("mediators").members == ["ann"])
    }

    @Test("bad pushes are refused whole with the fitting status", arguments: StoreKind.available, [
        ("no credentials", 401), ("wrong secret", 401), ("reporter device", 403), ("admin device", 403), ("malformed JSON", 400),
        ("wrong envelope", 400), ("unknown field", 422), ("wrong value type", 422), ("missing required field", 422),
        ("forged dot of another device", 422), ("regressing counter", 422), ("rewritten write", 422),
        ("another mediator's case", 403), ("note in an unknown case", 422), ("oversize body", 413),
        ("moving a note to another case", 422), ("case link in conflict", 422), ("dropping others' writes without a write of its own", 422),
        ("records key twice", 400),
    ])
    func badPush(store: StoreKind, example: (String, Int)) async throws {
        let (scenario, expected) = example
        let fixture = try await NodeFixture(store: store, maxBodyBytes: 64 << 10)
        let bobsCase = try NodeFixture.caseState(7, by: "bob-laptop", counter: 1, title: "Bob's case")
        let annsCase = try NodeFixture.caseState(1, by: "ann-laptop", counter: 5)
        let annsNote = try NodeFixture.note(1, in: annsCase.id, by: "ann-laptop", counter: 4)
        try await fixture.test { client in
            #expect(try await fixture.push(client, [bobsCase], as: "bob-laptop").0 == .ok)
            #expect(try await fixture.push(client, [annsCase, annsNote], as: "ann-laptop").0 == .ok)
            let before = try await fixture.store.recordCount()

            var headers: HTTPFields = [.authorization: fixture.credentials["ann-laptop"] ?? ""]
            let good = try NodeFixture.caseState(2, by: "ann-laptop", counter: 6)
            var body = NodeFixture.pushBody([good])
            switch scenario {
            case "no credentials": headers = [:]
            case "wrong secret": headers = [.authorization: "Bearer ann-laptop:0000"]
            case "reporter device": headers = [.authorization: fixture.credentials["rita-desk"] ?? ""]
            case "admin device": headers = [.authorization: fixture.credentials["adam-desk"] ?? ""]
            case "malformed JSON": body = ByteBuffer(string: #"{"records":[{"id":"#)
            case "wrong envelope": body = ByteBuffer(string: #"{"states":[]}"#)
            case "unknown field":
                body = ByteBuffer(string: String(buffer: NodeFixture.pushBody([good])).replacingOccurrences(of: "\"title\"", with: "\"colour\""))
            case "wrong value type":
                body = ByteBuffer(string: String(buffer: NodeFixture.pushBody([good])).replacingOccurrences(of: "\"value\":\"intake\"", with: "\"value\":7"))
            case "missing required field":
                var partial = RecordState(type: .case, id: good.id)
                try partial.set("title", .text("only a title"), stamp: Stamp(device: try DeviceID("ann-laptop"), counter: 6, time: 1))
                body = NodeFixture.pushBody([good, partial].suffix(1))
            case "forged dot of another device":
                var forged = annsCase
                try forged.set("title", .text("as if bob wrote it"), stamp: Stamp(device: try DeviceID("bob-laptop"), counter: 99, time: 1))
                body = NodeFixture.pushBody([good, forged])
            case "regressing counter":
                body = NodeFixture.pushBody([good, try NodeFixture.caseState(1, by: "ann-laptop", counter: 3)])
            case "rewritten write":
                body = NodeFixture.pushBody([good, try NodeFixture.caseState(1, by: "ann-laptop", counter: 5, title: "same dot, other text")])
            case "another mediator's case":
                var edited = bobsCase
                try edited.set("title", .text("ann was here"), stamp: Stamp(device: try DeviceID("ann-laptop"), counter: 7, time: 1))
                body = NodeFixture.pushBody([good, edited])
            case "note in an unknown case":
                body = NodeFixture.pushBody([good, try NodeFixture.note(3, in: RecordID(high: 1, low: 2), by: "ann-laptop", counter: 8)])
            case "moving a note to another case":
                var moved = annsNote
                try moved.set("case", .text(good.id.rawValue), stamp: Stamp(device: try DeviceID("ann-laptop"), counter: 7, time: 1))
                body = NodeFixture.pushBody([good, moved])
            case "case link in conflict":
                // Two entries in one register from one device: shown as the later one (ann's
                // case), it would otherwise slip past the scope check into another case.
                let ann = try DeviceID("ann-laptop")
                let link = Register(entries: [
                    RegisterEntry(stamp: Stamp(device: ann, counter: 8, time: 10), value: .text(bobsCase.id.rawValue)),
                    RegisterEntry(stamp: Stamp(device: ann, counter: 9, time: 100), value: .text(annsCase.id.rawValue)),
                ])
                let text = Register(entries: [RegisterEntry(stamp: Stamp(device: ann, counter: 9, time: 100), value: .text("x"))])
                let ambiguous = RecordState(type: .note, id: RecordID(high: 7, low: 7), version: VersionVector([Dot(device: ann, counter: 9)]),
                                            fields: [RecordField(name: "case", state: .register(link)), RecordField(name: "text", state: .register(text))])
                body = NodeFixture.pushBody([good, ambiguous])
            case "dropping others' writes without a write of its own":
                // Claims to have seen the node's write that made ann a mediator, and leaves it out.
                let stored = try #require(try await fixture.store.record(annsCase.id))
                let forged = RecordState(type: .case, id: stored.id, version: stored.version, fields: stored.fields.filter { $0.name != "mediators" })
                body = NodeFixture.pushBody([good, forged])
            case "records key twice":
                // A reader keeping the last (or the first) would merge something else than
                // another reader of the same bytes.
                body = ByteBuffer(string: #"{"records":[],"# + String(buffer: NodeFixture.pushBody([good])).dropFirst())
            case "oversize body":
                body = ByteBuffer(string: String(repeating: " ", count: 70 << 10) + "{}")
            default: Issue.record("unknown scenario")
            }
            let (status, answer) = try await client.execute(uri: "/v1/sync/push", method: .post, headers: headers, body: body) {
                ($0.status, try NodeFixture.object($0.body))
            }
            #expect(Int(status.code) == expected, "\(scenario): \(answer)")
            #expect(NodeFixture.errorCode(answer) != nil, "\(scenario): errors carry a code")
            #expect(((answer["error"] as? [String: Any])?["message"] as? String)?.isEmpty == false)
            #expect(try await fixture.store.recordCount() == before, "\(scenario): a refused batch stores nothing")
            #expect(try await fixture.store.record(good.id) == nil, "\(scenario): not even the good record")
            // The audit log keeps the refusal (PROTOCOL.md §18): a refused push of an
            // authenticated device names the record and the rule, a wrong secret the device.
            let last = try #require(try await fixture.store.auditLog(limit: 1).first)
            switch scenario {
            case "another mediator's case", "regressing counter", "forged dot of another device":
                #expect(last.action == "push-refused" && last.user == "ann" && last.device == "ann-laptop", "\(scenario): \(last)")
                #expect(last.count == 1 && last.detail == NodeFixture.errorCode(answer), "\(scenario): the offending record and the rule")
            case "wrong secret":
                #expect(last.action == "login-refused" && last.device == "ann-laptop" && last.detail == "wrong secret", "\(last)")
            case "no credentials", "malformed JSON", "oversize body":
                #expect(last.action == "push", "\(scenario): nothing to attribute, nothing audited: \(last)")
            default: break
            }
            #expect(try await fixture.store.verifyAudit(anchor: nil).firstBroken == nil)
        }
    }

    @Test(arguments: StoreKind.available) func aCaseCreatedAndDeletedOfflineIsAcceptedAndStaysVisibleToItsCreator(store: StoreKind) async throws {
        let fixture = try await NodeFixture(store: store)
        var created = try NodeFixture.caseState(3, by: "ann-laptop", counter: 1)
        try created.delete(stamp: Stamp(device: try DeviceID("ann-laptop"), counter: 2, time: 2))
        let state = created
        try await fixture.test { client in
            let pushed = try await fixture.push(client, [state], as: "ann-laptop").0
            let annSees = try await fixture.pullAll(client, as: "ann-laptop").ids
            let bobSees = try await fixture.pullAll(client, as: "bob-laptop").ids
            #expect(pushed == .ok)
            #expect(annSees == [state.id.rawValue])
            #expect(bobSees.isEmpty)
        }
    }

    @Test(arguments: StoreKind.available) func reservedNodeDeviceIDsCannotEnroll(store: StoreKind) async throws {
        let fixture = try await NodeFixture(store: store)
        let token = try await fixture.node.makeEnrollmentToken(for: "ann", ttl: 3600)
        await #expect { try await fixture.node.enroll(token: token, device: try DeviceID("node-abc"), name: "x") } throws: { ($0 as? NodeError)?.code == .refused }
    }

    @Test(arguments: StoreKind.available) func revocationAndDisablingTakeEffectOnTheNextRequest(store: StoreKind) async throws {
        let fixture = try await NodeFixture(store: store)
        try await fixture.test { client in
            #expect(try await fixture.pull(client, as: "ann-laptop").0 == .ok)
            _ = try await fixture.store.revokeDevice("ann-laptop", wipeAt: nil, at: fixture.time)
            let (status, answer) = try await fixture.pull(client, as: "ann-laptop")
            #expect(status == .unauthorized)
            #expect(NodeFixture.errorCode(answer) == "revoked")
            #expect(try await fixture.pull(client, as: "bob-laptop").0 == .ok)
        }
    }

    /// PROTOCOL.md §13.3: a disabled user's device may push what it queued, is told to erase
    /// everything else, says when it has, and is refused from then on; a device revoked with
    /// `--wipe` may not even push.
    @Test(arguments: StoreKind.available) func aDeviceAskedToEraseIsToldSoUntilItConfirms(store: StoreKind) async throws {
        let fixture = try await NodeFixture(store: store)
        try await fixture.test { client in
            let wiped = { (device: String) async throws -> HTTPResponse.Status in
                try await client.execute(uri: "/v1/device/wiped", method: .post, headers: [.authorization: fixture.credentials[device] ?? ""], body: ByteBuffer(string: "{}")) { $0.status }
            }
            #expect(try await wiped("bob-laptop") == .forbidden, "nothing was asked of it")
            try await fixture.store.disableUser("bob", at: fixture.time, deliverFirst: true)
            let (status, answer) = try await fixture.pull(client, as: "bob-laptop")
            #expect(status == .forbidden && NodeFixture.errorCode(answer) == "wipe")
            let queued = try NodeFixture.caseState(5, by: "bob-laptop", counter: 1, mediators: ["bob"])
            #expect(try await fixture.push(client, [queued], as: "bob-laptop").0 == .ok, "what it queued is delivered first")
            #expect(try await wiped("bob-laptop") == .ok)
            #expect(try await fixture.store.devices().first { $0.id.rawValue == "bob-laptop" }?.wipe?.isPending == false)
            let (after, refusal) = try await fixture.pull(client, as: "bob-laptop")
            #expect(after == .unauthorized && NodeFixture.errorCode(refusal) == "disabled")
            #expect(try await wiped("bob-laptop") == .unauthorized)

            // A device revoked without --wipe delivers nothing once its user is disabled.
            _ = try await fixture.store.revokeDevice("ann-laptop", wipeAt: nil, at: fixture.time)
            try await fixture.store.disableUser("ann", at: fixture.time, deliverFirst: true)
            let fromRevoked = try NodeFixture.caseState(7, by: "ann-laptop", counter: 1, mediators: ["ann"])
            #expect(try await fixture.push(client, [fromRevoked], as: "ann-laptop").0 == .forbidden)
            // `--wipe` after a plain disable: pushes stop too.
            try await fixture.store.disableUser("rita", at: fixture.time, deliverFirst: true)
            try await fixture.store.disableUser("rita", at: fixture.time, deliverFirst: false)
            #expect(try await fixture.store.devices().first { $0.id.rawValue == "rita-desk" }?.wipe?.deliverFirst == false)

            _ = try await fixture.store.revokeDevice("sue-desk", wipeAt: fixture.time, at: fixture.time)
            let lost = try NodeFixture.caseState(6, by: "sue-desk", counter: 1)
            let (pushed, pushAnswer) = try await fixture.push(client, [lost], as: "sue-desk")
            #expect(pushed == .forbidden && NodeFixture.errorCode(pushAnswer) == "wipe", "a lost device delivers nothing")
            #expect(try await fixture.store.record(lost.id) == nil)
        }
    }

    @Test(arguments: StoreKind.available) func pullPagesBySequenceWithNextAndMore(store: StoreKind) async throws {
        let fixture = try await NodeFixture(store: store)
        let states = try (1...7).map { try NodeFixture.caseState(UInt64($0), by: "sue-desk", counter: $0) }
        try await fixture.test { client in
            #expect(try await fixture.push(client, states, as: "sue-desk").0 == .ok)
            let (status, first) = try await fixture.pull(client, as: "sue-desk", since: 0, limit: 3)
            #expect(status == .ok)
            #expect((first["records"] as? [Any])?.count == 3)
            #expect(first["more"] as? Bool == true)
            #expect(first["next"] as? Int == 3)
            let all = try await fixture.pullAll(client, as: "sue-desk", limit: 3)
            #expect(all.ids.count == 7 && Set(all.ids).count == 7)
            let empty = try await fixture.pull(client, as: "sue-desk", since: all.next).1
            #expect((empty["records"] as? [Any])?.isEmpty == true)
            #expect(empty["more"] as? Bool == false)
            #expect(try await fixture.pull(client, as: "rita-desk").0 == .forbidden, "reporters do not pull case records")
            // Query numbers are digits only: a sign, a space or an exponent is refused, not read.
            for query in ["since=-1", "since=%2B5", "since=+5", "limit=%205", "limit=1e2", "since=00000000000000000001"] {
                try await client.execute(uri: "/v1/sync/pull?" + query, method: .get, headers: [.authorization: fixture.credentials["sue-desk"] ?? ""]) { response in
                    let answer = try NodeFixture.object(response.body)
                    #expect(response.status == .badRequest && NodeFixture.errorCode(answer) == "bad_parameter", "\(query): \(answer)")
                }
            }
        }
    }

    @Test(arguments: StoreKind.available) func theAuditLogNamesWhoAndWhichRecordsButNeverContents(store: StoreKind) async throws {
        let fixture = try await NodeFixture(store: store)
        let mine = try NodeFixture.caseState(1, by: "ann-laptop", counter: 1, title: "SECRET-TITLE-XYZ")
        let note = try NodeFixture.note(1, in: mine.id, by: "ann-laptop", counter: 2, text: "SECRET-NOTE-XYZ")
        try await fixture.test { client in
            _ = try await fixture.push(client, [mine, note], as: "ann-laptop")
            _ = try await fixture.pull(client, as: "ann-laptop")
        }
        let log = try await fixture.store.auditLog(limit: 100)
        #expect(log.contains { $0.action == "push" && $0.user == "ann" && $0.device == "ann-laptop" && $0.count == 2 && $0.records.contains(mine.id.rawValue) })
        #expect(log.contains { $0.action == "pull" && $0.records.contains(note.id.rawValue) })
        #expect(log.contains { $0.action == "enroll" })
        #expect(!log.contains { $0.records.contains("SECRET") })
    }

    /// A case whose title register holds `count` concurrent values written by `device` (with
    /// counters from `first`), and one reference and status.
    static func manyTitles(_ count: Int, by device: String, from first: Int) throws -> RecordState {
        let writer = try DeviceID(device)
        let last = first + count - 1
        let titles = Register(entries: (first...last).map { RegisterEntry(stamp: Stamp(device: writer, counter: $0, time: 1), value: .text("title \($0)")) })
        let single = { (value: String) in Register(entries: [RegisterEntry(stamp: Stamp(device: writer, counter: last, time: 1), value: .text(value))]) }
        return RecordState(type: .case, id: RecordID(high: 0x0192_f0c4_7d3e_7a41, low: 0x77), version: VersionVector([Dot(device: writer, counter: last)]),
                           fields: [RecordField(name: "reference", state: .register(single("MED-77"))), RecordField(name: "status", state: .register(single("intake"))),
                                    RecordField(name: "title", state: .register(titles))])
    }

    @Test(arguments: StoreKind.available) func aRegisterHoldsAtMost64ConcurrentValuesAlsoAfterAMerge(store: StoreKind) async throws {
        var setup = try await NodeFixture(store: store)
        // A second device of the supervisor, to write concurrently with the first.
        let token = try await setup.node.makeEnrollmentToken(for: "sue", ttl: 3600)
        let second = try await setup.node.enroll(token: token, device: try DeviceID("sue-laptop"), name: "sue-laptop")
        setup.credentials["sue-laptop"] = "Bearer sue-laptop:\(second.secret)"
        let fixture = setup
        try await fixture.test { client in
            let (tooMany, answer) = try await fixture.push(client, [try Self.manyTitles(65, by: "sue-desk", from: 1)], as: "sue-desk")
            #expect(tooMany == .unprocessableContent && NodeFixture.errorCode(answer) == "too_many_values", "\(answer)")
            // 40 and 30 are each within the bound; merged they are not.
            #expect(try await fixture.push(client, [try Self.manyTitles(40, by: "sue-desk", from: 1)], as: "sue-desk").0 == .ok)
            let (merged, mergedAnswer) = try await fixture.push(client, [try Self.manyTitles(30, by: "sue-laptop", from: 1)], as: "sue-laptop")
            #expect(merged == .unprocessableContent && NodeFixture.errorCode(mergedAnswer) == "too_many_values", "\(mergedAnswer)")
            #expect(try await fixture.store.record(RecordID(high: 0x0192_f0c4_7d3e_7a41, low: 0x77))?.register("title")?.values.count == 40)
        }
    }
}

/// `casesyncd device revoke` takes a device's id or its name, as `device list` shows both.
struct RevokeByNameTests {
    @Test(arguments: StoreKind.available) func aDeviceIsRevokedByIdOrByAUniqueName(store: StoreKind) async throws {
        let fixture = try await NodeFixture(store: store)
        for (device, name) in [("ann-phone", "Ann's phone"), ("ann-tablet", "shared tablet"), ("bob-tablet", "shared tablet")] {
            let user = device.hasPrefix("ann") ? "ann" : "bob"
            let token = try await fixture.node.makeEnrollmentToken(for: user, ttl: 3600)
            _ = try await fixture.node.enroll(token: token, device: try DeviceID(device), name: name)
        }
        let revoked = try await fixture.store.revokeDevice("Ann's phone", wipeAt: nil, at: fixture.time)
        #expect(revoked.id.rawValue == "ann-phone" && revoked.user.name == "ann")
        #expect(try await fixture.store.device(DeviceID("ann-phone"))?.revoked == true)
        await #expect { try await fixture.store.revokeDevice("shared tablet", wipeAt: nil, at: fixture.time) } throws: { error in
            guard let error = error as? NodeError else { return false }
            return error.code == .badParameter && error.message.contains("ann-tablet") && error.message.contains("bob-tablet")
        }
        #expect(try await fixture.store.device(DeviceID("ann-tablet"))?.revoked == false, "an ambiguous name revokes nothing")
        #expect(try await fixture.store.revokeDevice("bob-tablet", wipeAt: nil, at: fixture.time).name == "shared tablet", "by id, as before")
        await #expect { try await fixture.store.revokeDevice("nobody's", wipeAt: nil, at: fixture.time) } throws: { ($0 as? NodeError)?.code == .notFound }
    }
}
