// C kernels for what Swift cannot reach well: run-time CPU feature detection
// (cpuid) and the elementwise loops that need AVX-512/AVX2 code paths chosen at
// run time (Swift compiles for baseline x86-64 so the binary runs anywhere).
#pragma once
#include <stdbool.h>
#include <stddef.h>

typedef struct {
    bool avx2;
    bool fma;
    bool f16c;
    bool avx512f;
    bool avx512bw;
    bool avx512vl;
    bool avx512dq;
    bool avx512_vnni;
    bool avx512_bf16;
} ib_cpu_features;

/// Features of the CPU this process runs on (queried once, then cached).
ib_cpu_features ib_cpu_detect(void);

/// Instruction-set paths of the elementwise kernels.
typedef enum {
    IB_ISA_GENERIC = 0, ///< baseline x86-64 (SSE2) or any other CPU: portable C
    IB_ISA_AVX2 = 1,    ///< AVX2 + FMA, 8 lanes
    IB_ISA_AVX512 = 2,  ///< AVX-512 F/BW/VL/DQ, 16 lanes
} ib_isa;

/// The path in use: the best this CPU supports, unless INFBENCH_ISA=generic|avx2|avx512
/// asked for a lower one, or ib_isa_select changed it.
ib_isa ib_isa_active(void);
/// Best path this CPU supports.
ib_isa ib_isa_best(void);
/// Switch paths (for tests and A/B measurements); returns false if the CPU lacks it.
bool ib_isa_select(ib_isa isa);
/// "avx512", "avx2" or "generic".
const char *ib_isa_name(ib_isa isa);

/// out[i] = GELU(in[i]) = in·½(1 + erf(in/√2)); out may equal in.
void ib_gelu(float *out, const float *in, size_t n);
/// Each row of x (rows, cols) replaced by its softmax; an all −∞ row becomes zeros.
void ib_softmax_rows(float *x, size_t rows, size_t cols);
/// out = γ ⊙ (z − mean)/√(var + eps) + β per row, z = in + residual (residual may be NULL);
/// out may equal in or residual.
void ib_layernorm(float *out, const float *in, const float *residual, const float *gamma,
                  const float *beta, size_t rows, size_t cols, float eps);

/// a[i] = b[i] + s·c[i]: the memory-bandwidth probe's triad.
void ib_triad(float *a, const float *b, const float *c, float s, size_t n);

/// Scalar versions of the approximations the kernels use (for tests).
float ib_expf(float x);
float ib_erff(float x);

// The weight-format kernels (one header each). This header is the module's
// umbrella, so the others reach Swift only through it.
#if __has_include("ib_bf16.h")
#include "ib_bf16.h"
#endif
#if __has_include("ib_fp16.h")
#include "ib_fp16.h"
#endif
#if __has_include("ib_sparse.h")
#include "ib_sparse.h"
#endif
#if __has_include("ib_depthwise.h")
#include "ib_depthwise.h"
#endif
#if __has_include("ib_int8.h")
#include "ib_int8.h"
#endif
#if __has_include("ib_qblock.h")
#include "ib_qblock.h"
#endif
#if __has_include("ib_pool.h")
#include "ib_pool.h"
#endif
#if __has_include("ib_sgemm.h")
#include "ib_sgemm.h"
#endif
