import GRDB
import GRDBSQLite
import SyncModel

/// Values bound, in order, to a prepared statement straight through SQLite's C API.
///
/// GRDB's `StatementArguments` boxes every value as a `DatabaseValue` in an array. On the
/// node's write path (a first push is a hundred thousand rows of 13 columns) that boxing
/// cost about as much as SQLite's own insert. The few statements run once per record bind
/// through this instead (`Statement.execute(binding:)`); everything else keeps GRDB's
/// arguments. Text and blobs are copied into `arena`, which lives until the statement is
/// done and its bindings cleared, and bound from there without SQLite copying them again
/// (its copy is an allocation per value); what does not fit there SQLite copies. Nothing
/// bound outlives a call, and the bindings cannot be copied out of it (`~Copyable`).
public struct StatementBindings: ~Copyable {
    private let handle: SQLiteStatement
    private let arena: UnsafeMutableRawBufferPointer
    private var arenaUsed = 0
    /// The number of values bound so far.
    private(set) var count: CInt = 0
    /// The first binding's error code, if any (SQLite reports range and memory errors).
    private(set) var failure: CInt = SQLITE_OK

    fileprivate init(_ handle: SQLiteStatement, arena: UnsafeMutableRawBufferPointer) {
        self.handle = handle
        self.arena = arena
    }

    /// `bytes` copied into the arena, or nil when they do not fit (then SQLite copies them).
    private mutating func kept(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawPointer? {
        guard let base = arena.baseAddress, let source = bytes.baseAddress, bytes.count <= arena.count - arenaUsed else { return nil }
        let copy = base + arenaUsed
        copy.copyMemory(from: source, byteCount: bytes.count)
        arenaUsed += bytes.count
        return UnsafeRawPointer(copy)
    }

    private mutating func next(_ bind: (SQLiteStatement, CInt) -> CInt) {
        count += 1
        let code = bind(handle, count)
        if code != SQLITE_OK && failure == SQLITE_OK { failure = code }
    }

    /// Binds text (the string's UTF-8 bytes).
    public mutating func bind(_ text: String) {
        var text = text
        text.withUTF8 { bind(utf8: $0) }
    }

    /// Binds text, or NULL for nil.
    public mutating func bind(_ text: String?) {
        if let text { bind(text) } else { bindNull() }
    }

    /// Binds a record id's text form, made on the stack rather than as a `String`.
    public mutating func bind(_ id: RecordID) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: RecordID.textLength) { buffer in
            id.writeText(into: buffer)
            bind(utf8: UnsafeBufferPointer(buffer))
        }
    }

    /// Binds UTF-8 bytes as text.
    public mutating func bind(text utf8: [UInt8]) {
        utf8.withUnsafeBufferPointer { bind(utf8: $0) }
    }

    private mutating func bind(utf8: UnsafeBufferPointer<UInt8>) {
        // An empty buffer may have no address, which SQLite would take for NULL.
        guard !utf8.isEmpty else { return next { sqlite3_bind_text($0, $1, "", 0, transient) } }
        if let copy = kept(UnsafeRawBufferPointer(utf8)) {
            next { sqlite3_bind_text($0, $1, copy.assumingMemoryBound(to: CChar.self), CInt(utf8.count), sqliteStatic) }
        } else {
            next { handle, index in
                utf8.withMemoryRebound(to: CChar.self) { sqlite3_bind_text(handle, index, $0.baseAddress, CInt($0.count), transient) }
            }
        }
    }

    /// Binds bytes as a blob (an empty blob, not NULL, for no bytes).
    public mutating func bind(blob bytes: [UInt8]) {
        guard !bytes.isEmpty else { return next { sqlite3_bind_zeroblob($0, $1, 0) } }
        if let copy = bytes.withUnsafeBytes({ kept($0) }) {
            next { sqlite3_bind_blob($0, $1, copy, CInt(bytes.count), sqliteStatic) }
        } else {
            next { handle, index in
                bytes.withUnsafeBytes { sqlite3_bind_blob(handle, index, $0.baseAddress, CInt($0.count), transient) }
            }
        }
    }

    /// Binds an integer.
    public mutating func bind(_ value: Int64) {
        next { sqlite3_bind_int64($0, $1, value) }
    }

    /// Binds an integer (as SQLite's 64-bit one).
    public mutating func bind(_ value: Int) {
        bind(Int64(value))
    }

    /// Binds an integer, or NULL for nil.
    public mutating func bind(_ value: Int?) {
        if let value { bind(Int64(value)) } else { bindNull() }
    }

    /// Binds 1 for true, 0 for false (SQLite has no boolean type).
    public mutating func bind(_ value: Bool) {
        bind(Int64(value ? 1 : 0))
    }

    /// Binds NULL.
    public mutating func bindNull() {
        next { sqlite3_bind_null($0, $1) }
    }
}

/// SQLite's `SQLITE_TRANSIENT`: copy the value now (the C macro does not import into Swift).
private let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
/// SQLite's `SQLITE_STATIC`: the value stays where it is until the statement is done with it
/// (values in a `StatementBindings` arena).
private let sqliteStatic: sqlite3_destructor_type? = nil

/// One result row of `Statement.forEachRow(binding:_:)`, valid only during the call it is
/// passed to.
struct StatementRow {
    fileprivate let handle: SQLiteStatement

    /// Column `index` as bytes (text or blob); empty for NULL.
    func bytes(at index: CInt) -> [UInt8] {
        guard let base = sqlite3_column_blob(handle, index) else { return [] }
        return [UInt8](UnsafeRawBufferPointer(start: base, count: Int(sqlite3_column_bytes(handle, index))))
    }

    /// Column `index` as a record id; nil unless it holds one's text form.
    func recordID(at index: CInt) -> RecordID? {
        guard let base = sqlite3_column_text(handle, index) else { return nil }
        return RecordID.parse(bytes: UnsafeBufferPointer(start: base, count: Int(sqlite3_column_bytes(handle, index))))
    }
}

extension Statement {
    /// Runs this statement, which returns no rows, with the values `bind` binds, one per
    /// parameter in order. It runs inside whatever transaction the caller holds, like
    /// `execute(arguments:)`, and throws GRDB's `DatabaseError` the same way.
    public func execute(binding bind: (inout StatementBindings) -> Void) throws {
        try forEachRow(binding: bind) { _ in }
    }

    /// Runs this query with the values `bind` binds and calls `body` with each result row.
    func forEachRow(binding bind: (inout StatementBindings) -> Void, _ body: (StatementRow) throws -> Void) throws {
        // Room for a record's columns (its state is ~0.5-2 KB); larger values SQLite copies.
        try withUnsafeTemporaryAllocation(byteCount: 8192, alignment: 8) { arena in
            try forEachRow(binding: bind, arena: arena, body)
        }
    }

    private func forEachRow(binding bind: (inout StatementBindings) -> Void, arena: UnsafeMutableRawBufferPointer,
                            _ body: (StatementRow) throws -> Void) throws {
        let handle = sqliteStatement
        sqlite3_reset(handle)
        // Reset when done (or failed) so the statement holds no lock between uses, and clear
        // the values bound: those in `arena` are gone when this returns.
        defer {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
        }
        var bindings = StatementBindings(handle, arena: arena)
        bind(&bindings)
        let parameters = sqlite3_bind_parameter_count(handle)
        guard bindings.count == parameters else {
            throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "\(bindings.count) values bound to \(parameters) parameters", sql: sql)
        }
        var code = bindings.failure
        while code == SQLITE_OK {
            code = sqlite3_step(handle)
            if code == SQLITE_ROW {
                try body(StatementRow(handle: handle))
                code = SQLITE_OK
            }
        }
        guard code == SQLITE_DONE else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(sqlite3_db_handle(handle))), sql: sql)
        }
    }
}
