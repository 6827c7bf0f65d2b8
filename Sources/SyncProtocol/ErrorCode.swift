import SyncModel

/// Every error code the node answers in `{"error":{"code":…}}` (PROTOCOL.md, "Errors"), with
/// the HTTP status it is sent with and the exit status a command line reports it with when
/// the node itself raises it (`casesyncd`). The one table of both mappings: a code never
/// changes meaning once shipped.
public enum ErrorCode: String, Sendable, CaseIterable {
    // Requests the node cannot read.
    case malformedJSON = "malformed_json"
    case badParameter = "bad_parameter"
    case malformedGzip = "malformed_gzip"
    case unsupportedEncoding = "unsupported_encoding"
    case tooLarge = "too_large"
    case timeout
    case methodNotAllowed = "method_not_allowed"
    case notFound = "not_found"

    // Who is asking.
    case unauthorised
    case unknownDevice = "unknown_device"
    case revoked
    case disabled
    /// The node asks this device to erase its case data: it was revoked with `--wipe`, or
    /// its user disabled (PROTOCOL.md §13.3).
    case wipe
    /// An enrollment token that is unknown, used or expired; a disabled user's.
    case refused
    case forbidden
    /// A user or device that already exists.
    case exists

    /// A record of a case the service purged: the device drops it (PROTOCOL.md §13.4).
    case purged

    // Records the node refuses (every `ModelError.Code` but `malformed_json` is one of these).
    case invalidDeviceID = "invalid_device_id"
    case invalidRecordID = "invalid_record_id"
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
    case equivocation
    case tooManyValues = "too_many_values"
    /// A state that would change the node's without a new write of the pushing device.
    case noOwnWrite = "no_own_write"
    /// A record whose case link is ambiguous or moved.
    case caseLink = "case_link"
    /// A record of a case that is neither on the node nor in the batch.
    case unknownCase = "unknown_case"

    // The node's state.
    /// A pull cursor beyond the node's highest sequence: the node was restored.
    case cursorAhead = "cursor_ahead"
    /// Too many requests at once; retry after `Retry-After` seconds.
    case busy
    case `internal`

    /// The model's code of the same name: validation errors travel under their own code.
    public init(_ code: ModelError.Code) {
        // Every model code is a case of this enum (a test checks it); `invalidValue` is
        // never reached.
        self = ErrorCode(rawValue: code.rawValue) ?? .invalidValue
    }

    /// The HTTP status the node answers this code with.
    public var httpStatus: Int {
        switch self {
        case .malformedJSON, .badParameter, .malformedGzip: 400
        case .unauthorised, .unknownDevice, .revoked, .disabled, .refused: 401
        case .forbidden, .wipe: 403
        case .notFound: 404
        case .methodNotAllowed: 405
        case .timeout: 408
        case .exists, .cursorAhead: 409
        case .purged: 410
        case .tooLarge: 413
        case .unsupportedEncoding: 415
        case .invalidDeviceID, .invalidRecordID, .unknownType, .unknownField, .wrongFieldKind, .wrongValueType, .invalidValue,
             .missingField, .invalidCounter, .dotAboveVersion, .duplicateDot, .identityMismatch, .staleStamp, .recordDeleted,
             .counterRegression, .foreignDot, .equivocation, .tooManyValues, .noOwnWrite, .caseLink, .unknownCase: 422
        case .internal: 500
        case .busy: 503
        }
    }

    /// The exit status when the node's own code raises it (a `casesyncd` command).
    public var exitStatus: ExitStatus {
        switch httpStatus {
        case 401, 403: .unauthorised
        case 404: .notFound
        case 503: .unreachable
        case 500: .internalError
        default: self == .recordDeleted ? .notFound : .usage
        }
    }
}
