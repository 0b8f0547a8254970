// The harness's one error type: a single sentence a person can act on,
// naming the file or option at fault, printed as is by the CLI.
import Foundation

public struct HarnessError: Error, CustomStringConvertible, LocalizedError, Sendable {
    public let message: String

    public init(_ message: String) { self.message = message }
    public init(message: String) { self.message = message }

    public var description: String { message }
    public var errorDescription: String? { message }
}

/// The C library's text for an errno value, e.g. "No such file or directory".
func harnessErrnoText(_ code: Int32) -> String {
    String(cString: strerror(code))
}
