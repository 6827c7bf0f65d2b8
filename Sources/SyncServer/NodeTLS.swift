import NIOSSL
import SyncProtocol

/// The node's own HTTPS (`casesyncd serve --tls-cert F --tls-key F`): a certificate chain
/// and its private key, PEM files, served with TLS 1.2 or later only (swift-nio-ssl).
public struct NodeTLS: Sendable {
    /// The server configuration, checked: the files are read, and the key matches the
    /// certificate, before the node starts listening.
    public let configuration: TLSConfiguration

    /// Reads and checks the certificate chain at `certificatePath` and the key at `keyPath`.
    /// - Throws: `NodeError(.badParameter)` naming the file and the fix; never NIOSSL's text.
    public init(certificatePath: String, keyPath: String) throws {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificatePath)
        } catch {
            throw NodeError(.badParameter, "cannot read a PEM certificate from --tls-cert \(certificatePath); give the node's certificate (and its chain) in PEM")
        }
        guard !chain.isEmpty else {
            throw NodeError(.badParameter, "--tls-cert \(certificatePath) holds no certificate; give the node's certificate (and its chain) in PEM")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        } catch {
            throw NodeError(.badParameter, "cannot read a PEM private key from --tls-key \(keyPath) (an unencrypted key, readable by the node's user)")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        do {
            // Loading both into a context checks that the key is the certificate's.
            _ = try NIOSSLContext(configuration: configuration)
        } catch {
            throw NodeError(.badParameter, "the key in --tls-key \(keyPath) does not belong to the certificate in --tls-cert \(certificatePath); give the matching pair")
        }
        self.configuration = configuration
    }
}
