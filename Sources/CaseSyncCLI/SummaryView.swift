import Foundation
import SyncProtocol

/// The node's outcome summary for people: aligned tables on a terminal, or one HTML page
/// with inline SVG bar charts that opens without a network.
struct SummaryView {
    let summary: SummaryAnswer
    let server: String

    /// A count table's rows, by key.
    static func rows(_ counts: [String: Int]) -> [(String, Int)] {
        counts.sorted { $0.key < $1.key }
    }

    /// Days as people read them: `12`, `12.5`, or `–` when there is no figure.
    static func days(_ value: Double?) -> String {
        guard let value else { return "–" }
        return value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }

    static func days(_ value: Int?) -> String {
        value.map(String.init) ?? "–"
    }

    var text: String {
        func table(_ title: String, _ rows: [(String, Int)]) -> String {
            var table = TextTable(title.uppercased(), "COUNT")
            for (key, value) in rows { table.add(key, String(value)) }
            return table.text
        }
        return [
            "Outcome summary from \(server)",
            "  cases \(summary.cases.total), actions \(summary.actions.total) (\(summary.actions.overdue) overdue), feedback \(summary.feedback.total)",
            "",
            table("status", Self.rows(summary.cases.byStatus)), "",
            table("site", Self.rows(summary.cases.bySite)), "",
            table("kind", Self.rows(summary.cases.byKind)), "",
            table("opened in", Self.rows(summary.openedPerMonth)), "",
            table("closed in", Self.rows(summary.closedPerMonth)), "",
            "  days to agreement: median \(Self.days(summary.timeToAgreement.medianDays)), 90th percentile \(Self.days(summary.timeToAgreement.p90Days)) (\(summary.timeToAgreement.cases) cases)",
            "  days to closure:   median \(Self.days(summary.timeToClosure.medianDays)), 90th percentile \(Self.days(summary.timeToClosure.p90Days)) (\(summary.timeToClosure.cases) cases)",
            "",
            table("action status", Self.rows(summary.actions.byStatus)), "",
            table("rating", Self.rows(summary.feedback.ratings)),
        ].joined(separator: "\n")
    }

    var html: String {
        func escape(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
        func bars(_ title: String, _ rows: [(String, Int)], colour: String) -> String {
            let largest = max(rows.map(\.1).max() ?? 1, 1)
            let height = 26 * rows.count + 10
            var svg = "<svg role=\"img\" aria-label=\"\(escape(title))\" width=\"560\" height=\"\(height)\" xmlns=\"http://www.w3.org/2000/svg\">"
            for (index, row) in rows.enumerated() {
                let width = Int(Double(row.1) / Double(largest) * 330)
                let y = index * 26 + 5
                svg += "<text x=\"0\" y=\"\(y + 15)\" font-size=\"13\">\(escape(row.0))</text>"
                svg += "<rect x=\"170\" y=\"\(y)\" width=\"\(max(width, 1))\" height=\"18\" fill=\"\(colour)\"/>"
                svg += "<text x=\"\(176 + width)\" y=\"\(y + 14)\" font-size=\"12\">\(row.1)</text>"
            }
            return "<section><h2>\(escape(title))</h2>" + (rows.isEmpty ? "<p>No data.</p>" : svg + "</svg>") + "</section>"
        }
        let timing: [(String, Int)] = [
            ("agreement, median", Int(summary.timeToAgreement.medianDays ?? 0)),
            ("agreement, 90th pct", summary.timeToAgreement.p90Days ?? 0),
            ("closure, median", Int(summary.timeToClosure.medianDays ?? 0)),
            ("closure, 90th pct", summary.timeToClosure.p90Days ?? 0),
        ]
        let generated = ISO8601DateFormatter().string(from: Date())
        return """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>CaseSync outcome summary</title>
        <style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem;color:#222}h1{font-size:1.5rem}h2{font-size:1.1rem;margin-top:1.5rem}
        .figures{display:flex;gap:2rem;flex-wrap:wrap}.figure{background:#f3f5f7;padding:.8rem 1.2rem;border-radius:6px}.figure b{display:block;font-size:1.6rem}
        section{break-inside:avoid}</style></head><body>
        <h1>CaseSync outcome summary</h1>
        <p>From \(escape(server)), generated \(generated). Figures only: no confidential content is ever part of this report.</p>
        <div class="figures">
        <div class="figure"><b>\(summary.cases.total)</b>cases</div>
        <div class="figure"><b>\(Self.days(summary.timeToAgreement.medianDays))</b>median days to agreement</div>
        <div class="figure"><b>\(summary.actions.total)</b>agreed actions</div>
        <div class="figure"><b>\(summary.actions.overdue)</b>actions overdue</div>
        </div>
        \(bars("Cases opened per month", Self.rows(summary.openedPerMonth), colour: "#3b6ea5"))
        \(bars("Cases closed per month", Self.rows(summary.closedPerMonth), colour: "#5a9e6f"))
        \(bars("Cases by status", Self.rows(summary.cases.byStatus), colour: "#7a6ea5"))
        \(bars("Days from opening to agreement and closure", timing, colour: "#c98a2b"))
        \(bars("Agreed actions by status (met, missed, open …)", Self.rows(summary.actions.byStatus), colour: "#b0513f"))
        \(bars("Feedback ratings", Self.rows(summary.feedback.ratings), colour: "#4a8d9e"))
        \(bars("Cases by site", Self.rows(summary.cases.bySite), colour: "#3b6ea5"))
        </body></html>
        """
    }
}
