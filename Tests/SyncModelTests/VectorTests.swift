import Foundation
import Testing
@testable import SyncModel

/// Replays the normative merge vectors of `Protocol/vectors` (see PROTOCOL.md §7).
struct VectorTests {
    struct Vector: CustomTestStringConvertible {
        let file: String
        var inputs: [[UInt8]] = []
        var expected: [UInt8]?
        var conflicts: [ExpectedConflict] = []
        var error: String?

        var testDescription: String { file }
    }

    struct ExpectedConflict: Equatable, CustomStringConvertible {
        let field: String
        let kind: String
        let dots: [String]
        var description: String { "\(field) \(kind) \(dots)" }
    }

    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Protocol/vectors")

    static let files: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
        .filter { $0.hasSuffix(".json") }
        .sorted()

    static func load(_ file: String) throws -> Vector {
        let bytes = try [UInt8](Data(contentsOf: directory.appendingPathComponent(file)))
        var vector = Vector(file: file)
        try JSONReader.read(bytes) { reader throws(ModelError) in
            try reader.readObject { reader, key throws(ModelError) in
                switch key {
                case "inputs": try reader.readArray { reader throws(ModelError) in vector.inputs.append(try reader.readRawValue()) }
                case "expected": vector.expected = try reader.readRawValue()
                case "error": vector.error = try reader.readString()
                case "conflicts":
                    try reader.readArray { reader throws(ModelError) in
                        var field = ""
                        var kind = ""
                        var dots: [String] = []
                        try reader.readObject { reader, key throws(ModelError) in
                            switch key {
                            case "field": field = try reader.readString()
                            case "kind": kind = try reader.readString()
                            case "dots":
                                try reader.readArray { reader throws(ModelError) in
                                    var parts: [String] = []
                                    try reader.readArray { reader throws(ModelError) in
                                        parts.append(try reader.peekKind() == .string ? reader.readString() : String(reader.readInteger()))
                                    }
                                    dots.append(parts.joined(separator: ":"))
                                }
                            default: try reader.skipValue()
                            }
                        }
                        vector.conflicts.append(ExpectedConflict(field: field, kind: kind, dots: dots))
                    }
                default: try reader.skipValue()
                }
            }
        }
        return vector
    }

    @Test func thereAreAtLeast25Vectors() {
        #expect(Self.files.count >= 25)
    }

    @Test("every vector replays", arguments: files)
    func replay(file: String) throws {
        let vector = try Self.load(file)
        if let code = vector.error {
            var failures: [String] = []
            for input in vector.inputs {
                do { _ = try RecordState(json: input) } catch { failures.append(error.code.rawValue) }
            }
            #expect(failures.contains(code), "\(file): expected \(code), got \(failures)")
            return
        }
        let inputs = try vector.inputs.map { try RecordState(json: $0) }
        let expected = try RecordState(json: try #require(vector.expected))
        #expect(!inputs.isEmpty)

        for order in Self.orders(of: inputs.count) {
            var merged = inputs[order[0]]
            for index in order.dropFirst() { merged = try merged.merged(with: inputs[index]) }
            #expect(merged.canonicalJSON() == expected.canonicalJSON(), "\(file): order \(order) gives \(merged.canonicalText)")
        }
        // Re-delivering any input changes nothing; folding from the right agrees.
        for input in inputs { #expect(try expected.merged(with: input) == expected, "\(file): re-delivery changed the result") }
        let fromRight = try inputs.dropLast().reversed().reduce(inputs[inputs.count - 1]) { try $1.merged(with: $0) }
        #expect(fromRight == expected)

        let conflicts = expected.conflicts.map { conflict in
            ExpectedConflict(field: conflict.field, kind: conflict.kind.rawValue, dots: conflict.sides.map(\.stamp.dot).sorted().map(\.description))
        }
        #expect(conflicts == vector.conflicts, "\(file)")
    }

    /// Every permutation for up to four inputs, each input repeated once too; a sample beyond.
    static func orders(of count: Int) -> [[Int]] {
        var result: [[Int]] = []
        func permute(_ prefix: [Int], _ rest: [Int]) {
            if rest.isEmpty { result.append(prefix); return }
            for (index, element) in rest.enumerated() {
                var remaining = rest
                remaining.remove(at: index)
                permute(prefix + [element], remaining)
            }
        }
        if count <= 4 {
            permute([], Array(0..<count))
        } else {
            for shift in 0..<count { result.append((0..<count).map { ($0 + shift) % count }) }
            result.append(Array((0..<count).reversed()))
        }
        let duplicated = result.map { order in order + [order[0]] }
        return result + duplicated
    }
}
