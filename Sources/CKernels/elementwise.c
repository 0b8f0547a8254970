// Elementwise kernels (GELU, softmax, LayerNorm) compiled three times, for
// AVX-512, AVX2+FMA and baseline x86-64, with the path chosen at run time from
// cpuid. Swift builds for baseline x86-64 so the binary runs on any server;
// only these loops need the wide paths (libm's expf/erff are scalar calls).
#include "CKernels.h"
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "ib_approx.h"

#pragma clang fp reassociate(on)

float ib_expf(float x) { return ib_exp_approx(x); }
float ib_erff(float x) { return ib_erf_approx(x); }

#define IB_NAME(name) name##_generic
#include "elementwise_body.h"
#undef IB_NAME

#if defined(__x86_64__) && defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define IB_NAME(name) name##_avx2
#include "elementwise_body.h"
#undef IB_NAME
#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma"))), apply_to = function)
#define IB_NAME(name) name##_avx512
#include "elementwise_body.h"
#undef IB_NAME
#pragma clang attribute pop
#define IB_HAVE_WIDE 1
#endif

static int active = -1;

ib_isa ib_isa_best(void) {
#ifdef IB_HAVE_WIDE
    ib_cpu_features f = ib_cpu_detect();
    if (f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq && f.avx2 && f.fma) return IB_ISA_AVX512;
    if (f.avx2 && f.fma) return IB_ISA_AVX2;
#endif
    return IB_ISA_GENERIC;
}

ib_isa ib_isa_active(void) {
    if (active < 0) {
        ib_isa isa = ib_isa_best();
        const char *want = getenv("INFBENCH_ISA");
        if (want && strcmp(want, "generic") == 0) isa = IB_ISA_GENERIC;
        else if (want && strcmp(want, "avx2") == 0 && isa >= IB_ISA_AVX2) isa = IB_ISA_AVX2;
        active = (int)isa;
    }
    return (ib_isa)active;
}

bool ib_isa_select(ib_isa isa) {
    if (isa > ib_isa_best()) return false;
    active = (int)isa;
    return true;
}

const char *ib_isa_name(ib_isa isa) {
    switch (isa) {
    case IB_ISA_AVX512: return "avx512";
    case IB_ISA_AVX2: return "avx2";
    default: return "generic";
    }
}

#ifdef IB_HAVE_WIDE
#define IB_DISPATCH(name, ...)                                   \
    switch (ib_isa_active()) {                                   \
    case IB_ISA_AVX512: name##_avx512(__VA_ARGS__); return;      \
    case IB_ISA_AVX2: name##_avx2(__VA_ARGS__); return;          \
    default: name##_generic(__VA_ARGS__); return;                \
    }
#else
#define IB_DISPATCH(name, ...) name##_generic(__VA_ARGS__);
#endif

void ib_gelu(float *out, const float *in, size_t n) { IB_DISPATCH(gelu, out, in, n) }
void ib_softmax_rows(float *x, size_t rows, size_t cols) { IB_DISPATCH(softmax_rows, x, rows, cols) }
void ib_layernorm(float *out, const float *in, const float *residual, const float *gamma,
                  const float *beta, size_t rows, size_t cols, float eps) {
    IB_DISPATCH(layernorm, out, in, residual, gamma, beta, rows, cols, eps)
}

// The bandwidth probe's loop (STREAM's triad). In C rather than Swift so that it streams at
// memory speed in a debug build too (tests and CI run the probe there), not at Swift -Onone's
// bounds-checked pace; memory, not the instruction set, bounds it.
void ib_triad(float *a, const float *b, const float *c, float s, size_t n) {
    for (size_t i = 0; i < n; i++) a[i] = b[i] + s * c[i];
}
