import ArgumentParser
import Foundation
import SyncClient
import SyncModel

/// The node connection of an enrolled device, for reporting commands.
extension Invocation {
    func enrolledClient() throws -> (SyncClient, String) {
        guard let server = try store.setting("server"), let secret = try store.setting("secret") else {
            throw CLIError(.usage, "this device is not enrolled; run `casesync enroll --server URL --token TOKEN` first")
        }
        return (try SyncClient(server: server, caFile: try store.setting("caCert"), device: replica.device, secret: secret), server)
    }

}

/// `casesync export`: redacted records for reporting scripts.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export redacted records from the node (reporter, supervisor or admin devices).",
        discussion: "Each row carries the node's change sequence `seq`. --since-file keeps the cursor between runs: it reads it (0 if the file is absent) and, after a successful export, writes the largest seq exported."
    )

    @OptionGroup var options: GlobalOptions
    @Option(help: "csv, ndjson or json (an array).") var format = "ndjson"
    @Option(help: "Only this record type (required for csv).") var type: String?
    @Option(help: "Only records changed after this sequence number.") var since: Int?
    @Option(help: "A file holding the cursor: read before, updated after.") var sinceFile: String?
    @Option(help: "Write to this file instead of stdout.") var out: String?

    func validate() throws {
        guard ["csv", "ndjson", "json"].contains(format) else { throw ValidationError("--format must be csv, ndjson or json") }
        if format == "csv" && type == nil { throw ValidationError("--format csv needs --type (case, party, session, note, action or feedback)") }
        if let type, RecordType(rawValue: type) == nil { throw ValidationError("--type \(type) is not a record type") }
        if since != nil && sinceFile != nil { throw ValidationError("give --since or --since-file, not both") }
    }

    func run() async throws {
        let invocation = try Invocation(options, leaseFree: true)
        if let out { try OutputFile.check(out, option: "--out") }
        if let sinceFile { try OutputFile.check(sinceFile, option: "--since-file") }
        let (client, _) = try invocation.enrolledClient()
        var cursor = since ?? 0
        if let sinceFile, let text = try? String(contentsOfFile: sinceFile, encoding: .utf8) {
            guard let value = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), value >= 0 else {
                throw CLIError(.usage, "\(sinceFile) does not hold a sequence number")
            }
            cursor = value
        }
        let body = try await client.export(format: format == "csv" ? "csv" : "ndjson", type: type, since: cursor)
        // Rows come in sequence order, so the cursor is the last row's seq.
        let lastSeq = Self.lastSequence(in: body, csv: format == "csv") ?? cursor
        var output = body
        if format == "json" {
            output = Array("[".utf8) + Array(body.split(separator: UInt8(ascii: "\n")).joined(separator: Array(",".utf8))) + Array("]\n".utf8)
        }
        if let out {
            try OutputFile.write(Data(output), to: out, option: "--out")
        } else {
            FileHandle.standardOutput.write(Data(output))
        }
        if let sinceFile { try OutputFile.write(Data(String(lastSeq).utf8), to: sinceFile, option: "--since-file") }
    }
}

extension ExportCommand {
    /// The `seq` of the last row: the first CSV cell, or the `seq` key of the last NDJSON line.
    static func lastSequence(in body: [UInt8], csv: Bool) -> Int? {
        var end = body.count
        while end > 0, body[end - 1] == 0x0A || body[end - 1] == 0x0D { end -= 1 }
        var start = end
        while start > 0, body[start - 1] != 0x0A { start -= 1 }
        let line = Array(body[start..<end])
        guard !line.isEmpty else { return nil }
        if csv {
            return Int(String(decoding: line.prefix { $0 != 0x2C }, as: UTF8.self))
        }
        return try? JSONReader.read(line) { reader throws(ModelError) -> Int? in
            var seq: Int?
            try reader.readObject { reader, key throws(ModelError) in if key == "seq" { seq = try reader.readInteger() } else { try reader.skipValue() } }
            return seq
        }
    }
}

/// `casesync report`: the outcome summary as a table, JSON, or a self-contained HTML page.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "report", abstract: "Show the node's outcome summary (reporter, supervisor or admin devices).")

    @OptionGroup var options: GlobalOptions
    @Option(help: "Cases opened on or after this date, YYYY-MM-DD.") var from: String?
    @Option(help: "Cases opened on or before this date, YYYY-MM-DD.") var to: String?
    @Option(help: "Only cases at this site.") var site: String?
    @Option(help: "Write the summary to this file instead of stdout.") var out: String?
    @Option(help: "Also write a self-contained HTML page with charts to this file.") var html: String?

    func validate() throws {
        for (option, value) in [("--from", from), ("--to", to)] {
            if let value, CivilDate.days(value) == nil { throw ValidationError("\(option) \(value) is not a date; write it as YYYY-MM-DD") }
        }
        if let from, let to, to < from { throw ValidationError("--to \(to) is before --from \(from)") }
    }

    func run() async throws {
        let invocation = try Invocation(options, leaseFree: true)
        if let out { try OutputFile.check(out, option: "--out") }
        if let html { try OutputFile.check(html, option: "--html") }
        let (client, server) = try invocation.enrolledClient()
        var query: [String] = []
        if let from { query.append("from=\(from)") }
        if let to { query.append("to=\(to)") }
        if let site { query.append("site=\(site.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? site)") }
        let (summary, body) = try await client.summary(query: query.isEmpty ? "" : "?" + query.joined(separator: "&"))
        let view = SummaryView(summary: summary, server: server)
        if let html { try OutputFile.write(Data(view.html.utf8), to: html, option: "--html") }
        let text = options.json ? String(decoding: body, as: UTF8.self) + "\n" : view.text + "\n"
        if let out { try OutputFile.write(Data(text.utf8), to: out, option: "--out") } else { print(text, terminator: "") }
    }
}
