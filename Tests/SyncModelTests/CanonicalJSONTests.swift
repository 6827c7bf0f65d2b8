import Foundation
import Testing
@testable import SyncModel

struct CanonicalJSONTests {
    @Test func aStateEncodesToTheDocumentedCanonicalBytes() throws {
        var state = try Fixtures.newCase(title: "Quote \" back\\slash, Müller 🙂")
        try state.apply([.add("mediators", "bob"), .add("mediators", "ann"), .set("outcome", .text("line one\nline\ttwo"))], stamp: Fixtures.stamp("ann-laptop", 2, at: 0))
        let expected = #"{"fields":{"mediators":{"ann":[{"at":2000,"dot":["ann-laptop",2]}],"bob":[{"at":2000,"dot":["ann-laptop",2]}]},"#
            + #""outcome":[{"at":2000,"dot":["ann-laptop",2],"value":"line one\nline\ttwo"}],"#
            + #""reference":[{"at":1763800001000,"dot":["ann-laptop",1],"value":"MED-2026-0000-0001"}],"#
            + #""status":[{"at":1763800001000,"dot":["ann-laptop",1],"value":"intake"}],"#
            + #""title":[{"at":1763800001000,"dot":["ann-laptop",1],"value":"Quote \" back\\slash, Müller 🙂"}]},"#
            + #""id":"0192f0c4-7d3e-7a41-9b2c-000000000001","type":"case","vv":{"ann-laptop":2}}"#
        #expect(state.canonicalText == expected)
    }

    /// A receiver may keep the bytes of a state that arrived canonical instead of encoding it
    /// again; one that arrived in another spelling gets no bytes.
    @Test func aReceivedStateKeepsItsBytesOnlyWhenTheyAreCanonical() throws {
        let state = try Fixtures.newCase(title: "Müller 🙂")
        let canonical = state.canonicalJSON()
        let spaced = Array(String(decoding: canonical, as: UTF8.self).replacingOccurrences(of: ",", with: ", ").utf8)
        // Whitespace around the value is JSON's, not the state's: the bytes kept are the value's.
        let padded = Array(" \n".utf8) + canonical + Array("\t ".utf8)
        for (bytes, kept) in [(canonical, true), (padded, true), (spaced, false)] {
            let received = try JSONReader.read(bytes) { reader throws(ModelError) in try RecordState.readReceived(from: &reader) }
            #expect(received.state == state)
            #expect(received.canonicalJSON == (kept ? canonical : nil))
        }
    }

    @Test func decodingAnySpellingAndReEncodingGivesTheCanonicalBytes() throws {
        let state = try Fixtures.newCase(title: "Müller 🙂")
        let loose = """
        {
          "vv": {"ann-laptop": 1},
          "type": "case",
          "id": "0192f0c4-7d3e-7a41-9b2c-000000000001",
          "fields": {
            "title": [{"value": "M\\u00fcller \\ud83d\\ude42", "dot": ["ann-laptop", 1], "at": 1763800001000}],
            "status": [{"at": 1763800001000, "dot": ["ann-laptop", 1], "value": "intake"}],
            "reference": [{"at": 1763800001000, "dot": ["ann-laptop", 1], "value": "MED-2026-0000-0001"}]
          }
        }
        """
        let decoded = try RecordState(json: Array(loose.utf8))
        #expect(decoded == state)
        #expect(decoded.canonicalJSON() == state.canonicalJSON())
        #expect(try RecordState(json: state.canonicalJSON()) == state)
    }

    @Test("malformed JSON is refused with malformed_json", arguments: [
        "", "{", "[]", "{\"id\":\"0192f0c4-7d3e-7a41-9b2c-000000000001\",\"type\":\"case\",\"vv\":{}} x",
        "{\"id\":\"0192f0c4-7d3e-7a41-9b2c-000000000001\",\"type\":\"case\",\"vv\":{},\"extra\":1}",
        "{\"id\":\"0192f0c4-7d3e-7a41-9b2c-000000000001\",\"id\":\"0192f0c4-7d3e-7a41-9b2c-000000000001\",\"type\":\"case\",\"vv\":{}}",
        "{\"type\":\"case\",\"vv\":{}}",
        "{\"id\":\"0192f0c4-7d3e-7a41-9b2c-000000000001\",\"type\":\"case\",\"vv\":{\"a\":01}}",
        "{\"id\":\"0192f0c4-7d3e-7a41-9b2c-000000000001\",\"type\":\"case\",\"vv\":{\"a\":1.5}}",
        "{\"id\":\"0192f0c4-7d3e-7a41-9b2c-000000000001\",\"type\":\"case\",\"vv\":{\"a\":9999999999999999999}}",
        "{\"id\":\"0192f0c4-7d3e-7a41-9b2c-000000000001\",\"type\":\"case\",\"vv\":{\"a\":1,\"a\":2}}",
        "{\"id\":\"0192f0c4-7d3e-7a41-9b2c-000000000001\",\"type\":\"case\",\"vv\":{\"a\":1},\"fields\":{\"title\":[{\"at\":1,\"dot\":[\"a\",1],\"value\":\"\\ud800\"}]}}",
        "{\"id\":\"0192f0c4-7d3e-7a41-9b2c-000000000001\",\"type\":\"case\",\"vv\":{\"a\":1},\"fields\":{\"title\":[{\"at\":1,\"dot\":[\"a\",1],\"value\":\"tab\there\"}]}}",
        String(repeating: "[", count: 200),
    ])
    func malformed(text: String) {
        #expect { try RecordState(json: Array(text.utf8)) } throws: { ($0 as? ModelError)?.code == .malformedJSON }
    }

    @Test func containerErrorsNameWhatWasExpected() {
        func message(_ text: String) -> String {
            do {
                _ = try RecordState(json: Array(text.utf8))
                return "decoded"
            } catch {
                return error.message
            }
        }
        let id = "\"id\":\"0192f0c4-7d3e-7a41-9b2c-000000000001\""
        #expect(message("{\(id),\"vv\":{\"a\":1 \"b\":2}}").contains("expected ',' or '}' in an object"))
        #expect(message("{\(id),\"vv\":{\"a\":1").contains("unterminated object"))
        #expect(message("{\(id) \"type\":\"case\"}").contains("expected ',' or '}' in an object"))
        #expect(message("{\(id),\"fields\":{\"title\":[{\"at\":1,\"dot\":[\"a\" 1],\"value\":\"x\"}]}}").contains("expected ',' or ']' in an array"))
        #expect(message("{\(id),\"deleted\":[").contains("expected an object"))
        #expect(message("{\(id),\"deleted\":{}}").contains("expected an array"))
    }

    @Test func invalidUTF8IsRefused() {
        var bytes = Array(#"{"id":"0192f0c4-7d3e-7a41-9b2c-000000000001","type":"case","vv":{"a":1},"fields":{"title":[{"at":1,"dot":["a",1],"value":"x"#.utf8)
        bytes += [0xC3, 0x28] + Array(#""}]}}"#.utf8)
        #expect { try RecordState(json: bytes) } throws: { ($0 as? ModelError)?.code == .malformedJSON }
    }

    @Test func controlCharactersUseTheShortestEscape() {
        var writer = CanonicalJSONWriter()
        writer.string("a\u{1}b\u{8}\u{1F}/é")
        #expect(String(decoding: writer.bytes, as: UTF8.self) == #""a\u0001b\b\u001f/é""#)
    }

    @Test func integersRoundTripAtTheEdgesOfTheirRange() throws {
        for value in [0, 7, 10, 99, 1_000_000, Dot.maxCounter, -42] {
            var writer = CanonicalJSONWriter()
            writer.integer(value)
            #expect(String(decoding: writer.bytes, as: UTF8.self) == String(value))
            #expect(try JSONReader.read(writer.bytes) { reader throws(ModelError) in try reader.readInteger() } == value)
        }
    }

    /// The fast reader reads numbers by whole words: times of every length it may meet, and
    /// spellings of them that are not canonical (a leading zero, more than 18 digits, a
    /// fraction), must come out as the general reader reads them, or be left to it.
    @Test func theFastReaderReadsNumbersOfEveryLengthAsTheGeneralReaderDoes() throws {
        func fast(_ text: String) -> RecordState? {
            (try? JSONReader.read(Array(text.utf8)) { reader throws(ModelError) in reader.readCanonicalState() }) ?? nil
        }
        func general(_ text: String) -> RecordState? {
            try? JSONReader.read(Array(text.utf8)) { reader throws(ModelError) in try RecordState.readAnySpelling(from: &reader, validate: false) }
        }
        for digits in 1...18 {
            let time = Int(String(repeating: "7", count: digits))!
            var state = RecordState(type: .case, id: try RecordID("0192f0c4-7d3e-7a41-9b2c-000000000001"))
            try state.apply([.set("title", .text("t"))], stamp: Fixtures.stamp("ann-laptop", 1, at: 0))
            let text = String(decoding: state.canonicalJSON(), as: UTF8.self)
            let spelled = text.replacingOccurrences(of: #""at":\#(state.table.writes[0].time)"#, with: #""at":\#(time)"#)
            let expected = try #require(general(spelled))
            #expect(expected.table.writes[0].time == Int64(time))
            #expect(fast(spelled) == expected, "\(digits) digits")
            // One digit more is still a number (19 digits are too many for either reader).
            let longer = spelled.replacingOccurrences(of: #""at":\#(time)"#, with: #""at":\#(time)7"#)
            #expect(fast(longer) == general(longer), "\(digits + 1) digits")
            #expect((general(longer) == nil) == (digits == 18))
            for variant in ["0\(time)", "\(time).0", "\(time)e0"] {
                let mutant = spelled.replacingOccurrences(of: #""at":\#(time)"#, with: #""at":\#(variant)"#)
                #expect(fast(mutant) == nil, "\(variant) is not canonical")
            }
        }
    }

    /// The fast reader matches a device id it has met before by its bytes (for the first four
    /// devices of a state): states with many devices, met in any order, and a version naming
    /// devices whose writes were all overwritten, read as the general reader reads them.
    @Test func theFastReaderMapsEveryDeviceOfAState() throws {
        let devices = ["f-dev", "b-dev", "e-dev", "a-dev", "d-dev", "c-dev"]
        let ownFields: [(String, String)?] = [nil, ("outcome", "x"), ("objectives", "x"), ("successCriteria", "x"), ("closed", "2026-01-04"), ("kind", "other")]
        let base = RecordState(type: .case, id: try RecordID("0192f0c4-7d3e-7a41-9b2c-000000000001"))
        var replicas = devices.map { _ in base }
        for (index, device) in devices.enumerated() {
            // Each device writes `title` (and but the first a field of its own), having seen
            // the one before: `title` ends with the last device's write, so the first device
            // lives on only in the version.
            if index > 0 { replicas[index] = try replicas[index].merged(with: replicas[index - 1]) }
            let own = ownFields[index].map { FieldChange.set($0.0, .text($0.1)) }
            try replicas[index].apply([.set("title", .text("by \(device)"))] + (own.map { [$0] } ?? []), stamp: Fixtures.stamp(device, index + 1, at: 0))
        }
        // A concurrent write of another device, so `title` holds a conflict.
        var concurrent = base
        try concurrent.apply([.set("title", .text("concurrent"))], stamp: Fixtures.stamp("zz-dev", 1, at: 0))
        let state = try replicas[devices.count - 1].merged(with: concurrent)
        let bytes = state.canonicalJSON()
        let fast = try JSONReader.read(bytes) { reader throws(ModelError) in reader.readCanonicalState() }
        #expect(fast == state)
        #expect(fast?.version.dots.count == devices.count + 1)
        #expect(fast?.table.devices == state.table.devices)
        #expect(state.table.devices.count == devices.count)  // zz-dev in, f-dev out
    }

    /// The fast reader for canonical bytes must accept only what the general reader reads
    /// the same way, or a crafted state could mean one thing to it and another to a replica
    /// that took the general path. States from random histories are each mutated many
    /// times (bytes replaced, dropped, doubled, inserted); whenever the fast reader accepts
    /// a mutant, the general reader must accept it too and decode an equal state.
    @Test("the canonical fast reader agrees with the general reader", arguments: Array(0..<6))
    func canonicalReaderAgreesWithTheGeneralReader(chunk: Int) throws {
        func fast(_ bytes: [UInt8]) -> RecordState? {
            (try? JSONReader.read(bytes) { reader throws(ModelError) in reader.readCanonicalState() }) ?? nil
        }
        func general(_ bytes: [UInt8]) -> RecordState? {
            try? JSONReader.read(bytes) { reader throws(ModelError) in try RecordState.readAnySpelling(from: &reader, validate: false) }
        }
        let interesting = Array(#""\,:{}[]0123456789-.eEtf a"#.utf8) + [0x01, 0x1F, 0x7F, 0x80, 0xC3, 0xA9, 0xFF]
        var generator = SeededGenerator(seed: 0xC0DE + UInt64(chunk))
        var accepted = 0
        var mutantsAccepted = 0
        for seed in UInt64(chunk * 20)..<UInt64(chunk * 20 + 20) {
            var simulation = Simulation(seed: seed, devices: 3, records: 2)
            try simulation.run(steps: 60)
            // In id order, so each run mutates the same states the same way.
            let states = simulation.replicas.flatMap { $0.states.sorted { $0.key < $1.key }.map(\.value) }
                + simulation.snapshots.sorted { $0.key < $1.key }.flatMap(\.value)
            for state in states {
                let bytes = state.canonicalJSON()
                // It declines tombstones and escapes (the general reader takes those).
                if state.deletion.isEmpty, !bytes.contains(UInt8(ascii: "\\")) {
                    #expect(fast(bytes) == state, "seed \(seed): canonical bytes not read by the fast reader")
                    accepted += 1
                }
                for _ in 0..<40 {
                    var mutant = bytes
                    let at = Int.random(in: 0..<mutant.count, using: &generator)
                    switch Int.random(in: 0..<4, using: &generator) {
                    case 0: mutant[at] = interesting.randomElement(using: &generator)!
                    case 1: mutant.remove(at: at)
                    case 2: mutant.insert(contentsOf: mutant[at..<min(mutant.count, at + Int.random(in: 1...12, using: &generator))], at: at)
                    default: mutant.insert(interesting.randomElement(using: &generator)!, at: at)
                    }
                    guard let read = fast(mutant) else { continue }
                    mutantsAccepted += 1
                    let expected = general(mutant)
                    #expect(expected == read, "seed \(seed): fast and general readers disagree on \(String(decoding: mutant, as: UTF8.self))")
                    // Whitespace before the value is no part of it (`readReceived` keeps the
                    // bytes from the value's first byte).
                    let value = Array(mutant.drop { [0x20, 0x09, 0x0A, 0x0D].contains($0) })
                    #expect(read.canonicalJSON() == value, "seed \(seed): accepted bytes that are not canonical: \(String(decoding: mutant, as: UTF8.self))")
                }
            }
        }
        #expect(accepted > 50, "only \(accepted) states were read by the fast reader")
        #expect(mutantsAccepted > 0, "no mutant was accepted, so nothing was compared")
    }
}
