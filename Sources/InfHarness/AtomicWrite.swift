// Writing a result file so that a crash, a full disk or a bad path never
// leaves a half-written file behind: write a temporary file next to the
// target, fsync it, then rename it over the target in one step.
import Foundation

/// Atomically replaces (or creates) the file at `path` with `text` (UTF-8).
/// On failure the temporary file is removed, the target is left untouched, and
/// the error is one sentence naming `path`.
public func writeAtomically(_ text: String, to path: String) throws {
    func failure(_ code: Int32) -> HarnessError {
        HarnessError("cannot write results to \(path): \(harnessErrnoText(code)).")
    }
    // The temporary file must sit in the target's directory: rename(2) is only
    // atomic within one file system.
    let directory = (path as NSString).deletingLastPathComponent
    let name = (path as NSString).lastPathComponent
    guard !name.isEmpty else { throw failure(EISDIR) }
    let unique = "\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
    let tempPath = (directory.isEmpty ? "." : directory) + "/.\(name).tmp-\(unique)"

    // O_EXCL: never reuse (and clobber) somebody else's file of the same name.
    let fd = open(tempPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw failure(errno) }
    var closed = false
    var renamed = false
    defer {
        if !closed { close(fd) }
        if !renamed { unlink(tempPath) }
    }

    let bytes = Array(text.utf8)
    var written = 0
    while written < bytes.count {
        let n = bytes.withUnsafeBytes { buf in
            write(fd, buf.baseAddress! + written, buf.count - written)
        }
        if n < 0 {
            if errno == EINTR { continue }
            throw failure(errno)
        }
        written += n
    }
    // Data on disk before the rename, or a crash could leave an empty file under the real name.
    guard fsync(fd) == 0 else { throw failure(errno) }
    closed = true
    guard close(fd) == 0 else { throw failure(errno) }
    guard rename(tempPath, path) == 0 else { throw failure(errno) }
    renamed = true

    // Make the rename itself durable; best effort, the file is already in place.
    let dirFD = open(directory.isEmpty ? "." : directory, O_RDONLY | O_CLOEXEC)
    if dirFD >= 0 {
        _ = fsync(dirFD)
        close(dirFD)
    }
}
