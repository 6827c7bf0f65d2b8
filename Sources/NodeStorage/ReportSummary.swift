import SyncModel
import SyncProtocol

/// The figures reporting staff ask for, never any confidential content: cases by status,
/// site and kind; opened and closed per month; days from opening to agreement (withdrawn
/// cases left out) and to closure (median and 90th percentile); open cases by stage with
/// their age in it, and the oldest open cases by id and reference; actions by status,
/// met on time, late, missed and overdue; feedback ratings and their mean.
///
/// Filters: a case counts when it is live, its `opened` date is within `from`…`to`
/// (inclusive, either may be absent) and its site equals `site` (if given). Actions and
/// feedback count when their case counts. An action is overdue when its `due` date is
/// before today and its status is open or in-progress. Percentiles use the nearest-rank
/// method; the median of an even count is the mean of the two middle values. A span whose
/// dates contradict each other (agreed before opened) is never counted.
public struct ReportSummary: Sendable, Equatable {
    /// The earliest `opened` date (`YYYY-MM-DD`) a counted case may have; nil for no lower bound.
    public let from: String?
    /// The latest `opened` date (`YYYY-MM-DD`, inclusive) a counted case may have; nil for no upper bound.
    public let to: String?
    /// The site a counted case must have; nil for every site.
    public let site: String?
    /// Cases that passed the filters.
    public var cases = 0
    /// Counted cases by workflow stage (`status`; `(none)` when unset).
    public var casesByStatus: [String: Int] = [:]
    /// Counted cases by `site` (`(none)` when unset).
    public var casesBySite: [String: Int] = [:]
    /// Counted cases by `kind` (`(none)` when unset).
    public var casesByKind: [String: Int] = [:]
    /// Counted cases by the month (`YYYY-MM`) of their `opened` date.
    public var openedPerMonth: [String: Int] = [:]
    /// Counted cases by the month (`YYYY-MM`) of their `closed` date.
    public var closedPerMonth: [String: Int] = [:]
    /// Days from `opened` to `agreed`, one entry per counted case that has both dates.
    public var daysToAgreement: [Int] = []
    /// Days from `opened` to `closed`, one entry per counted case that has both dates.
    public var daysToClosure: [Int] = []
    /// Actions of counted cases.
    public var actions = 0
    /// Those actions by `status` (`open` when unset).
    public var actionsByStatus: [String: Int] = [:]
    /// Those actions open or in progress whose `due` date is before today.
    public var overdueActions = 0
    /// Feedback of counted cases by rating, 1 to 5 (every rating present, zero or not); others are
    /// not counted.
    public var ratings: [Int: Int] = [1: 0, 2: 0, 3: 0, 4: 0, 5: 0]
    /// Actions met on or before their due date, and after it.
    public var actionsOnTime = 0
    public var actionsLate = 0
    /// Actions missed or escalated.
    public var actionsMissed = 0
    /// Days from due to completion of the actions met late.
    public var daysLate: [Int] = []
    /// Days from due to today of the overdue actions.
    public var daysOverdue: [Int] = []
    /// Open counted cases (not closed or withdrawn) by stage, and the days since each entered
    /// it (for those that record `stageEntered`).
    public var openByStage: [String: Int] = [:]
    public var daysInStage: [String: [Int]] = [:]
    /// The oldest open counted cases, oldest first, at most `oldestOpenLimit`.
    public var oldestOpen: [SummaryAnswer.OpenCase] = []
    /// How many of the oldest open cases the summary lists.
    public static let oldestOpenLimit = 10

    /// An empty summary with its filters; the store then adds every live case (`add(case:)`) and the
    /// actions and feedback of those that counted (`add(_:today:)`).
    public init(from: String?, to: String?, site: String?) {
        self.from = from
        self.to = to
        self.site = site
    }

    /// Counts a case if it passes the filters; returns whether it did. `today` (`YYYY-MM-DD`)
    /// is the day ages in stage and open are measured to.
    public mutating func add(case state: RecordState, today: String) -> Bool {
        let opened = state.text("opened")
        if let from, (opened ?? "") < from { return false }
        if let to, (opened ?? "9999") > to { return false }
        if let site, state.text("site") != site { return false }
        cases += 1
        casesByStatus[state.text("status") ?? "(none)", default: 0] += 1
        casesBySite[state.text("site") ?? "(none)", default: 0] += 1
        casesByKind[state.text("kind") ?? "(none)", default: 0] += 1
        if let opened { openedPerMonth[String(opened.prefix(7)), default: 0] += 1 }
        if let closed = state.text("closed") { closedPerMonth[String(closed.prefix(7)), default: 0] += 1 }
        let status = state.text("status") ?? "(none)"
        if status != "withdrawn", let opened, let agreed = state.text("agreed"), let days = Self.days(from: opened, to: agreed), days >= 0 {
            daysToAgreement.append(days)
        }
        if let opened, let closed = state.text("closed"), let days = Self.days(from: opened, to: closed), days >= 0 { daysToClosure.append(days) }
        if status != "closed" && status != "withdrawn" {
            openByStage[status, default: 0] += 1
            let inStage = state.text("stageEntered").flatMap { Self.days(from: $0, to: today) }.flatMap { $0 >= 0 ? $0 : nil }
            if let inStage { daysInStage[status, default: []].append(inStage) }
            let open = SummaryAnswer.OpenCase(id: state.id.rawValue, reference: state.text("reference") ?? "", status: status, opened: opened,
                                              daysOpen: opened.flatMap { Self.days(from: $0, to: today) }, daysInStage: inStage)
            insertOldest(open)
        }
        return true
    }

    /// Keeps `oldestOpen` the oldest open cases by `opened` (then id), without holding every
    /// open case of a large node.
    private mutating func insertOldest(_ open: SummaryAnswer.OpenCase) {
        func key(_ item: SummaryAnswer.OpenCase) -> (String, String) { (item.opened ?? "9999-99-99", item.id) }
        let index = oldestOpen.firstIndex { key(open) < key($0) } ?? oldestOpen.count
        guard index < Self.oldestOpenLimit else { return }
        oldestOpen.insert(open, at: index)
        if oldestOpen.count > Self.oldestOpenLimit { oldestOpen.removeLast() }
    }

    /// Counts an action or a feedback record whose case counted (the caller checks); `today`
    /// (`YYYY-MM-DD`) decides which actions are overdue. Records of other types are ignored.
    public mutating func add(_ state: RecordState, today: String) {
        switch state.type {
        case .action:
            actions += 1
            let status = state.text("status") ?? "open"
            actionsByStatus[status, default: 0] += 1
            let due = state.text("due")
            if let due, due < today, status == "open" || status == "in-progress" {
                overdueActions += 1
                if let days = Self.days(from: due, to: today) { daysOverdue.append(days) }
            }
            if status == "met", let due, let completed = state.text("completed"), let days = Self.days(from: due, to: completed) {
                if days <= 0 {
                    actionsOnTime += 1
                } else {
                    actionsLate += 1
                    daysLate.append(days)
                }
            }
            if status == "missed" || status == "escalated" { actionsMissed += 1 }
        case .feedback:
            if case let .integer(rating)? = state.value("rating"), (1...5).contains(rating) { ratings[rating, default: 0] += 1 }
        default:
            break
        }
    }

    /// Days between two `YYYY-MM-DD` dates (negative if `to` is earlier).
    static func days(from: String, to: String) -> Int? {
        guard let start = CivilDate.days(from), let end = CivilDate.days(to) else { return nil }
        return end - start
    }

    static func median(_ values: [Int]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? Double(sorted[middle]) : Double(sorted[middle - 1] + sorted[middle]) / 2
    }

    static func percentile(_ values: [Int], _ p: Int) -> Int? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let rank = Int((Double(p) / 100 * Double(sorted.count)).rounded(.up))
        return sorted[max(rank, 1) - 1]
    }

    /// The answer of `GET /v1/report/summary` (Protocol/PROTOCOL.md §11).
    public var answer: SummaryAnswer {
        func timing(_ values: [Int]) -> SummaryAnswer.Timing {
            SummaryAnswer.Timing(cases: values.count, medianDays: Self.median(values), p90Days: Self.percentile(values, 90))
        }
        let rated = ratings.values.reduce(0, +)
        let mean = rated == 0 ? nil : (Double(ratings.reduce(0) { $0 + $1.key * $1.value }) / Double(rated) * 100).rounded() / 100
        let stages = Dictionary(uniqueKeysWithValues: openByStage.map { stage, count in
            (stage, SummaryAnswer.StageAge(cases: count, medianDays: Self.median(daysInStage[stage] ?? []), maxDays: daysInStage[stage]?.max()))
        })
        return SummaryAnswer(
            actions: .init(byStatus: actionsByStatus, overdue: overdueActions, total: actions, onTime: actionsOnTime, late: actionsLate,
                           missed: actionsMissed, medianDaysLate: Self.median(daysLate), medianDaysOverdue: Self.median(daysOverdue)),
            cases: .init(byKind: casesByKind, bySite: casesBySite, byStatus: casesByStatus, total: cases),
            closedPerMonth: closedPerMonth,
            feedback: .init(ratings: Dictionary(uniqueKeysWithValues: ratings.map { (String($0.key), $0.value) }), total: rated, meanRating: mean),
            filters: .init(from: from, site: site, to: to),
            openedPerMonth: openedPerMonth,
            oldestOpen: oldestOpen,
            stages: stages,
            timeToAgreement: timing(daysToAgreement),
            timeToClosure: timing(daysToClosure))
    }
}
