/// Every error SyncModel raises: a stable machine-readable code, a one-line human message,
/// and where it applies the field it is about.
///
/// Codes are part of the protocol (the server answers them in `{"error":{"code":…}}`),
/// so they never change meaning once shipped.
public struct ModelError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Stable error codes.
    public enum Code: String, Sendable, CaseIterable {
        case invalidDeviceID = "invalid_device_id"
        case invalidRecordID = "invalid_record_id"
        case malformedJSON = "malformed_json"
        case unknownType = "unknown_type"
        case unknownField = "unknown_field"
        case wrongFieldKind = "wrong_field_kind"
        case wrongValueType = "wrong_value_type"
        case invalidValue = "invalid_value"
        case missingField = "missing_field"
        case invalidCounter = "invalid_counter"
        case dotAboveVersion = "dot_above_version"
        case duplicateDot = "duplicate_dot"
        case identityMismatch = "identity_mismatch"
        case staleStamp = "stale_stamp"
        case recordDeleted = "record_deleted"
        case counterRegression = "counter_regression"
        case foreignDot = "foreign_dot"
        case equivocation = "equivocation"
        /// A register with more concurrent values (or a set element with more concurrent
        /// adds) than `RecordState.maxConcurrentValues`.
        case tooManyValues = "too_many_values"
    }

    /// The machine-readable code, answered by the server as `{"error":{"code":…}}`.
    public let code: Code
    /// One line for people naming the problem; unlike `code`, not meant to be matched by programs.
    public let message: String
    /// The field the error is about, when there is one.
    public let field: String?
    /// For an error about one record of a batch (`PushEnvelope.decode`): its position, from 0.
    public let recordIndex: Int?

    /// An error with `code` and `message`, about `field` when it concerns one, and about
    /// record `recordIndex` of a batch when it concerns one.
    public init(_ code: Code, _ message: String, field: String? = nil, recordIndex: Int? = nil) {
        self.code = code
        self.message = message
        self.field = field
        self.recordIndex = recordIndex
    }

    /// The code's wire name and the message, e.g. `invalid_value: title must not be empty`.
    public var description: String { "\(code.rawValue): \(message)" }
}
