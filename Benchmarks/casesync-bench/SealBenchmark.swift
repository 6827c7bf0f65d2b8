import ArgumentParser
import Crypto
import Foundation
import SyncStore

/// `casesync-bench seal`: what one `RecordSealer.seal` and `open` cost, for a case's list
/// entry (60 bytes) and its state (1 KB), against a bare `AES.GCM.seal` with a fixed nonce:
/// where the write path's encryption cost comes from.
struct SealBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "seal", abstract: "Per-value cost of sealing and opening.")
    @Option(help: "Values per measurement.") var count = 200_000

    func run() throws {
        let sealer = RecordSealer(key: DataKey.random())
        let key = SymmetricKey(size: .bits256)
        let nonce = try AES.GCM.Nonce(data: [UInt8](repeating: 7, count: 12))
        var results: [String] = []
        for size in [60, 1000] {
            let value = [UInt8](repeating: 0x41, count: size)
            var start = ContinuousClock.now
            var last: [UInt8] = []
            for index in 0..<count { last = try sealer.seal(value, place: "record:\(index)") }
            let sealMicros = (ContinuousClock.now - start).seconds * 1e6 / Double(count)
            start = ContinuousClock.now
            for _ in 0..<count { _ = try sealer.open(last, place: "record:\(count - 1)") }
            let openMicros = (ContinuousClock.now - start).seconds * 1e6 / Double(count)
            start = ContinuousClock.now
            for _ in 0..<count { _ = try AES.GCM.seal(value, using: key, nonce: nonce, authenticating: Data("record:1".utf8)) }
            let bareMicros = (ContinuousClock.now - start).seconds * 1e6 / Double(count)
            start = ContinuousClock.now
            for _ in 0..<count { _ = AES.GCM.Nonce() }
            let nonceMicros = (ContinuousClock.now - start).seconds * 1e6 / Double(count)
            print("\(size) bytes: seal \(format(sealMicros)) µs, open \(format(openMicros)) µs, bare AES-GCM seal (fixed nonce) \(format(bareMicros)) µs, random nonce \(format(nonceMicros)) µs")
            results.append(#""seal_\#(size)_us":\#(format(sealMicros)),"open_\#(size)_us":\#(format(openMicros)),"bare_\#(size)_us":\#(format(bareMicros)),"nonce_us":\#(format(nonceMicros))"#)
        }
        print(#"{"bench":"seal",\#(results.joined(separator: ","))}"#)
    }
}
