import Foundation

/// Files the CLI writes for a person or a script (`--out`, `--html`, `--since-file`): the
/// folder is checked before any work is done, and a failed write is one line naming the
/// file and the fix, never Foundation's own text.
enum OutputFile {
    /// Refuses (exit 1) a path whose folder does not exist or is not a folder.
    static func check(_ path: String, option: String) throws {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw CLIError(.usage, "\(option) \(path): the folder \(folder) does not exist; create it or write elsewhere")
        }
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
            throw CLIError(.usage, "\(option) \(path) is a folder; give a file name")
        }
    }

    /// Writes `data` to `path` atomically (a reader never sees half a file).
    static func write(_ data: Data, to path: String, option: String) throws {
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch let error as CocoaError {
            let reason: String
            switch error.code {
            case .fileWriteNoPermission, .fileReadNoPermission: reason = "permission denied; choose a folder you may write to"
            case .fileWriteOutOfSpace: reason = "the disk is full; free space or write elsewhere"
            case .fileNoSuchFile, .fileWriteInvalidFileName: reason = "no such folder; create it or write elsewhere"
            default: reason = "it could not be written; check the folder and free space"
            }
            throw CLIError(.usage, "\(option) \(path): \(reason)")
        } catch {
            throw CLIError(.usage, "\(option) \(path): it could not be written; check the folder and free space")
        }
    }
}
