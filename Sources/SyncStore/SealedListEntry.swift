import SyncModel

/// What `case list` shows of a case in an encrypted replica (PROTOCOL.md §16): reference,
/// title, status and site, sealed together into the row's `title` column (the other three
/// list columns stay empty), so that listing opens a few dozen bytes per case instead of
/// decoding its whole state. Hand-encoded, each field as a 4-byte big-endian length and its
/// UTF-8 (length 0xFFFFFFFF: no site), because it is read once per case of a list.
enum SealedListEntry {
    struct Fields: Equatable {
        let reference: String
        let title: String
        let status: String
        let site: String?
    }

    static func fields(of state: RecordState) -> Fields {
        Fields(reference: state.text("reference") ?? "", title: state.text("title") ?? "", status: state.text("status") ?? "", site: state.text("site"))
    }

    static func encode(_ fields: Fields) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16 + fields.reference.utf8.count + fields.title.utf8.count + fields.status.utf8.count + (fields.site?.utf8.count ?? 0))
        for field in [fields.reference, fields.title, fields.status, fields.site] {
            let length = field.map { UInt32($0.utf8.count) } ?? UInt32.max
            withUnsafeBytes(of: length.bigEndian) { bytes.append(contentsOf: $0) }
            if let field { bytes.append(contentsOf: field.utf8) }
        }
        return bytes
    }

    /// The fields `encode` wrote; nil for bytes it did not write.
    static func decode(_ bytes: [UInt8]) -> Fields? {
        var index = 0
        var values: [String?] = []
        while values.count < 4 {
            guard index + 4 <= bytes.count else { return nil }
            let length = bytes[index..<(index + 4)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            index += 4
            if length == UInt32.max {
                values.append(nil)
                continue
            }
            guard index + Int(length) <= bytes.count else { return nil }
            values.append(String(decoding: bytes[index..<(index + Int(length))], as: UTF8.self))
            index += Int(length)
        }
        guard index == bytes.count, let reference = values[0], let title = values[1], let status = values[2] else { return nil }
        return Fields(reference: reference, title: title, status: status, site: values[3])
    }
}
