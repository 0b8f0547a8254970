// Run-time CPU feature detection. A server elsewhere may lack AVX-512, so
// every fast kernel asks here first and keeps a portable fallback.
#include "CKernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

/// XCR0 bits the OS saves: `mask` must all be set for the registers to be usable.
static bool os_saves(unsigned mask) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return false; // OSXSAVE
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (lo & mask) == mask;
}

ib_cpu_features ib_cpu_detect(void) {
    static ib_cpu_features cached;
    static bool done = false;
    if (done) return cached;
    ib_cpu_features f = {0};
    unsigned a, b, c, d;
    if (__get_cpuid(1, &a, &b, &c, &d)) {
        bool ymm = os_saves(0x6);   // XMM, YMM
        bool zmm = os_saves(0xE6);  // + opmask, ZMM_Hi256, Hi16_ZMM
        f.fma = ymm && (c & (1u << 12));
        f.f16c = ymm && (c & (1u << 29));
        if (__get_cpuid_max(0, 0) >= 7) {
            __cpuid_count(7, 0, a, b, c, d);
            f.avx2 = ymm && (b & (1u << 5));
            f.avx512f = zmm && (b & (1u << 16));
            f.avx512dq = zmm && (b & (1u << 17));
            f.avx512bw = zmm && (b & (1u << 30));
            f.avx512vl = zmm && (b & (1u << 31));
            f.avx512_vnni = zmm && (c & (1u << 11));
            __cpuid_count(7, 1, a, b, c, d);
            f.avx512_bf16 = zmm && (a & (1u << 5));
        }
    }
    cached = f;
    done = true;
    return f;
}
#else
ib_cpu_features ib_cpu_detect(void) { ib_cpu_features f = {0}; return f; }
#endif
