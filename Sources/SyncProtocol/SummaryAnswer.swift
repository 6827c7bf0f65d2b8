/// `GET /v1/report/summary` (PROTOCOL.md §11): counts only, never a name or free text.
/// Every key is always present; an absent filter or an undefined figure is `null`.
public struct SummaryAnswer: Codable, Sendable, Equatable {
    /// The actions of the counted cases.
    public struct Actions: Codable, Sendable, Equatable {
        /// Action status → number of actions; an action without a status counts as `open`.
        public var byStatus: [String: Int]
        /// Actions due before today (the node's UTC date) whose status is `open` or `in-progress`.
        public var overdue: Int
        /// Number of actions of the counted cases.
        public var total: Int
        /// Met by their due date: status `met`, `completed` on or before `due`.
        public var onTime: Int
        /// Met after their due date: status `met`, `completed` after `due`.
        public var late: Int
        /// Not met: status `missed` or `escalated` (a missed action re-agreed as another).
        public var missed: Int
        /// Median days from `due` to `completed` over the actions met late.
        public var medianDaysLate: Double?
        /// Median days from `due` to today over the overdue actions.
        public var medianDaysOverdue: Double?

        /// The action figures from their parts.
        public init(byStatus: [String: Int], overdue: Int, total: Int, onTime: Int, late: Int, missed: Int,
                    medianDaysLate: Double?, medianDaysOverdue: Double?) {
            self.byStatus = byStatus
            self.overdue = overdue
            self.total = total
            self.onTime = onTime
            self.late = late
            self.missed = missed
            self.medianDaysLate = medianDaysLate
            self.medianDaysOverdue = medianDaysOverdue
        }

        /// Writes every key, an undefined median as `null`.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(byStatus, forKey: .byStatus)
            try container.encode(overdue, forKey: .overdue)
            try container.encode(total, forKey: .total)
            try container.encode(onTime, forKey: .onTime)
            try container.encode(late, forKey: .late)
            try container.encode(missed, forKey: .missed)
            try container.encodeDays(medianDaysLate, forKey: .medianDaysLate)
            try container.encodeDays(medianDaysOverdue, forKey: .medianDaysOverdue)
        }
    }

    /// The open cases (not closed or withdrawn) at one stage, and how long they have been there.
    public struct StageAge: Codable, Sendable, Equatable {
        /// Open cases at the stage.
        public var cases: Int
        /// Median days since `stageEntered`, over the cases that have it (older cases may not).
        public var medianDays: Double?
        /// The longest any of them has been at the stage, in days.
        public var maxDays: Int?

        /// The figures from their parts.
        public init(cases: Int, medianDays: Double?, maxDays: Int?) {
            self.cases = cases
            self.medianDays = medianDays
            self.maxDays = maxDays
        }

        /// Writes every key, an undefined figure as `null`.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(cases, forKey: .cases)
            try container.encodeDays(medianDays, forKey: .medianDays)
            try container.encode(maxDays, forKey: .maxDays)
        }
    }

    /// One of the oldest open cases: ids, reference, stage and dates, never free text.
    public struct OpenCase: Codable, Sendable, Equatable {
        public var id: String
        public var reference: String
        public var status: String
        /// When it opened (`YYYY-MM-DD`), if known.
        public var opened: String?
        /// Days since it opened.
        public var daysOpen: Int?
        /// Days since it entered its stage, if the case records it.
        public var daysInStage: Int?

        /// The case from its parts.
        public init(id: String, reference: String, status: String, opened: String?, daysOpen: Int?, daysInStage: Int?) {
            self.id = id
            self.reference = reference
            self.status = status
            self.opened = opened
            self.daysOpen = daysOpen
            self.daysInStage = daysInStage
        }

        /// Writes every key, an unknown date or figure as `null`.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(reference, forKey: .reference)
            try container.encode(status, forKey: .status)
            try container.encode(opened, forKey: .opened)
            try container.encode(daysOpen, forKey: .daysOpen)
            try container.encode(daysInStage, forKey: .daysInStage)
        }
    }

    /// The cases that pass the filters.
    public struct Cases: Codable, Sendable, Equatable {
        /// Case kind → number of cases; a case without a kind counts under `(none)`.
        public var byKind: [String: Int]
        /// Site → number of cases; a case without a site counts under `(none)`.
        public var bySite: [String: Int]
        /// Workflow stage → number of cases; a case without a status counts under `(none)`.
        public var byStatus: [String: Int]
        /// Number of cases that pass the filters (live, opened within `from`…`to`, at `site`).
        public var total: Int

        /// The case figures from their parts.
        public init(byKind: [String: Int], bySite: [String: Int], byStatus: [String: Int], total: Int) {
            self.byKind = byKind
            self.bySite = bySite
            self.byStatus = byStatus
            self.total = total
        }
    }

    /// The ratings given in feedback on the counted cases.
    public struct Feedback: Codable, Sendable, Equatable {
        /// Rating ("1" … "5") → number of feedback records.
        public var ratings: [String: Int]
        /// Number of feedback records with a rating 1–5: the sum of `ratings`.
        public var total: Int
        /// The mean rating, rounded to two decimals; nil when there is none.
        public var meanRating: Double?

        /// The feedback figures from their parts.
        public init(ratings: [String: Int], total: Int, meanRating: Double?) {
            self.ratings = ratings
            self.total = total
            self.meanRating = meanRating
        }

        /// Writes every key, no mean as `null`.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(ratings, forKey: .ratings)
            try container.encode(total, forKey: .total)
            try container.encodeDays(meanRating, forKey: .meanRating)
        }
    }

    /// The filters of the request, echoed back; each is `null` when not given.
    public struct Filters: Codable, Sendable, Equatable {
        /// Earliest `opened` date counted (`YYYY-MM-DD`, inclusive), or nil for no lower bound.
        public var from: String?
        /// The only site counted, or nil for every site.
        public var site: String?
        /// Latest `opened` date counted (`YYYY-MM-DD`, inclusive), or nil for no upper bound.
        public var to: String?

        /// The filters from their parts.
        public init(from: String?, site: String?, to: String?) {
            self.from = from
            self.site = site
            self.to = to
        }

        /// Writes every key, an absent filter as `null` (synthesized `Codable` would leave it out).
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(from, forKey: .from)
            try container.encode(site, forKey: .site)
            try container.encode(to, forKey: .to)
        }
    }

    /// Days from opening to agreement (or closure) over the cases that have both dates.
    public struct Timing: Codable, Sendable, Equatable {
        /// Number of counted cases that have both dates.
        public var cases: Int
        /// Written as a whole number when it is one (`12`, `12.5`).
        public var medianDays: Double?
        /// The 90th percentile in days (nearest rank), or nil when no case qualifies.
        public var p90Days: Int?

        /// The timing figures from their parts.
        public init(cases: Int, medianDays: Double?, p90Days: Int?) {
            self.cases = cases
            self.medianDays = medianDays
            self.p90Days = p90Days
        }

        /// Writes every key, nil as `null`, and `medianDays` as an integer when it is whole.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(cases, forKey: .cases)
            try container.encodeDays(medianDays, forKey: .medianDays)
            try container.encode(p90Days, forKey: .p90Days)
        }
    }

    /// The actions of the counted cases: by status, overdue, total.
    public var actions: Actions
    /// The counted cases: by kind, site and status, and total.
    public var cases: Cases
    /// Month of `closed` (`YYYY-MM`) → number of counted cases closed in it.
    public var closedPerMonth: [String: Int]
    /// The feedback ratings on the counted cases.
    public var feedback: Feedback
    /// The filters applied, as the request gave them.
    public var filters: Filters
    /// Month of `opened` (`YYYY-MM`) → number of counted cases opened in it.
    public var openedPerMonth: [String: Int]
    /// The oldest open counted cases (at most 10), oldest first: where work is stuck.
    public var oldestOpen: [OpenCase]
    /// Open stage → its open cases and their age in the stage.
    public var stages: [String: StageAge]
    /// Days from `opened` to `agreed`, withdrawn cases left out.
    public var timeToAgreement: Timing
    /// Days from `opened` to `closed`.
    public var timeToClosure: Timing

    /// A summary from its parts.
    public init(actions: Actions, cases: Cases, closedPerMonth: [String: Int], feedback: Feedback, filters: Filters,
                openedPerMonth: [String: Int], oldestOpen: [OpenCase], stages: [String: StageAge], timeToAgreement: Timing, timeToClosure: Timing) {
        self.actions = actions
        self.cases = cases
        self.closedPerMonth = closedPerMonth
        self.feedback = feedback
        self.filters = filters
        self.openedPerMonth = openedPerMonth
        self.oldestOpen = oldestOpen
        self.stages = stages
        self.timeToAgreement = timeToAgreement
        self.timeToClosure = timeToClosure
    }
}

extension KeyedEncodingContainer {
    /// A number of days (or a mean) as JSON: a whole number when it is one (`12`, `12.5`),
    /// `null` when there is none.
    mutating func encodeDays(_ value: Double?, forKey key: Key) throws {
        if let value, value == value.rounded(), abs(value) < 1e15 {
            try encode(Int(value), forKey: key)
        } else {
            try encode(value, forKey: key)
        }
    }
}
