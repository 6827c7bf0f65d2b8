import ArgumentParser
import Foundation
import NodeStorage
import SyncModel
import SyncProtocol

/// `casesyncd audit verify | show`: the tamper-evident audit log (PROTOCOL.md §18).
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Check the audit log's hash chain, or answer who did what with a case, from which device, when.",
        subcommands: [Verify.self, Show.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every audit entry against the hash chain; exit 10 naming the first broken one.",
            discussion: "An entry edited, deleted or moved breaks the chain from there. With --head (the `ID:HASH` a backup printed) it also checks the chain still passes through that entry, which shows a rewritten or cut-off log.")
        @OptionGroup var options: DataOptions
        @Option(help: ArgumentHelp("A chain head a backup printed, ID:HASH: the log must still hold it.", valueName: "id:hash")) var head: String?
        @Flag(help: "Print one JSON object.") var json = false

        func validate() throws {
            if let head, AuditChain.parseHead(head) == nil { throw ValidationError("--head must be ID:HASH as `casesyncd backup` printed it (64 hex digits after the colon)") }
        }

        func run() async throws {
            let anchor = head.flatMap(AuditChain.parseHead)
            let result = try await options.openNode(existing: true).store.verifyAudit(anchor: anchor)
            let headText = AuditChain.headText(id: result.headID, hash: result.head)
            if json {
                var object: [String: Any] = ["ok": result.firstBroken == nil && result.passesAnchor != false, "entries": result.entries, "head": headText]
                if let broken = result.firstBroken { object["firstBroken"] = Show.row(broken).mapValues { $0 ?? NSNull() } }
                if let passes = result.passesAnchor { object["passesHead"] = passes }
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
                FileHandle.standardOutput.write(data + Data("\n".utf8))
            }
            if let broken = result.firstBroken {
                throw DaemonError(status: .internalError, message: "audit entry \(broken.id) (\(broken.action) at \(Timestamp.text(broken.at))) does not match the chain: it, or the entry before it, was edited, deleted or moved; \(result.entries) entries before it are intact")
            }
            if result.passesAnchor == false, let head {
                throw DaemonError(status: .internalError, message: "the audit log no longer holds the entry \(head) a backup recorded: it was rewritten or cut off after that backup")
            }
            if !json {
                print("ok: \(result.entries) audit entr\(result.entries == 1 ? "y" : "ies") chained, head \(headText)\(result.passesAnchor == true ? "; passes through \(head ?? "")" : "")")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List audit entries, oldest first: who did what, from which device, when (ids only, never case content).",
            discussion: "--case matches the entries naming the case or any of its records (pushes, pulls, exports, break-glass, purge, conflict resolutions).")
        @OptionGroup var options: DataOptions
        @Option(name: .customLong("case"), help: ArgumentHelp("Only entries naming this case (its id) or its records.", valueName: "id")) var caseID: String?
        @Option(help: ArgumentHelp("Only this user's entries.", valueName: "user")) var user: String?
        @Option(help: ArgumentHelp("Only this device's entries (its id or name).", valueName: "device")) var device: String?
        @Option(help: ArgumentHelp("Only entries from this day (UTC) or instant on.", valueName: "YYYY-MM-DD|RFC3339")) var since: String?
        @Flag(help: "Print a JSON array.") var json = false

        func validate() throws {
            if let caseID, (try? RecordID(caseID)) == nil { throw ValidationError("--case must be a case's full id (`casesyncd audit show` lists ids)") }
            if let since, Self.milliseconds(since) == nil { throw ValidationError("--since must be a day, YYYY-MM-DD, or an instant, 2026-12-01T09:00:00Z") }
        }

        static func milliseconds(_ text: String) -> Int64? {
            if let days = CivilDate.days(text) { return Int64(days) * 86_400_000 }
            return (try? Date(text, strategy: .iso8601)).map { Int64($0.timeIntervalSince1970 * 1000) }
        }

        static func row(_ entry: AuditEntry) -> ListOutput.Row {
            ["id": Int(entry.id), "at": Timestamp.text(entry.at), "user": entry.user, "device": entry.device, "action": entry.action,
             "count": entry.count, "records": entry.records, "detail": entry.detail]
        }

        func run() async throws {
            let filter = AuditFilter(caseID: try caseID.map(RecordID.init), user: user, device: device, since: since.flatMap(Self.milliseconds))
            let entries = try await options.openNode(existing: true).store.auditEntries(filter)
            if json {
                try ListOutput.print(entries.map(Self.row))
                return
            }
            if entries.isEmpty { print("No audit entries match.") }
            for entry in entries {
                let records = entry.count == 0 ? "" : entry.count <= 3 ? entry.records : "\(entry.count) records"
                print([String(entry.id), Timestamp.text(entry.at), entry.action, entry.user ?? "-", entry.device ?? "-", records, ListOutput.cell(entry.detail ?? "")].joined(separator: "\t"))
            }
        }
    }
}
