import Hummingbird
import SyncModel
import SyncProtocol

/// The one place an error becomes an HTTP answer: `{"error":{"code":…,"message":…[,"index":N]}}`
/// with the status `ErrorCode.httpStatus` gives.
extension NodeError {
    /// Any error as the node answers it. Unexpected errors (the database's, a bug's) are
    /// `internal`, and say nothing more.
    init(answering error: any Error) {
        switch error {
        case let error as NodeError:
            self = error
        case let error as ModelError:
            self = .rejected(error, index: nil)
        case let error as HTTPError:
            // What Hummingbird itself refuses (an unknown path, a body over its limit).
            let code: ErrorCode = switch error.status {
            case .notFound: .notFound
            case .contentTooLarge: .tooLarge
            case .methodNotAllowed: .methodNotAllowed
            case .requestTimeout: .timeout
            case .badRequest: .badParameter
            default: .internal
            }
            self = NodeError(code, code == .internal ? "internal error" : error.body ?? error.status.reasonPhrase)
        default:
            self = NodeError(.internal, "internal error")
        }
    }

    var status: HTTPResponse.Status { HTTPResponse.Status(code: code.httpStatus) }

    /// The answer, in the API's error shape.
    var response: Response {
        var response = Response.json(WireJSON.encode(ErrorAnswer(self)), status: status)
        if let retryAfter { response.headers[.retryAfter] = String(retryAfter) }
        return response
    }
}

extension Response {
    /// A JSON response from bytes that are already JSON.
    static func json(_ bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
