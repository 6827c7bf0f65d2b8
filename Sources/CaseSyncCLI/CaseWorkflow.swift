import SyncModel

/// DESIGN.md's workflow rule: moving a case to agreement or closed fills `agreed` or
/// `closed` with the day of the move, unless the same write gives that date itself.
enum CaseWorkflow {
    static func withStageDates(_ changes: [FieldChange], today: String) -> [FieldChange] {
        var result = changes
        for change in changes {
            guard case let .set("status", .text(stage)) = change,
                  let dateField = WorkflowStage(rawValue: stage)?.dateField,
                  !changes.contains(where: { $0.field == dateField }) else { continue }
            result.append(.set(dateField, .text(today)))
        }
        return result
    }

    /// A case reference that offline devices can make without colliding: the year and 40
    /// random bits in Crockford base 32, e.g. `MED-2026-7F3A-9K2C`.
    static func newReference<G: RandomNumberGenerator>(year: Int, using generator: inout G) -> String {
        let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
        var bits = generator.next()
        var symbols: [Character] = []
        for _ in 0..<8 {
            symbols.append(alphabet[Int(bits & 31)])
            bits >>= 5
        }
        return "MED-\(year)-\(String(symbols[0..<4]))-\(String(symbols[4..<8]))"
    }
}
