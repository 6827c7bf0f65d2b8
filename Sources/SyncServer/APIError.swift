import Hummingbird
import SyncModel
import SyncStore

/// An error answer of the `/v1` API: `{"error":{"code":…,"message":…[,"index":N]}}` with the
/// fitting status. Library errors are mapped to it once, here.
public struct APIError: Error, HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String
    /// For a rejected push: the index of the offending record in the batch.
    public let index: Int?
    /// Seconds a client should wait before trying again (`Retry-After`), for 503 and 429.
    public let retryAfter: Int?

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, index: Int? = nil, retryAfter: Int? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.index = index
        self.retryAfter = retryAfter
    }

    public static let unauthorised = APIError(.unauthorized, "unauthorised", "missing or invalid device credentials; send Authorization: Bearer DEVICE:SECRET from enrollment")

    /// A model error about record `index` of a push: malformed JSON is 400, everything
    /// else (schema, forged or regressing clocks) 422.
    static func rejected(_ error: ModelError, index: Int?) -> APIError {
        let where_ = index.map { "record \($0): " } ?? ""
        return APIError(error.code == .malformedJSON ? .badRequest : .unprocessableContent, error.code.rawValue, where_ + error.message, index: index)
    }

    static func from(_ error: any Error) -> APIError {
        switch error {
        case let error as APIError: return error
        case let error as ModelError: return rejected(error, index: nil)
        case let error as StoreError:
            switch error.code {
            case .notFound: return APIError(.notFound, error.code.rawValue, error.message)
            case .refused: return APIError(.unauthorized, error.code.rawValue, error.message)
            case .exists: return APIError(.conflict, error.code.rawValue, error.message)
            default: return APIError(.internalServerError, "internal", "internal error")
            }
        case let error as HTTPError:
            let code = error.status == .contentTooLarge ? "too_large" : "http_\(error.status.code)"
            return APIError(error.status, code, error.body ?? error.status.reasonPhrase)
        default:
            return APIError(.internalServerError, "internal", "internal error")
        }
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var writer = CanonicalJSONWriter(capacity: 128 + message.utf8.count)
        writer.raw("{\"error\":{\"code\":")
        writer.string(code)
        if let index {
            writer.raw(",\"index\":")
            writer.integer(index)
        }
        writer.raw(",\"message\":")
        writer.string(message)
        writer.raw("}}")
        var response = Response.json(writer.bytes, status: status)
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
