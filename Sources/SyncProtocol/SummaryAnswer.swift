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

        /// The action figures from their parts.
        public init(byStatus: [String: Int], overdue: Int, total: Int) {
            self.byStatus = byStatus
            self.overdue = overdue
            self.total = total
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

        /// The feedback figures from their parts.
        public init(ratings: [String: Int], total: Int) {
            self.ratings = ratings
            self.total = total
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
            if let medianDays, medianDays == medianDays.rounded(), abs(medianDays) < 1e15 {
                try container.encode(Int(medianDays), forKey: .medianDays)
            } else {
                try container.encode(medianDays, forKey: .medianDays)
            }
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
    /// Days from `opened` to `agreed`.
    public var timeToAgreement: Timing
    /// Days from `opened` to `closed`.
    public var timeToClosure: Timing

    /// A summary from its parts.
    public init(actions: Actions, cases: Cases, closedPerMonth: [String: Int], feedback: Feedback, filters: Filters,
                openedPerMonth: [String: Int], timeToAgreement: Timing, timeToClosure: Timing) {
        self.actions = actions
        self.cases = cases
        self.closedPerMonth = closedPerMonth
        self.feedback = feedback
        self.filters = filters
        self.openedPerMonth = openedPerMonth
        self.timeToAgreement = timeToAgreement
        self.timeToClosure = timeToClosure
    }
}
