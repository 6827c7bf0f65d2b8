import Prometheus

/// The node's Prometheus metrics, served at `/metrics`.
public struct NodeMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    let recordsMerged: Counter
    let recordsChanged: Counter
    let conflicts: Counter
    let bytesIn: Counter
    let bytesOut: Counter
    let latency: DurationHistogram

    public init() {
        recordsMerged = registry.makeCounter(descriptor: Self.name("casesync_records_received", "total", "Record states received in pushes."))
        recordsChanged = registry.makeCounter(descriptor: Self.name("casesync_records_changed", "total", "Records whose stored state a push changed."))
        conflicts = registry.makeCounter(descriptor: Self.name("casesync_conflicts", "total", "Pushed records left holding a conflict."))
        bytesIn = registry.makeCounter(descriptor: Self.name("casesync_request_bytes", "total", "Request body bytes."))
        bytesOut = registry.makeCounter(descriptor: Self.name("casesync_response_bytes", "total", "Response body bytes of pulls."))
        latency = registry.makeDurationHistogram(descriptor: Self.name("casesync_request_duration", "seconds", "Request handling time."), buckets: [
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
        ])
    }

    /// `metric_unit`, as Prometheus names metrics.
    static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: metric, unitName: unit, helpText: help)
    }

    func requests(_ route: String, _ status: Int) -> Counter {
        registry.makeCounter(descriptor: Self.name("casesync_requests", "total", "Requests by route and status."), labels: [("route", route), ("status", String(status))])
    }
}
