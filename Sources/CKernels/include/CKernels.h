// C helpers for what Swift cannot reach well: CPU feature detection at run
// time (cpuid), so kernels can pick an AVX-512 path and keep a portable one.
#pragma once
#include <stdbool.h>

typedef struct {
    bool avx2;
    bool fma;
    bool f16c;
    bool avx512f;
    bool avx512bw;
    bool avx512vl;
    bool avx512_vnni;
    bool avx512_bf16;
} ib_cpu_features;

/// Features of the CPU this process runs on (queried once, then cached).
ib_cpu_features ib_cpu_detect(void);
