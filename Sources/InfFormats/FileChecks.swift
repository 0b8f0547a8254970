// Reading only regular files: a FIFO blocks a reader for ever, /dev/zero never
// ends, and mapping a device fails with a misleading "permission" error (even as
// root). Every file infbench reads (configs, checkpoints, vocabularies, result
// files) is checked first, so the sentence names what the path really is.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Nil when `path` (after symbolic links) is a regular file or does not exist;
/// otherwise what it is instead, e.g. "is a FIFO (named pipe), not a regular file".
public func regularFileProblem(_ path: String) -> String? {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil } // missing: the caller's own sentence says so
    let kind: String
    switch info.st_mode & S_IFMT {
    case S_IFREG: return nil
    case S_IFDIR: kind = "a directory"
    case S_IFCHR: kind = "a character device"
    case S_IFBLK: kind = "a block device"
    case S_IFIFO: kind = "a FIFO (named pipe)"
    case S_IFSOCK: kind = "a socket"
    default: kind = "not a plain file"
    }
    return "is \(kind), not a regular file"
}
