import ArgumentParser
import Foundation
import SyncClient
import SyncModel
import SyncProtocol
import SyncStore

/// `casesync enroll --server URL --token TOKEN [--ca-cert FILE]`.
struct EnrollCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "enroll", abstract: "Bind this device to a sync node with a one-time token.")

    @OptionGroup var options: GlobalOptions
    @Option(help: "The node's address, e.g. https://casesync.example.org.") var server: String
    @Option(help: "The one-time token from `casesyncd enroll NAME`.") var token: String
    @Option(help: "A CA certificate (PEM) to trust for the node, when it is not signed by a public CA.") var caCert: String?
    @Flag(help: "Enroll an enrolled device again (the node was restored from a backup older than its enrollment, or it moved): keeps its records and queued changes.")
    var again = false

    func run() async throws {
        let invocation = try Invocation(options, leaseFree: true)
        if try invocation.store.setting("secret") != nil, !again {
            throw CLIError(.usage, "this device is already enrolled with \(try invocation.store.setting("server") ?? "a node"); add --again to enroll it anew and keep its records and queued changes")
        }
        if let caCert, !FileManager.default.isReadableFile(atPath: caCert) { throw CLIError(.usage, "cannot read --ca-cert \(caCert)") }
        let client = try SyncClient(server: server, caFile: caCert)
        let enrollment = try await client.enroll(token: token, device: invocation.replica.device, name: invocation.replica.name)
        try invocation.store.setSetting("server", server)
        try invocation.store.setSetting("secret", enrollment.secret)
        try invocation.store.setSetting("user", enrollment.user)
        try invocation.store.setSetting("role", enrollment.role)
        if let caCert { try invocation.store.setSetting("caCert", URL(fileURLWithPath: caCert).standardizedFileURL.path) }
        try OfflineLease.recordContact(invocation.store, at: invocation.clock.milliseconds, lease: enrollment.lease.map(Int64.init) ?? OfflineLease.defaultSeconds)
        invocation.emit(
            json: .sortedObject([("device", .string(enrollment.device.rawValue)), ("role", .string(enrollment.role)),
                                 ("server", .string(server)), ("user", .string(enrollment.user))]),
            human: "Enrolled \(invocation.replica.device) as \(enrollment.user) (\(enrollment.role)) with \(server). Run `casesync sync` to reconcile"
                + (again ? " (queued changes are kept)." : ".")
        )
    }
}

/// `casesync sync`: push local changes, pull what changed elsewhere.
struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sync", abstract: "Push local changes and pull what changed elsewhere.")

    @OptionGroup var options: GlobalOptions
    @Option(help: "Records per push request (1-5000); smaller suits a slow or flaky link.") var batchSize = 2000

    func validate() throws {
        guard (1...5000).contains(batchSize) else { throw ValidationError("--batch-size must be from 1 to 5000") }
    }

    func run() async throws {
        let invocation = try Invocation(options, leaseFree: true)
        let (client, server) = try invocation.enrolledClient()
        let showProgress = !options.json && isatty(STDERR_FILENO) == 1
        let start = ContinuousClock.now
        let summary: SyncSummary
        do {
            var engine = SyncEngine(store: invocation.store, client: client)
            engine.batchSize = batchSize
            engine.undeliveredDirectory = options.directory
            summary = try await engine.run { progress in
                guard showProgress else { return }
                let seconds = max((ContinuousClock.now - start).components.seconds, 1)
                let rate = Int64(progress.done) / seconds
                let of = progress.total.map { " of \($0)" } ?? ""
                FileHandle.standardError.write(Data("\r\(progress.phase == .push ? "pushed" : "pulled") \(progress.done)\(of) records (\(rate)/s)   ".utf8))
            }
        } catch let error as SyncError {
            // The exit code comes from the one mapping in CLIError; sync adds what to do next.
            if showProgress { FileHandle.standardError.write(Data("\n".utf8)) }
            let mapped = CLIError.from(error)
            switch error.kind {
            case .unreachable: throw CLIError(mapped.status, "\(error.message); your changes are kept and will be sent by the next `casesync sync`")
            case .unauthorised where error.errorCode == .unknownDevice || error.errorCode == .wipe: throw mapped
            case .unauthorised: throw CLIError(mapped.status, "\(error.message); if this device was revoked, enroll it again with a new token")
            default: throw mapped
            }
        }
        if showProgress { FileHandle.standardError.write(Data("\n".utf8)) }
        try OfflineLease.recordContact(invocation.store, at: invocation.clock.milliseconds)
        invocation.emit(
            json: .sortedObject([
                ("conflicts", .integer(summary.conflicts)), ("pulled", .integer(summary.pulled)), ("pushed", .integer(summary.pushed)),
                ("refused", .array(summary.refused.map { .string($0.id.rawValue) })),
                ("nodeRestored", .boolean(summary.nodeRestored)), ("redelivered", .integer(summary.redelivered)),
                ("notRedelivered", .array(summary.notRedelivered.map { .string($0.id.rawValue) })),
                ("redeliveryDeferred", .integer(summary.redeliveryDeferred)),
                ("dropped", .array(summary.dropped.map { dropped in
                    .sortedObject([("case", .string(dropped.caseID.rawValue)), ("reference", dropped.reference.map { .string($0) } ?? .null),
                                   ("records", .integer(dropped.count)), ("reason", .string(dropped.reason.rawValue))])
                })),
                ("undelivered", .integer(summary.undelivered)), ("undeliveredFile", summary.undeliveredFile.map { .string($0.path) } ?? .null),
                ("pullMilliseconds", .integer(Int(summary.pullSeconds * 1000))), ("pushMilliseconds", .integer(Int(summary.pushSeconds * 1000))),
            ]),
            human: "Synced with \(server): pushed \(summary.pushed), pulled \(summary.pulled)"
                + (summary.conflicts > 0 ? "; \(summary.conflicts) record\(summary.conflicts == 1 ? "" : "s") in conflict — see `casesync conflicts`." : ".")
        )
        if !options.json {
            for dropped in summary.dropped {
                let name = dropped.reference ?? "case \(RecordView.shortID(dropped.caseID))"
                print("\(dropped.count) record\(dropped.count == 1 ? "" : "s") of \(name) removed from this device: \(dropped.reason.explanation).")
            }
        }
        if let file = summary.undeliveredFile {
            // Not an error: nothing is lost, but the user has to act on it.
            FileHandle.standardError.write(Data("casesync: \(summary.undelivered) change\(summary.undelivered == 1 ? "" : "s") to records removed from this device had not reached the node; they are saved in \(file.path): give it to the case's mediators, then delete it\n".utf8))
        }
        if summary.nodeRestored && !options.json {
            print("The node was restored from a backup: this device pulled from the start and re-sent the \(summary.redelivered) record\(summary.redelivered == 1 ? "" : "s") it holds.")
        }
        if summary.redeliveryDeferred > 0 && !options.json {
            print("\(summary.redeliveryDeferred) record\(summary.redeliveryDeferred == 1 ? "" : "s") the restored node cannot take yet (it lacks their case or the access to it until another device syncs) will be sent again by the next sync.")
        }
        if let first = summary.notRedelivered.first {
            // Not an error: the records stay here, and the sync did what it could.
            FileHandle.standardError.write(Data("casesync: the restored node did not take back \(summary.notRedelivered.count) record\(summary.notRedelivered.count == 1 ? "" : "s") this device holds (they stay here): \(RecordView.shortID(first.id)): \(first.reason)\n".utf8))
        }
        if let first = summary.refused.first {
            throw CLIError(.refused, "the node refused \(summary.refused.count) record\(summary.refused.count == 1 ? "" : "s") (they stay queued): \(RecordView.shortID(first.id)): \(first.reason)")
        }
    }
}
