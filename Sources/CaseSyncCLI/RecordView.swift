import SyncModel

/// How a record is shown: plain field values (a conflicted register shows its latest value
/// and is listed under `conflicts`), the short id lists print, and each conflict's sides
/// with device and time. This is the documented `--json` shape of a record.
struct RecordView {
    let state: RecordState
    /// Names to show beside device ids, where known (this device's own, and those of the
    /// node's directory, PROTOCOL.md §15).
    var deviceNames: [DeviceID: String] = [:]

    func deviceLabel(_ device: DeviceID) -> String {
        Self.deviceLabel(device, names: deviceNames)
    }

    /// `NAME (ID)` where the name is known, else the id.
    static func deviceLabel(_ device: DeviceID, names: [DeviceID: String]) -> String {
        names[device].map { "\($0) (\(device))" } ?? device.rawValue
    }

    /// The last 8 hex digits of the id: what lists print and commands accept.
    static func shortID(_ id: RecordID) -> String { String(id.rawValue.suffix(8)) }

    var shortID: String { Self.shortID(state.id) }

    func plain(_ field: String) -> String {
        switch state.field(field) {
        case let .register(register)?: return register.displayValue.description
        case let .set(set)?: return set.members.joined(separator: ", ")
        case nil: return ""
        }
    }

    var json: JSONOutput {
        var fields: [(String, JSONOutput)] = []
        for field in state.fields {
            switch field.state {
            case let .register(register): fields.append((field.name, JSONOutput(register.displayValue)))
            case let .set(set): fields.append((field.name, .array(set.members.map { .string($0) })))
            }
        }
        return .sortedObject([
            ("id", .string(state.id.rawValue)),
            ("short", .string(shortID)),
            ("type", .string(state.type.rawValue)),
            ("case", .string((state.caseID ?? state.id).rawValue)),
            ("fields", .object(fields)),
            ("deleted", .boolean(state.isDeleted)),
            ("conflicts", .array(state.conflicts.map { Self.json($0, names: deviceNames) })),
            ("changed", .string(WallClock.iso(state.lastChanged))),
            ("version", .object(state.version.dots.map { ($0.device.rawValue, .integer($0.counter)) })),
        ])
    }

    /// A conflict with its sides; a side names its device's name too (`deviceName`) when known.
    static func json(_ conflict: Conflict, names: [DeviceID: String]) -> JSONOutput {
        .sortedObject([
            ("field", .string(conflict.field)),
            ("kind", .string(conflict.kind.rawValue)),
            ("sides", .array(conflict.sides.map { side in
                .sortedObject([
                    ("field", .string(side.field)),
                    ("device", .string(side.stamp.dot.device.rawValue)),
                    ("at", .string(WallClock.iso(side.stamp.time))),
                    ("value", JSONOutput(side.value)),
                ] + (names[side.stamp.dot.device].map { [("deviceName", JSONOutput.string($0))] } ?? []))
            })),
        ])
    }

    /// Every field as `name  value`, conflicted ones marked, in schema order.
    var fieldLines: String {
        let conflicted = Set(state.conflicts.map(\.field))
        let names = RecordSchema.for(state.type).fields.map(\.name).filter { state.field($0) != nil && $0 != "case" }
        let width = names.map(\.count).max() ?? 0
        return names.map { name in
            let marker = conflicted.contains(name) ? "   ⚠ CONFLICT" : ""
            let value = plain(name).replacingOccurrences(of: "\n", with: "\n" + String(repeating: " ", count: width + 4))
            return "  " + name + String(repeating: " ", count: width - name.count) + "  " + value + marker
        }.joined(separator: "\n")
    }

    /// The conflicts, each side on its own line with device and time, and how to resolve.
    var conflictLines: String {
        state.conflicts.map { conflict in
            var lines = ["  \(conflict.field) (\(conflict.kind == .deleteVersusEdit ? "deleted on one device, edited on another" : "changed on several devices")):"]
            for side in conflict.sides {
                let what = side.field == RecordSchema.deletedField
                    ? (side.value == .boolean(true) ? "deleted" : "restored")
                    : (side.field == conflict.field ? "\"\(side.value.description.cell(60))\"" : "\(side.field) = \"\(side.value.description.cell(50))\"")
                lines.append("    \(what)  — on \(deviceLabel(side.stamp.dot.device)) at \(WallClock.human(side.stamp.time))")
            }
            lines.append("    resolve: casesync resolve \(shortID) \(conflict.field) --keep DEVICE   (or --value VALUE)")
            return lines.joined(separator: "\n")
        }.joined(separator: "\n")
    }
}
