// Writing a result file so that a crash, a full disk or a bad path never
// leaves a half-written file behind: write a temporary file next to the
// target, fsync it, then rename it over the target in one step.
// Only a regular file or a missing path is ever replaced: a device, FIFO,
// socket or directory is refused, and a symbolic link is written through
// (the file it points to is replaced, the link stays).
import Foundation

/// Atomically replaces (or creates) the file at `path` with `text` (UTF-8).
/// On failure the temporary file is removed, the target is left untouched, and
/// the error is one sentence naming `path`. Two processes writing the same path
/// each leave a complete file; the last rename wins.
public func writeAtomically(_ text: String, to requested: String) throws {
    let path = try outputTarget(requested)
    func failure(_ code: Int32) -> HarnessError {
        HarnessError("cannot write results to \(requested): \(harnessErrnoText(code)).")
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

/// The file an output path really names: `path` itself, or, through any symbolic
/// links, the file they point to. Throws one sentence when that is anything but a
/// regular file or a missing path (a device such as /dev/null, a FIFO, a socket, a
/// directory), or when the links loop.
public func outputTarget(_ path: String) throws -> String {
    var current = path
    for _ in 0..<40 {
        var info = stat()
        guard lstat(current, &info) == 0 else {
            if errno == ENOENT { return current } // a new file (or a dangling link's target): created
            throw HarnessError("cannot write results to \(path): \(harnessErrnoText(errno)).")
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG:
            return current
        case S_IFLNK:
            guard let link = try? FileManager.default.destinationOfSymbolicLink(atPath: current) else {
                throw HarnessError("cannot write results to \(path): its symbolic link cannot be read.")
            }
            current = link.hasPrefix("/") ? link : ((current as NSString).deletingLastPathComponent as NSString).appendingPathComponent(link)
        default:
            throw HarnessError("refusing to write results to \(path): it is \(fileKind(info.st_mode)), not a regular file, and infbench only replaces regular files.")
        }
    }
    throw HarnessError("cannot write results to \(path): too many levels of symbolic links.")
}

/// "a directory", "a FIFO", … for a `st_mode`.
func fileKind(_ mode: mode_t) -> String {
    switch mode & S_IFMT {
    case S_IFDIR: return "a directory"
    case S_IFCHR: return "a character device"
    case S_IFBLK: return "a block device"
    case S_IFIFO: return "a FIFO (named pipe)"
    case S_IFSOCK: return "a socket"
    case S_IFLNK: return "a symbolic link"
    case S_IFREG: return "a regular file"
    default: return "not a regular file"
    }
}

/// Throws one sentence when the output path names the same file as one of the
/// command's inputs (`show X --output X`), through links or other spellings alike:
/// replacing it would destroy the input, and a failed run would leave neither.
public func checkOutputIsNotAnInput(_ output: String, inputs: [String], option: String = "--output") throws {
    var out = stat()
    guard stat(output, &out) == 0 else { return } // nothing there yet: cannot be an input
    for input in inputs {
        var inp = stat()
        if stat(input, &inp) == 0, inp.st_dev == out.st_dev, inp.st_ino == out.st_ino {
            throw HarnessError("\(option) \(output) is the same file as the input \(input); write the output somewhere else.")
        }
    }
}
