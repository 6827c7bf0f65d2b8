import ArgumentParser
import SyncStore

/// `casesync status`: who this device is, what it holds, what waits to be pushed.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show this device, its pending changes and conflicts.")

    @OptionGroup var options: GlobalOptions

    func run() throws {
        let invocation = try Invocation(options, leaseFree: true)
        let counts = try invocation.store.counts()
        let server = try invocation.store.setting("server")
        let lastSync = try invocation.store.setting("lastSync")
        let now = invocation.clock.milliseconds
        let lease = try OfflineLease.read(invocation.store, now: now)
        let leaseText = lease.map { lease in
            lease.isExpired(at: now) ? "over: case data locked until `casesync sync` succeeds" : "case data open until \(WallClock.human(lease.until)) without a sync"
        } ?? "none (not enrolled)"
        invocation.emit(
            json: .sortedObject([
                ("device", .string(invocation.replica.device.rawValue)),
                ("name", .string(invocation.replica.name)),
                ("data", .string(options.directory.path)),
                ("cases", .integer(counts.cases)),
                ("records", .integer(counts.records)),
                ("pending", .integer(counts.pending)),
                ("conflicts", .integer(counts.conflicted)),
                ("server", server.map { .string($0) } ?? .null),
                ("lastSync", lastSync.map { .string($0) } ?? .null),
                ("leaseUntil", lease.map { .string(WallClock.iso($0.until)) } ?? .null),
                ("locked", .boolean(lease?.isExpired(at: now) ?? false)),
            ]),
            human: """
            Device      \(invocation.replica.device) (\(invocation.replica.name))
            Data        \(options.directory.path)
            Cases       \(counts.cases) (\(counts.records) records in all)
            Pending     \(counts.pending) change\(counts.pending == 1 ? "" : "s") not yet pushed
            Conflicts   \(counts.conflicted == 0 ? "none" : "\(counts.conflicted) — see `casesync conflicts`")
            Server      \(server ?? "not enrolled")
            Last sync   \(lastSync ?? "never")
            Lease       \(leaseText)
            """
        )
    }
}

/// `casesync conflicts`: every record holding concurrent changes, with each side.
struct ConflictsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "conflicts", abstract: "List records with concurrent changes to resolve.")

    @OptionGroup var options: GlobalOptions

    func run() throws {
        let invocation = try Invocation(options)
        let records = try invocation.store.conflictedRecords()
        let names = invocation.deviceNames
        if options.json {
            print(JSONOutput.array(records.map { RecordView(state: $0, deviceNames: names).json }).text)
            return
        }
        guard !records.isEmpty else {
            print("No conflicts.")
            return
        }
        for record in records {
            let view = RecordView(state: record, deviceNames: names)
            let label = record.type == .case ? "case \(record.text("reference") ?? "")" : "\(record.type.rawValue) in case \(record.caseID.map(RecordView.shortID) ?? "?")"
            print("\(view.shortID)  \(label)")
            print(view.conflictLines)
        }
    }
}
