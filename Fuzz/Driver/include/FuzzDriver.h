// Starts libFuzzer from a Swift executable's own entry point. SwiftPM links every executable
// with its own main (main = <module>_main), so libFuzzer's main never runs; each fuzzer's last
// line calls this instead, and libFuzzer's documented LLVMFuzzerRunDriver does the rest.
#ifndef INFBENCH_FUZZ_DRIVER_H
#define INFBENCH_FUZZ_DRIVER_H

/// Runs libFuzzer on the file's `LLVMFuzzerTestOneInput` with the process's arguments; returns
/// its exit status.
int infbench_run_fuzzer(int argc, char **argv);

#endif
