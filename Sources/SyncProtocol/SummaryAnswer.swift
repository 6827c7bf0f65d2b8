/// `GET /v1/report/summary` (PROTOCOL.md §11): counts only, never a name or free text.
/// Every key is always present; an absent filter or an undefined figure is `null`.
public struct SummaryAnswer: Codable, Sendable, Equatable {
    public struct Actions: Codable, Sendable, Equatable {
        public var byStatus: [String: Int]
        public var overdue: Int
        public var total: Int

        public init(byStatus: [String: Int], overdue: Int, total: Int) {
            self.byStatus = byStatus
            self.overdue = overdue
            self.total = total
        }
    }

    public struct Cases: Codable, Sendable, Equatable {
        public var byKind: [String: Int]
        public var bySite: [String: Int]
        public var byStatus: [String: Int]
        public var total: Int

        public init(byKind: [String: Int], bySite: [String: Int], byStatus: [String: Int], total: Int) {
            self.byKind = byKind
            self.bySite = bySite
            self.byStatus = byStatus
            self.total = total
        }
    }

    public struct Feedback: Codable, Sendable, Equatable {
        /// Rating ("1" … "5") → number of feedback records.
        public var ratings: [String: Int]
        public var total: Int

        public init(ratings: [String: Int], total: Int) {
            self.ratings = ratings
            self.total = total
        }
    }

    public struct Filters: Codable, Sendable, Equatable {
        public var from: String?
        public var site: String?
        public var to: String?

        public init(from: String?, site: String?, to: String?) {
            self.from = from
            self.site = site
            self.to = to
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(from, forKey: .from)
            try container.encode(site, forKey: .site)
            try container.encode(to, forKey: .to)
        }
    }

    /// Days from opening to agreement (or closure) over the cases that have both dates.
    public struct Timing: Codable, Sendable, Equatable {
        public var cases: Int
        /// Written as a whole number when it is one (`12`, `12.5`).
        public var medianDays: Double?
        public var p90Days: Int?

        public init(cases: Int, medianDays: Double?, p90Days: Int?) {
            self.cases = cases
            self.medianDays = medianDays
            self.p90Days = p90Days
        }

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

    public var actions: Actions
    public var cases: Cases
    public var closedPerMonth: [String: Int]
    public var feedback: Feedback
    public var filters: Filters
    public var openedPerMonth: [String: Int]
    public var timeToAgreement: Timing
    public var timeToClosure: Timing

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
