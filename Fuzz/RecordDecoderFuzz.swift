// A libFuzzer target over the decoders a sync node runs on bytes from the network: the push
// envelope, the record state reader (its canonical fast path and its general path), the
// validation, and the merge of what they produce. Compiled together with SyncModel's sources
// as one module (see scripts/fuzz.sh), so it reaches internal API too.
//
// Any input may be refused; none may crash, and what is accepted must keep the protocol's
// promises:
// - a valid state's canonical JSON reads back to the same state, and is a fixed point;
// - the canonical fast path and the general reader agree on every input both read;
// - merging valid states of one record is commutative, idempotent and absorbing.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRecordDecoders(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: start.assumingMemoryBound(to: UInt8.self), count: count)
    checkReaders(agreeOn: bytes)
    guard let states = try? PushEnvelope.decode(bytes) else { return 0 }
    var valid: [RecordState] = []
    for received in states {
        guard (try? received.state.validate(requireComplete: false)) != nil else { continue }
        checkRoundTrip(received.state)
        if let canonical = received.canonicalJSON, canonical != received.state.canonicalJSON() {
            fail("bytes kept as canonical are not the state's canonical JSON")
        }
        valid.append(received.state)
    }
    for (index, first) in valid.enumerated() {
        for second in valid[(index + 1)...] where first.id == second.id && first.type == second.type {
            checkMerge(first, second)
        }
    }
    return 0
}

/// The state's canonical JSON reads back to the same state and re-encodes to the same bytes.
func checkRoundTrip(_ state: RecordState) {
    let canonical = state.canonicalJSON()
    guard let again = try? RecordState(json: canonical) else { fail("the canonical JSON of a valid state does not read back") }
    guard again == state else { fail("the canonical JSON of a valid state reads back as another state") }
    guard again.canonicalJSON() == canonical else { fail("canonical JSON is not a fixed point") }
}

/// Where the hand-written canonical reader accepts the input, the general reader accepts it
/// too and reads the same state.
func checkReaders(agreeOn bytes: UnsafeBufferPointer<UInt8>) {
    var fast = JSONReader(bytes)
    guard let state = fast.readCanonicalState() else { return }
    var general = JSONReader(bytes)
    guard let slow = try? RecordState.readAnySpelling(from: &general, validate: false) else {
        fail("the canonical reader accepted bytes the general reader refuses")
    }
    guard slow == state else { fail("the canonical and the general reader read different states") }
}

/// Merge of two valid states of one record: commutative, idempotent, absorbing.
func checkMerge(_ first: RecordState, _ second: RecordState) {
    guard let ab = try? first.merged(with: second), let ba = try? second.merged(with: first) else { return }
    guard ab == ba else { fail("merge is not commutative") }
    guard (try? ab.merged(with: ab)) == ab else { fail("merge is not idempotent") }
    guard (try? ab.merged(with: second)) == ab, (try? ab.merged(with: first)) == ab else { fail("merge does not absorb its inputs") }
    checkRoundTrip(ab)
}

/// A broken promise: crash, so libFuzzer keeps the input. (`fatalError`, not a precondition:
/// it prints its message in an optimised build too. This is the harness, never product code.)
func fail(_ message: String) -> Never {
    fatalError("fuzz: " + message)
}
