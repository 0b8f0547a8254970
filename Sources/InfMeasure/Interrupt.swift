// Ctrl-C during a long run: the first SIGINT asks the runner to stop after the
// group it is measuring, so the rows already measured are printed and saved; a
// second SIGINT ends the process at once (the default action is restored).
import Foundation

nonisolated(unsafe) private var interruptRequested: sig_atomic_t = 0

public enum Interrupt {
    /// Installs the handler; call before a long run.
    public static func install() {
        signal(SIGINT) { _ in
            interruptRequested = 1
            signal(SIGINT, SIG_DFL)
        }
    }

    public static var requested: Bool { interruptRequested != 0 }

    /// For tests.
    static func request() { interruptRequested = 1 }
    static func reset() { interruptRequested = 0 }
}
