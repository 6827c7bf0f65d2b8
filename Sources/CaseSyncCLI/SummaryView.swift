import Foundation
import SyncModel
import SyncProtocol

/// The node's outcome summary for people: aligned tables on a terminal, or one HTML page
/// with bar charts and tables that opens without a network. The charts are HTML and CSS,
/// not SVG text, so long labels (a site's full name) wrap instead of being clipped.
struct SummaryView {
    let summary: SummaryAnswer
    let server: String
    /// When the page was made (shown on it; passed in so tests can pin it).
    var generated = Date()

    /// A count table's rows, by key.
    static func rows(_ counts: [String: Int]) -> [(String, Int)] {
        counts.sorted { $0.key < $1.key }
    }

    /// The workflow stages in their order, then anything else by name.
    static func stageRows<Value>(_ values: [String: Value]) -> [(String, Value)] {
        let order = WorkflowStage.allCases.map(\.rawValue)
        return values.sorted { (order.firstIndex(of: $0.key) ?? order.count, $0.key) < (order.firstIndex(of: $1.key) ?? order.count, $1.key) }
    }

    /// Days as people read them: `12`, `12.5`, or `–` when there is no figure.
    static func days(_ value: Double?) -> String {
        guard let value else { return "–" }
        return value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }

    static func days(_ value: Int?) -> String {
        value.map(String.init) ?? "–"
    }

    /// The filters as one line: "all cases" or "opened 2026-01-01 … 2026-03-31, site North".
    var filterText: String {
        let filters = summary.filters
        var parts: [String] = []
        if filters.from != nil || filters.to != nil { parts.append("opened \(filters.from ?? "…") to \(filters.to ?? "…")") }
        if let site = filters.site { parts.append("site \(site)") }
        return parts.isEmpty ? "all cases" : parts.joined(separator: ", ")
    }

    /// Agreed actions by how their follow-up went, in the order a reader asks.
    var followUpRows: [(String, Int)] {
        let actions = summary.actions
        let open = (actions.byStatus["open"] ?? 0) + (actions.byStatus["in-progress"] ?? 0) - actions.overdue
        return [("met on time", actions.onTime), ("met late", actions.late), ("missed or escalated", actions.missed),
                ("overdue", actions.overdue), ("open, not yet due", max(open, 0))]
    }

    var text: String {
        func table(_ title: String, _ rows: [(String, Int)]) -> String {
            var table = TextTable(title.uppercased(), "COUNT")
            for (key, value) in rows { table.add(key.cell(60), String(value)) }
            return table.text
        }
        var stages = TextTable("OPEN STAGE", "CASES", "MEDIAN DAYS IN STAGE", "LONGEST")
        for (stage, age) in Self.stageRows(summary.stages) { stages.add(stage, String(age.cases), Self.days(age.medianDays), Self.days(age.maxDays)) }
        var oldest = TextTable("OLDEST OPEN", "STATUS", "OPENED", "DAYS OPEN", "DAYS IN STAGE")
        for open in summary.oldestOpen { oldest.add(open.reference, open.status, open.opened ?? "–", Self.days(open.daysOpen), Self.days(open.daysInStage)) }
        let actions = summary.actions
        return [
            "Outcome summary from \(server) — \(filterText)",
            "  cases \(summary.cases.total), actions \(actions.total) (\(actions.overdue) overdue), feedback \(summary.feedback.total)",
            "",
            table("status", Self.stageRows(summary.cases.byStatus)), "",
            table("site", Self.rows(summary.cases.bySite)), "",
            table("kind", Self.rows(summary.cases.byKind)), "",
            table("opened in", Self.rows(summary.openedPerMonth)), "",
            table("closed in", Self.rows(summary.closedPerMonth)), "",
            "  days to agreement: median \(Self.days(summary.timeToAgreement.medianDays)), 90th percentile \(Self.days(summary.timeToAgreement.p90Days)) (\(summary.timeToAgreement.cases) cases; withdrawn left out)",
            "  days to closure:   median \(Self.days(summary.timeToClosure.medianDays)), 90th percentile \(Self.days(summary.timeToClosure.p90Days)) (\(summary.timeToClosure.cases) cases)",
            "",
            summary.stages.isEmpty ? "  no open cases" : stages.text, "",
            summary.oldestOpen.isEmpty ? "" : oldest.text + "\n",
            table("action follow-up", followUpRows),
            "  met late by a median of \(Self.days(actions.medianDaysLate)) days; overdue by a median of \(Self.days(actions.medianDaysOverdue)) days",
            "",
            table("action status", Self.rows(actions.byStatus)), "",
            table("rating", Self.rows(summary.feedback.ratings)),
            "  mean rating \(Self.days(summary.feedback.meanRating)) (\(summary.feedback.total) rated)",
        ].joined(separator: "\n")
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// A horizontal bar chart: one row per entry, the label wrapping in its own column.
    static func bars(_ title: String, _ rows: [(String, Int)], colour: String, note: String? = nil) -> String {
        let largest = max(rows.map(\.1).max() ?? 1, 1)
        var html = "<section><h2>\(escape(title))</h2>"
        if let note { html += "<p class=\"note\">\(escape(note))</p>" }
        guard !rows.isEmpty else { return html + "<p>No data.</p></section>" }
        html += "<div class=\"chart\" role=\"img\" aria-label=\"\(escape(title))\">"
        for (label, value) in rows {
            let percent = Double(value) / Double(largest) * 100
            html += "<div class=\"label\">\(escape(label))</div><div class=\"track\"><div class=\"fill\" style=\"width:\(String(format: "%.1f", percent))%;background:\(colour)\"></div></div><div class=\"value\">\(value)</div>"
        }
        return html + "</div></section>"
    }

    /// A plain table of text cells (escaped), across the page's full width so that ids,
    /// dates and stages stay on one line.
    static func table(_ title: String, headers: [String], rows: [[String]], empty: String) -> String {
        var html = "<section class=\"wide\"><h2>\(escape(title))</h2>"
        guard !rows.isEmpty else { return html + "<p>\(escape(empty))</p></section>" }
        html += "<table><thead><tr>" + headers.map { "<th>\(escape($0))</th>" }.joined() + "</tr></thead><tbody>"
        for row in rows { html += "<tr>" + row.map { "<td>\(escape($0))</td>" }.joined() + "</tr>" }
        return html + "</tbody></table></section>"
    }

    var html: String {
        let escape = Self.escape
        let actions = summary.actions
        let timing: [(String, Int)] = [
            ("agreement, median", Int(summary.timeToAgreement.medianDays ?? 0)),
            ("agreement, 90th percentile", summary.timeToAgreement.p90Days ?? 0),
            ("closure, median", Int(summary.timeToClosure.medianDays ?? 0)),
            ("closure, 90th percentile", summary.timeToClosure.p90Days ?? 0),
        ]
        let stageRows = Self.stageRows(summary.stages).map { stage, age in [stage, String(age.cases), Self.days(age.medianDays), Self.days(age.maxDays)] }
        let oldestRows = summary.oldestOpen.map { [$0.reference, $0.status, $0.opened ?? "–", Self.days($0.daysOpen), Self.days($0.daysInStage)] }
        let stamp = ISO8601DateFormatter().string(from: generated)
        return """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
        <title>CaseSync outcome summary</title>
        <style>
        body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1.5rem;color:#222;line-height:1.4}
        h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.05rem;margin:0 0 .6rem}
        .filters{background:#eef3f8;border-left:4px solid #3b6ea5;padding:.5rem .9rem;margin:1rem 0}
        .figures{display:grid;grid-template-columns:repeat(auto-fit,minmax(10rem,1fr));gap:1rem;margin:1.2rem 0}
        .figure{background:#f3f5f7;padding:.8rem 1rem;border-radius:6px}.figure b{display:block;font-size:1.6rem}
        .grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(30rem,1fr));gap:1.5rem 2.5rem}
        section{break-inside:avoid;min-width:0}
        .chart{display:grid;grid-template-columns:minmax(8rem,16rem) 1fr 3.5rem;gap:.35rem .6rem;align-items:center}
        .label{overflow-wrap:anywhere;font-size:.9rem}.track{background:#eceff2;border-radius:3px;height:1.1rem}
        .fill{height:100%;border-radius:3px;min-width:2px}.value{font-variant-numeric:tabular-nums;font-size:.9rem}
        .note{color:#555;font-size:.85rem;margin:-.3rem 0 .6rem}
        table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #e2e5e8;white-space:nowrap}
        .wide{grid-column:1/-1;overflow-x:auto}
        th{background:#f3f5f7}
        </style></head><body>
        <h1>CaseSync outcome summary</h1>
        <p>From \(escape(server)), generated \(stamp). Figures only: no confidential content is ever part of this report.</p>
        <p class="filters"><b>Filters:</b> \(escape(filterText))</p>
        <div class="figures">
        <div class="figure"><b>\(summary.cases.total)</b>cases</div>
        <div class="figure"><b>\(Self.days(summary.timeToAgreement.medianDays))</b>median days to agreement</div>
        <div class="figure"><b>\(actions.total)</b>agreed actions</div>
        <div class="figure"><b>\(actions.onTime)</b>met on time</div>
        <div class="figure"><b>\(actions.overdue)</b>overdue</div>
        <div class="figure"><b>\(Self.days(summary.feedback.meanRating))</b>mean feedback rating</div>
        </div>
        <div class="grid">
        \(Self.bars("Agreed actions: follow-up", followUpRows, colour: "#b0513f", note: "Met late by a median of \(Self.days(actions.medianDaysLate)) days; overdue by a median of \(Self.days(actions.medianDaysOverdue)) days."))
        \(Self.bars("Days from opening to agreement and closure", timing, colour: "#c98a2b", note: "Withdrawn cases are left out of time to agreement (\(summary.timeToAgreement.cases) cases agreed, \(summary.timeToClosure.cases) closed)."))
        \(Self.bars("Cases by status", Self.stageRows(summary.cases.byStatus), colour: "#7a6ea5"))
        \(Self.table("Open cases by stage", headers: ["Stage", "Cases", "Median days in stage", "Longest"], rows: stageRows, empty: "No open cases."))
        \(Self.table("Oldest open cases", headers: ["Reference", "Stage", "Opened", "Days open", "Days in stage"], rows: oldestRows, empty: "No open cases."))
        \(Self.bars("Cases by kind", Self.rows(summary.cases.byKind), colour: "#4a8d9e"))
        \(Self.bars("Cases by site", Self.rows(summary.cases.bySite), colour: "#3b6ea5"))
        \(Self.bars("Cases opened per month", Self.rows(summary.openedPerMonth), colour: "#3b6ea5"))
        \(Self.bars("Cases closed per month", Self.rows(summary.closedPerMonth), colour: "#5a9e6f"))
        \(Self.bars("Feedback ratings", Self.rows(summary.feedback.ratings), colour: "#4a8d9e", note: "Mean \(Self.days(summary.feedback.meanRating)) over \(summary.feedback.total) rated."))
        \(Self.bars("Agreed actions by status", Self.rows(actions.byStatus), colour: "#b0513f"))
        </div>
        </body></html>
        """
    }
}
