/// A fast reader for record states spelled exactly in canonical form (PROTOCOL.md §2), which
/// is how every replica writes them. What it accepts is byte for byte the canonical JSON of
/// the state it returns, so a receiver may keep those bytes instead of encoding again.
///
/// It matches the fixed keys and punctuation byte for byte and gives up (returns nil) at the
/// first byte that is not canonical: whitespace, a different key order, an escape, a field,
/// element, entry or device out of order, a tombstone, or anything invalid. The caller then
/// reads the state again with the general `JSONReader` path, which accepts any spelling and
/// names any error. So this reader only has to be right about what it accepts: it produces
/// exactly the state the general path would, and it never throws.
///
/// The fields it reads go to a `FieldScratch` on the stack, and from there into one storage
/// of exactly their size.
struct CanonicalStateReader {
    private let buffer: UnsafeBufferPointer<UInt8>
    private(set) var position: Int
    private var scratch: FieldScratch
    /// The bytes of the last device id read, to map a run of one device's dots quickly.
    private var lastDevice: (start: Int, count: Int, index: UInt32)?
    /// Where the first devices of the table were read (`start << 8 | count`), by index: an
    /// id met again (in another field, or in the version) is matched by its bytes instead
    /// of being checked and made into a string again.
    private var deviceSpans = SIMD4<Int>()
    private var knownDevices = 0

    private init(_ buffer: UnsafeBufferPointer<UInt8>, at position: Int, scratch: FieldScratch) {
        self.buffer = buffer
        self.position = position
        self.scratch = scratch
    }

    /// Reads the state at `position` of `buffer` with scratch memory on the stack; nil if it
    /// is not spelled canonically. `position` moves past the state only when it is read.
    static func read(_ buffer: UnsafeBufferPointer<UInt8>, at position: inout Int) -> RecordState? {
        // A text value is kept as a range of the buffer packed in 32-bit halves.
        guard buffer.count < 1 << 31 else { return nil }
        return withUnsafeTemporaryAllocation(of: FieldSlot.self, capacity: FieldScratch.slotCapacity) { slots in
            withUnsafeTemporaryAllocation(of: FlatWrite.self, capacity: FieldScratch.lentWriteCapacity) { writes in
                var reader = CanonicalStateReader(buffer, at: position, scratch: FieldScratch(slots: slots.baseAddress!, writes: writes.baseAddress!))
                defer { reader.scratch.release() }
                guard let state = reader.read() else { return nil }
                position = reader.position
                return state
            }
        }
    }

    /// The state at the position, or nil if it is not spelled canonically.
    private mutating func read() -> RecordState? {
        guard literal("{\"fields\":{") else { return nil }
        if !next(is: UInt8(ascii: "}")) {
            var previousName: UInt16?
            repeat {
                guard readField(after: &previousName) else { return nil }
            } while next(is: UInt8(ascii: ","))
        }
        guard literal("},\"id\":\""), position + 37 <= buffer.count,
              let id = RecordID.parse(bytes: UnsafeBufferPointer(rebasing: buffer[position..<(position + 36)])) else { return nil }
        position += 36
        guard literal("\",\"type\":"), let type = readType(), literal(",\"vv\":{"), let version = readVersion(),
              next(is: UInt8(ascii: "}")) else { return nil }
        var state = RecordState(type: type, id: id)
        state.version = version
        state.table = scratch.finish(input: buffer)
        return state
    }

    // MARK: Fields

    /// `"name":[entries]` or `"name":{elements}`, names strictly increasing. A name the
    /// schema does not know is left to the general path (it makes the state invalid).
    private mutating func readField(after previous: inout UInt16?) -> Bool {
        guard let name = readPlainString(), next(is: UInt8(ascii: ":")), position < buffer.count else { return false }
        // The name is packed by loading words when 24 bytes may be read from it (they may
        // everywhere but at the end of the buffer).
        let known = name.count <= 24 && name.lowerBound + 24 <= buffer.count
            ? FieldNames.index(of: PackedName(loading: buffer.baseAddress! + name.lowerBound, count: name.count))
            : FieldNames.index(of: UnsafeBufferPointer(rebasing: buffer[name]))
        // Known names are numbered in byte order.
        guard let known, previous.map({ $0 < known }) ?? true else { return false }
        previous = known
        let isSet = buffer[position] == UInt8(ascii: "{")
        guard isSet || buffer[position] == UInt8(ascii: "[") else { return false }
        position += 1
        let slot = scratch.beginField(known: known, isSet: isSet)
        if isSet {
            guard readElements() else { return false }
        } else {
            guard readWrites(element: nil), next(is: UInt8(ascii: "]")) else { return false }
        }
        return scratch.endField(slot)
    }

    /// `"element":[stamps],…}`, elements strictly increasing by bytes.
    private mutating func readElements() -> Bool {
        if next(is: UInt8(ascii: "}")) { return true }
        var previous: Range<Int>?
        repeat {
            guard let element = readPlainString(), literal(":[") else { return false }
            if let previous {
                let order = compareText(UnsafeBufferPointer(rebasing: buffer[previous]), UnsafeBufferPointer(rebasing: buffer[element]))
                guard order < 0 else { return false }
            }
            previous = element
            let range = scratch.text(UnsafeBufferPointer(rebasing: buffer[element]), in: buffer.baseAddress!)
            guard readWrites(element: range), next(is: UInt8(ascii: "]")) else { return false }
        } while next(is: UInt8(ascii: ","))
        return next(is: UInt8(ascii: "}"))
    }

    /// One or more write objects separated by commas, strictly increasing by dot.
    private mutating func readWrites(element: TextRange?) -> Bool {
        var previous: (device: Int, counter: Int)?
        repeat {
            guard literal("{\"at\":"), let time = readInteger(allowNegative: false),
                  literal(",\"dot\":[\""), let device = readDevice(), next(is: UInt8(ascii: ",")),
                  let counter = readInteger(allowNegative: false), counter >= 1, next(is: UInt8(ascii: "]")) else { return false }
            var write = FlatWrite(counter: counter, time: Int64(time), payload: element?.packed ?? 0, device: device, kind: .text)
            if element == nil {
                guard literal(",\"value\":"), readValue(into: &write) else { return false }
            }
            guard next(is: UInt8(ascii: "}")) else { return false }
            // Order by device bytes, then counter: one device run at a time in canonical form.
            let deviceStart = lastDevice!.start
            if let previous {
                let order = previous.device == deviceStart ? 0 : compareDevices(previous.device, deviceStart)
                guard order < 0 || (order == 0 && previous.counter < counter) else { return false }
            }
            previous = (deviceStart, counter)
            scratch.append(write)
        } while next(is: UInt8(ascii: ","))
        return true
    }

    // `always`, not `__always`: with the weaker form the compiler kept this and
    // `readInteger` as calls (seen in the disassembly), and calls cost a per-write prologue.
    @inline(always)
    private mutating func readValue(into write: inout FlatWrite) -> Bool {
        guard position < buffer.count else { return false }
        switch buffer[position] {
        case UInt8(ascii: "\""):
            guard let text = readPlainString() else { return false }
            write.kind = .text
            write.payload = scratch.text(UnsafeBufferPointer(rebasing: buffer[text]), in: buffer.baseAddress!).packed
        case UInt8(ascii: "t"):
            guard literal("true") else { return false }
            write.kind = .boolean
            write.payload = 1
        case UInt8(ascii: "f"):
            guard literal("false") else { return false }
            write.kind = .boolean
            write.payload = 0
        default:
            guard let number = readInteger(allowNegative: true) else { return false }
            write.kind = .integer
            write.payload = Int64(number)
        }
        return true
    }

    // MARK: Devices, type and version

    /// A device id string (then its closing quote); its index in the table being built.
    @inline(__always)
    private mutating func readDevice() -> UInt32? {
        let start = position
        if let last = lastDevice, start + last.count < buffer.count, buffer[start + last.count] == UInt8(ascii: "\""),
           sameBytes(at: last.start, and: start, count: last.count) {
            position += last.count + 1
            lastDevice = (start, last.count, last.index)
            return last.index
        }
        while position < buffer.count, buffer[position] != UInt8(ascii: "\"") { position += 1 }
        guard position < buffer.count else { return nil }
        let count = position - start
        position += 1
        if let index = knownDevice(at: start, count: count) {
            lastDevice = (start, count, index)
            return index
        }
        let bytes = UnsafeBufferPointer(rebasing: buffer[start..<(start + count)])
        guard DeviceID.isValid(bytes) else { return nil }
        let index = scratch.device(DeviceID(unchecked: String(decoding: bytes, as: UTF8.self)))
        if Int(index) == knownDevices, knownDevices < deviceSpans.scalarCount {
            deviceSpans[knownDevices] = start << 8 | count
            knownDevices += 1
        }
        lastDevice = (start, count, index)
        return index
    }

    /// The index of the device whose id is the `count` bytes at `start`, if it was met before
    /// (and is one of the first four).
    @inline(__always)
    private func knownDevice(at start: Int, count: Int) -> UInt32? {
        for index in 0..<knownDevices {
            let span = deviceSpans[index]
            if span & 0xFF == count, sameBytes(at: span >> 8, and: start, count: count) { return UInt32(index) }
        }
        return nil
    }

    /// Whether the `count` bytes at two offsets are the same (device ids are short: words
    /// rather than a call to `memcmp`).
    @inline(__always)
    private func sameBytes(at left: Int, and right: Int, count: Int) -> Bool {
        let base = UnsafeRawPointer(buffer.baseAddress!)
        var offset = 0
        while offset + 8 <= count {
            guard base.loadUnaligned(fromByteOffset: left + offset, as: UInt64.self) == base.loadUnaligned(fromByteOffset: right + offset, as: UInt64.self) else { return false }
            offset += 8
        }
        while offset < count {
            guard buffer[left + offset] == buffer[right + offset] else { return false }
            offset += 1
        }
        return true
    }

    /// Byte order of the device ids starting at two offsets (each ends at a quote).
    @inline(__always)
    private func compareDevices(_ left: Int, _ right: Int) -> Int {
        var offset = 0
        while true {
            let leftByte = buffer[left + offset]
            let rightByte = buffer[right + offset]
            if leftByte != rightByte {
                if leftByte == UInt8(ascii: "\"") { return -1 }
                if rightByte == UInt8(ascii: "\"") { return 1 }
                return leftByte < rightByte ? -1 : 1
            }
            if leftByte == UInt8(ascii: "\"") { return 0 }
            offset += 1
        }
    }

    private mutating func readType() -> RecordType? {
        guard let name = readPlainString() else { return nil }
        let bytes = UnsafeBufferPointer(rebasing: buffer[name])
        for type in RecordType.allCases where compareText(type.rawValue, bytes) == 0 { return type }
        return nil
    }

    /// `"device":counter,…}` with devices strictly increasing and counters ≥ 1.
    private mutating func readVersion() -> VersionVector? {
        var dots: [Dot] = []
        if next(is: UInt8(ascii: "}")) { return VersionVector(sortedUnique: dots) }
        dots.reserveCapacity(max(1, scratch.devices.count))
        var previous: Range<Int>?
        repeat {
            guard let device = readPlainString(), next(is: UInt8(ascii: ":")),
                  let counter = readInteger(allowNegative: false), counter >= 1 else { return nil }
            let bytes = UnsafeBufferPointer(rebasing: buffer[device])
            if let previous {
                guard compareText(UnsafeBufferPointer(rebasing: buffer[previous]), bytes) < 0 else { return nil }
            }
            previous = device
            if let known = knownDevice(at: device.lowerBound, count: device.count) {
                dots.append(Dot(device: scratch.devices[Int(known)], counter: counter))
            } else {
                guard DeviceID.isValid(bytes) else { return nil }
                dots.append(Dot(device: DeviceID(unchecked: String(decoding: bytes, as: UTF8.self)), counter: counter))
            }
        } while next(is: UInt8(ascii: ","))
        guard next(is: UInt8(ascii: "}")) else { return nil }
        return VersionVector(sortedUnique: dots)
    }

    // MARK: Tokens

    /// A string with no escapes and no control characters, valid UTF-8; the range of its
    /// bytes (quotes excluded).
    @inline(__always)
    private mutating func readPlainString() -> Range<Int>? {
        guard next(is: UInt8(ascii: "\"")) else { return nil }
        let run = JSONReader.plainRun(in: buffer, from: position)
        guard run.end < buffer.count, buffer[run.end] == UInt8(ascii: "\"") else { return nil }
        let range = position..<run.end
        if !run.asciiOnly, !JSONReader.isValidUTF8(UnsafeBufferPointer(rebasing: buffer[range])) { return nil }
        position = run.end + 1
        return range
    }

    /// A whole number as the general reader accepts it: at most 18 digits, no leading zero,
    /// not followed by a fraction or exponent.
    @inline(always)
    private mutating func readInteger(allowNegative: Bool) -> Int? {
        var negative = false
        if allowNegative, position < buffer.count, buffer[position] == UInt8(ascii: "-") {
            negative = true
            position += 1
        }
        let start = position
        var value = 0
        // Up to sixteen digits by whole words (a time has thirteen); the byte loop below
        // reads on to at most 18 digits, and reads numbers at the end of the buffer.
        if position + 16 <= buffer.count {
            let first = ByteWord.load(buffer, at: position)
            let digits = ByteWord.leadingDigits(first)
            if digits == 8 {
                let second = ByteWord.load(buffer, at: position + 8)
                let more = ByteWord.leadingDigits(second)
                value = ByteWord.decimalValue(first, digits: 8)
                if more > 0 { value = value &* Self.powerOfTen(more) &+ ByteWord.decimalValue(second, digits: more) }
                position += 8 + more
            } else if digits > 0 {
                value = ByteWord.decimalValue(first, digits: digits)
                position += digits
            }
        }
        while position < buffer.count, buffer[position].isDigit, position - start < 18 {
            value = value &* 10 &+ Int(buffer[position] &- UInt8(ascii: "0"))  // at most 18 digits: no overflow
            position += 1
        }
        let digits = position - start
        guard digits > 0, !(digits > 1 && buffer[start] == UInt8(ascii: "0")) else { return nil }
        if position < buffer.count {
            let byte = buffer[position]
            guard !byte.isDigit, byte != UInt8(ascii: "."), byte != UInt8(ascii: "e"), byte != UInt8(ascii: "E") else { return nil }
        }
        if negative, value == 0 { return nil }  // "-0" is JSON, but not canonical
        return negative ? -value : value
    }

    /// 10 to the power `exponent` (1...8), from a table the compiler builds.
    @inline(__always)
    private static func powerOfTen(_ exponent: Int) -> Int {
        switch exponent {
        case 1: 10
        case 2: 100
        case 3: 1_000
        case 4: 10_000
        case 5: 100_000
        case 6: 1_000_000
        case 7: 10_000_000
        default: 100_000_000
        }
    }

    @inline(__always)
    private mutating func next(is byte: UInt8) -> Bool {
        guard position < buffer.count, buffer[position] == byte else { return false }
        position += 1
        return true
    }

    @inline(__always)
    private mutating func literal(_ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard position + count <= buffer.count else { return false }
        let base = text.utf8Start
        if count >= 8 {
            // Two (perhaps overlapping) words cover 8 to 16 bytes.
            let here = UnsafeRawPointer(buffer.baseAddress! + position)
            let expected = UnsafeRawPointer(base)
            guard here.loadUnaligned(as: UInt64.self) == expected.loadUnaligned(as: UInt64.self),
                  here.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self) == expected.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self),
                  count <= 16 || (8..<count).allSatisfy({ buffer[position + $0] == base[$0] }) else { return false }
        } else {
            for offset in 0..<count where buffer[position + offset] != base[offset] { return false }
        }
        position += count
        return true
    }
}
