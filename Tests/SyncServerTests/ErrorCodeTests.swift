import Hummingbird
import HummingbirdTesting
import SyncModel
import SyncProtocol
import SyncStore
import Testing
@testable import SyncServer

/// Every error code's HTTP status and exit status, written out: the table PROTOCOL.md's
/// "Errors" section gives, checked against the one mapping both are made from.
struct ErrorCodeTests {
    static let table: [(code: String, status: Int, exit: Int32)] = [
        ("malformed_json", 400, 1), ("bad_parameter", 400, 1), ("malformed_gzip", 400, 1),
        ("unauthorised", 401, 4), ("unknown_device", 401, 4), ("revoked", 401, 4), ("disabled", 401, 4), ("refused", 401, 4),
        ("forbidden", 403, 4), ("wipe", 403, 4), ("not_found", 404, 2), ("method_not_allowed", 405, 1), ("timeout", 408, 1),
        ("exists", 409, 1), ("cursor_ahead", 409, 1), ("purged", 410, 1), ("too_large", 413, 1), ("unsupported_encoding", 415, 1),
        ("invalid_device_id", 422, 1), ("invalid_record_id", 422, 1), ("unknown_type", 422, 1), ("unknown_field", 422, 1),
        ("wrong_field_kind", 422, 1), ("wrong_value_type", 422, 1), ("invalid_value", 422, 1), ("missing_field", 422, 1),
        ("invalid_counter", 422, 1), ("dot_above_version", 422, 1), ("duplicate_dot", 422, 1), ("identity_mismatch", 422, 1),
        ("stale_stamp", 422, 1), ("record_deleted", 422, 2), ("counter_regression", 422, 1), ("foreign_dot", 422, 1),
        ("equivocation", 422, 1), ("too_many_values", 422, 1), ("no_own_write", 422, 1), ("case_link", 422, 1),
        ("unknown_case", 422, 1), ("internal", 500, 10), ("busy", 503, 3),
    ]

    @Test func everyCodeHasTheStatusAndExitCodeOfTheTable() {
        #expect(Set(Self.table.map(\.code)) == Set(ErrorCode.allCases.map(\.rawValue)), "the table lists every code once")
        #expect(Self.table.count == ErrorCode.allCases.count)
        for row in Self.table {
            guard let code = ErrorCode(rawValue: row.code) else { continue }
            #expect(code.httpStatus == row.status, "\(row.code)")
            #expect(code.exitStatus.rawValue == row.exit, "\(row.code)")
            #expect(NodeError(code, "x").status.code == row.status, "\(row.code): the answer's status")
        }
    }

    /// A model error travels under its own code: none falls back to another.
    @Test func everyModelErrorHasACodeOfItsOwn() {
        for code in ModelError.Code.allCases {
            #expect(ErrorCode(code).rawValue == code.rawValue)
        }
        #expect(NodeError.rejected(ModelError(.malformedJSON, "bad"), index: 3).status == .badRequest)
        #expect(NodeError.rejected(ModelError(.foreignDot, "bad"), index: 3).index == 3)
    }

    /// Both command lines report the same error with the same exit status.
    @Test func libraryErrorsHaveOneExitStatusEach() {
        #expect(ExitStatus(for: StoreError(.wrongType, "x")) == .notFound)
        #expect(ExitStatus(for: StoreError(.notFound, "x")) == .notFound)
        #expect(ExitStatus(for: StoreError(.refused, "x")) == .unauthorised)
        #expect(ExitStatus(for: StoreError(.corrupt, "x")) == .internalError)
        #expect(ExitStatus(for: ModelError(.recordDeleted, "x")) == .notFound)
        #expect(ExitStatus(for: ModelError(.invalidValue, "x")) == .usage)
        #expect(ExitStatus(for: NodeError(.notFound, "x")) == .notFound)
        #expect(ExitStatus(for: CancellationError()) == .internalError, "an unexpected error is internal")
    }

    /// What the node cannot map says nothing of itself to the client.
    @Test func anUnexpectedErrorIsAnInternalErrorWithNoDetail() {
        struct Leaky: Error { let secret = "caucus note text" }
        let answer = NodeError(answering: Leaky())
        #expect(answer.code == .internal && answer.message == "internal error")
        #expect(NodeError(answering: HTTPError(.notFound)).code == .notFound)
    }
}
