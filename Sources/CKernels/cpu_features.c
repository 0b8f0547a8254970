// Run-time CPU feature detection. A server elsewhere may lack AVX-512, so
// every fast kernel asks here first and keeps a portable fallback.
#include "CKernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static bool os_saves_zmm(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return false; // OSXSAVE
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (lo & 0xE6) == 0xE6; // XMM, YMM, opmask, ZMM_Hi256, Hi16_ZMM enabled
}

static bool os_saves_ymm(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return false;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (lo & 0x6) == 0x6;
}

ib_cpu_features ib_cpu_detect(void) {
    ib_cpu_features f = {0};
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
    bool ymm = os_saves_ymm();
    bool zmm = os_saves_zmm();
    f.fma = ymm && (c & (1u << 12));
    f.f16c = ymm && (c & (1u << 29));
    if (__get_cpuid_max(0, 0) >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        f.avx2 = ymm && (b & (1u << 5));
        f.avx512f = zmm && (b & (1u << 16));
        f.avx512bw = zmm && (b & (1u << 30));
        f.avx512vl = zmm && (b & (1u << 31));
        f.avx512_vnni = zmm && (c & (1u << 11));
        __cpuid_count(7, 1, a, b, c, d);
        f.avx512_bf16 = zmm && (a & (1u << 5));
    }
    return f;
}
#else
ib_cpu_features ib_cpu_detect(void) { ib_cpu_features f = {0}; return f; }
#endif
