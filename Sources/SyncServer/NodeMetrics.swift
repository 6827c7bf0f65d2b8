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
        recordsMerged = registry.makeCounter(name: "casesync_records_received_total", help: "Record states received in pushes.")
        recordsChanged = registry.makeCounter(name: "casesync_records_changed_total", help: "Records whose stored state a push changed.")
        conflicts = registry.makeCounter(name: "casesync_conflicts_total", help: "Pushed records left holding a conflict.")
        bytesIn = registry.makeCounter(name: "casesync_request_bytes_total", help: "Request body bytes.")
        bytesOut = registry.makeCounter(name: "casesync_response_bytes_total", help: "Response body bytes of pulls.")
        latency = registry.makeDurationHistogram(name: "casesync_request_duration_seconds", buckets: [
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
        ], help: "Request handling time.")
    }

    func requests(_ route: String, _ status: Int) -> Counter {
        registry.makeCounter(name: "casesync_requests_total", labels: [("route", route), ("status", String(status))], help: "Requests by route and status.")
    }
}
