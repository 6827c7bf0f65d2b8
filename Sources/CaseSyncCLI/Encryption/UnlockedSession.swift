import SyncStore

/// What `casesync unlock` leaves in the keyring for one replica: its data key, when it was
/// last used and the idle timeout. Every command that uses the key checks the idle rule with
/// its own clock (`CASESYNC_NOW` pins it, so tests need not sleep) and moves `lastUsed` on;
/// the kernel's timeout, set to the same idle time at each use, is the backstop that removes
/// the key even when no command runs again.
struct UnlockedSession: Equatable {
    let key: [UInt8]
    var lastUsed: Int64
    let idle: Int64

    /// The default idle timeout: 15 minutes, the automatic log-off a hospital expects.
    static let defaultIdle: Int64 = 15 * 60 * 1000
    /// The longest idle timeout `unlock --idle` accepts: a working day.
    static let longestIdle: Int64 = 12 * 60 * 60 * 1000

    /// Whether the session has ended by `now` (milliseconds): idle for longer than its timeout,
    /// or last used in the future (a clock set back is not trusted to extend it).
    func hasExpired(at now: Int64) -> Bool {
        now - lastUsed > idle || now < lastUsed - 60_000
    }

    /// The keyring's name for `device`'s session.
    static func name(for device: String) -> String { "casesync:" + device }

    /// key (32) ‖ lastUsed (8, little-endian) ‖ idle (8).
    var payload: [UInt8] {
        key + Self.bytes(lastUsed) + Self.bytes(idle)
    }

    init(key: [UInt8], lastUsed: Int64, idle: Int64) {
        self.key = key
        self.lastUsed = lastUsed
        self.idle = idle
    }

    init?(payload: [UInt8]) {
        guard payload.count == DataKey.byteCount + 16 else { return nil }
        key = Array(payload.prefix(DataKey.byteCount))
        lastUsed = Self.integer(payload[DataKey.byteCount..<DataKey.byteCount + 8])
        idle = Self.integer(payload[(DataKey.byteCount + 8)...])
    }

    private static func bytes(_ value: Int64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: UInt64(bitPattern: value) >> ($0 * 8)) }
    }

    private static func integer(_ bytes: ArraySlice<UInt8>) -> Int64 {
        Int64(bitPattern: bytes.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << ($1.offset * 8) })
    }
}
