import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A lock on a data folder (`flock` on a file in it). `serve` holds `casesyncd.lock`
/// exclusive for as long as it runs and `restore` while it swaps the database, so a restore
/// never replaces the database under a running node and two nodes never serve one folder.
/// Administration commands hold `admin.lock` shared for their lifetime and `restore` holds it
/// exclusive, so no account change lands in a database being replaced. The kernel drops a
/// lock when its process ends, however it ends.
struct DataFolderLock {
    private let descriptor: Int32

    init(_ directory: URL, file: String, shared: Bool, purpose: String) throws {
        let path = directory.appendingPathComponent(file).path
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw DaemonError(status: .usage, message: "cannot open \(path); check that the data folder exists and is writable by this user")
        }
        guard flock(descriptor, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) == 0 else {
            close(descriptor)
            let what: String
            switch (file, purpose) {
            case ("casesyncd.lock", "serve"): what = "another casesyncd serves \(directory.path); stop it first (e.g. `systemctl stop casesyncd`)"
            case ("casesyncd.lock", _): what = "a casesyncd node is running on \(directory.path); stop it first (e.g. `systemctl stop casesyncd`)"
            case (_, "restore"): what = "an administration command is running on \(directory.path); let it finish and run restore again"
            default: what = "a restore is running on \(directory.path); run this again when it has finished"
            }
            throw DaemonError(status: .usage, message: what)
        }
    }

    func release() {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
