import Foundation

/// The node's outcome summary for people: aligned tables on a terminal, or one HTML page
/// with inline SVG bar charts that opens without a network.
struct SummaryView {
    let summary: [String: Any]
    let server: String

    func counts(_ path: String...) -> [(String, Int)] {
        var node: Any? = summary
        for key in path { node = (node as? [String: Any])?[key] }
        return ((node as? [String: Any]) ?? [:]).compactMap { key, value in (value as? Int).map { (key, $0) } }.sorted { $0.0 < $1.0 }
    }

    func number(_ path: String...) -> String {
        var node: Any? = summary
        for key in path { node = (node as? [String: Any])?[key] }
        switch node {
        case let value as Int: return String(value)
        case let value as Double: return String(value)
        default: return "–"
        }
    }

    var text: String {
        func table(_ title: String, _ rows: [(String, Int)]) -> String {
            var table = TextTable(title.uppercased(), "COUNT")
            for (key, value) in rows { table.add(key, String(value)) }
            return table.text
        }
        return [
            "Outcome summary from \(server)",
            "  cases \(number("cases", "total")), actions \(number("actions", "total")) (\(number("actions", "overdue")) overdue), feedback \(number("feedback", "total"))",
            "",
            table("status", counts("cases", "byStatus")), "",
            table("site", counts("cases", "bySite")), "",
            table("kind", counts("cases", "byKind")), "",
            table("opened in", counts("openedPerMonth")), "",
            table("closed in", counts("closedPerMonth")), "",
            "  days to agreement: median \(number("timeToAgreement", "medianDays")), 90th percentile \(number("timeToAgreement", "p90Days")) (\(number("timeToAgreement", "cases")) cases)",
            "  days to closure:   median \(number("timeToClosure", "medianDays")), 90th percentile \(number("timeToClosure", "p90Days")) (\(number("timeToClosure", "cases")) cases)",
            "",
            table("action status", counts("actions", "byStatus")), "",
            table("rating", counts("feedback", "ratings")),
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
            ("agreement, median", Int(Double(number("timeToAgreement", "medianDays")) ?? 0)),
            ("agreement, 90th pct", Int(number("timeToAgreement", "p90Days")) ?? 0),
            ("closure, median", Int(Double(number("timeToClosure", "medianDays")) ?? 0)),
            ("closure, 90th pct", Int(number("timeToClosure", "p90Days")) ?? 0),
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
        <div class="figure"><b>\(number("cases", "total"))</b>cases</div>
        <div class="figure"><b>\(number("timeToAgreement", "medianDays"))</b>median days to agreement</div>
        <div class="figure"><b>\(number("actions", "total"))</b>agreed actions</div>
        <div class="figure"><b>\(number("actions", "overdue"))</b>actions overdue</div>
        </div>
        \(bars("Cases opened per month", counts("openedPerMonth"), colour: "#3b6ea5"))
        \(bars("Cases closed per month", counts("closedPerMonth"), colour: "#5a9e6f"))
        \(bars("Cases by status", counts("cases", "byStatus"), colour: "#7a6ea5"))
        \(bars("Days from opening to agreement and closure", timing, colour: "#c98a2b"))
        \(bars("Agreed actions by status (met, missed, open …)", counts("actions", "byStatus"), colour: "#b0513f"))
        \(bars("Feedback ratings", counts("feedback", "ratings"), colour: "#4a8d9e"))
        \(bars("Cases by site", counts("cases", "bySite"), colour: "#3b6ea5"))
        </body></html>
        """
    }
}
