import CaseSyncTestSupport
import Foundation
import Testing

/// The real `casesyncd` against clients that hold connections open without finishing a
/// request: each must be cut off by the configured timeouts, and the node must stay healthy.
@Suite(.serialized)
struct HostileConnectionTests {
    @Test func connectionsThatSendNothingOrAHalfHeaderOrAShortBodyAreClosedAfterTheIdleTimeout() throws {
        let daemon = DaemonProcess()
        defer { daemon.remove() }
        try daemon.start(options: ["--idle-timeout", "1s"])

        let silent = try RawConnection(port: daemon.port)
        let halfHeader = try RawConnection(port: daemon.port)
        halfHeader.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        let shortBody = try RawConnection(port: daemon.port)
        shortBody.send("POST /v1/enroll HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"token\":")

        for (name, connection) in [("silent", silent), ("half header", halfHeader), ("short body", shortBody)] {
            let (_, closed) = connection.readUntilClosed(timeout: .seconds(15))
            #expect(closed, "the \(name) connection is still open long after the 1 s idle timeout")
        }
        // A well-behaved request on a fresh connection is still answered.
        let healthy = try RawConnection(port: daemon.port)
        healthy.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        #expect(healthy.readUntilClosed(timeout: .seconds(10)).text.contains(#"{"status":"ok"}"#))
        #expect(daemon.stop() == 0)
    }

    @Test func aBodyTrickledByteByByteIsRefusedAfterTheBodyTimeout() throws {
        let daemon = DaemonProcess()
        defer { daemon.remove() }
        try daemon.start(options: ["--idle-timeout", "5s", "--body-timeout", "2s"])

        let trickle = try RawConnection(port: daemon.port)
        trickle.send("POST /v1/enroll HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
        // One byte every 300 ms keeps the connection from ever being idle.
        let start = ContinuousClock.now
        var answer = ""
        while ContinuousClock.now - start < .seconds(20) {
            guard trickle.send(" ") else { break }
            let (text, closed) = trickle.readUntilClosed(timeout: .milliseconds(300))
            answer += text
            if closed || answer.contains("\r\n\r\n") { break }
        }
        #expect(answer.hasPrefix("HTTP/1.1 408"), "answer: \(answer.prefix(200))")
        #expect(answer.contains(#""code":"timeout""#))
        #expect(ContinuousClock.now - start < .seconds(15))
        #expect(daemon.stop() == 0)
    }
}
