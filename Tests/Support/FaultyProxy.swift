import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A TCP proxy on loopback for fault tests: while faults are on, each connection is at
/// random dropped at once, cut off part-way through the answer, delayed, or passed clean.
/// With several upstreams it is also a balancer, as nginx in front of several nodes: each
/// connection goes to one of them at random, or to the next when that one refuses it.
///
/// `@unchecked Sendable`: `faults` and `random` are guarded by `lock`; sockets belong to the
/// thread that serves them; `listener` is only closed once, by `stop()`.
public final class FaultyProxy: @unchecked Sendable {
    public private(set) var port = 0
    private var upstreamPorts: [Int]
    private let listener: Int32
    private let lock = NSLock()
    private var faults = true
    private var random: UInt64
    private var injectedCount = 0
    private var connectionsByPort: [Int: Int] = [:]

    /// How many connections went to the upstream on `port`.
    public func connections(to port: Int) -> Int {
        lock.lock()
        defer { lock.unlock() }
        return connectionsByPort[port, default: 0]
    }

    /// How many connections got a fault (drop, truncation or delay).
    public var injected: Int {
        lock.lock()
        defer { lock.unlock() }
        return injectedCount
    }

    public convenience init(upstreamPort: Int, seed: UInt64) throws {
        try self.init(upstreamPorts: [upstreamPort], seed: seed)
    }

    public init(upstreamPorts: [Int], seed: UInt64) throws {
        self.upstreamPorts = upstreamPorts
        random = seed | 1
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(listener, 64) == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    /// Turns faults on or off for connections accepted from now on.
    public func setFaults(_ on: Bool) {
        lock.lock()
        faults = on
        lock.unlock()
    }

    /// The upstreams for connections accepted from now on (a restarted node has a new port).
    public func setUpstreams(_ ports: [Int]) {
        lock.lock()
        upstreamPorts = ports
        lock.unlock()
    }

    /// The upstreams in the order to try them for the next connection: from a random one on.
    private func nextUpstreams() -> [Int] {
        lock.lock()
        defer { lock.unlock() }
        random ^= random << 13
        random ^= random >> 7
        random ^= random << 17
        guard !upstreamPorts.isEmpty else { return [] }
        let first = Int(random % UInt64(upstreamPorts.count))
        return Array(upstreamPorts[first...] + upstreamPorts[..<first])
    }

    public func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private enum Fault { case none, drop, truncate, delay }

    private func nextFault() -> (Fault, Int) {
        lock.lock()
        defer { lock.unlock() }
        random ^= random << 13
        random ^= random >> 7
        random ^= random << 17
        guard faults else { return (.none, 0) }
        let roll = Int(random % 100)
        let amount = Int((random >> 8) % 400)
        if roll < 75 { injectedCount += 1 }
        switch roll {
        case ..<25: return (.drop, 0)
        case ..<50: return (.truncate, amount)
        case ..<75: return (.delay, amount)
        default: return (.none, 0)
        }
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            let fault = nextFault()
            Thread.detachNewThread { [self] in serve(client, fault: fault) }
        }
    }

    private func serve(_ client: Int32, fault: (Fault, Int)) {
        defer { close(client) }
        if fault.0 == .drop { return }
        if fault.0 == .delay { usleep(UInt32(fault.1) * 1000) }
        guard let upstream = connectUpstream() else { return }
        defer { close(upstream) }
        // Requests flow on their own thread; answers on this one, where truncation happens.
        Thread.detachNewThread {
            Self.pump(from: client, to: upstream, limit: nil)
            shutdown(upstream, Int32(SHUT_WR))
        }
        Self.pump(from: upstream, to: client, limit: fault.0 == .truncate ? 20 + fault.1 : nil)
        shutdown(client, Int32(SHUT_RDWR))
        shutdown(upstream, Int32(SHUT_RDWR))
    }

    /// A connection to the first upstream, in `nextUpstreams` order, that takes one.
    private func connectUpstream() -> Int32? {
        for port in nextUpstreams() {
            let candidate = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(port: port)
            let connected = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(candidate, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            if connected == 0 {
                lock.lock()
                connectionsByPort[port, default: 0] += 1
                lock.unlock()
                return candidate
            }
            close(candidate)
        }
        return nil
    }

    private static func pump(from source: Int32, to destination: Int32, limit: Int?) {
        var buffer = [UInt8](repeating: 0, count: 16 << 10)
        var forwarded = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
            guard count > 0 else { return }
            let allowed = limit.map { min(count, $0 - forwarded) } ?? count
            guard allowed > 0 else { return }
            var offset = 0
            while offset < allowed {
                let written = buffer.withUnsafeBytes { send(destination, $0.baseAddress! + offset, allowed - offset, Int32(MSG_NOSIGNAL)) }  // safe: non-empty buffer
                guard written > 0 else { return }
                offset += written
            }
            forwarded += allowed
            if let limit, forwarded >= limit { return }
        }
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}
