// Kernels for weights stored as IEEE fp16 with fp32 compute: a streaming
// skinny GEMM that converts in registers (F16C / AVX-512) and a bulk fp16 → fp32
// conversion for the panels the sgemm path multiplies.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "CKernels.h"

/// The path the fp16 kernels take now: the elementwise path (`ib_isa_active`, so
/// INFBENCH_ISA and `ib_isa_select` steer both), lowered to generic when that path's
/// conversion instruction is missing (AVX2 needs F16C; AVX-512 has its own vcvtph2ps).
ib_isa ib_fp16_isa(void);

/// y[i·ldy + j] = Σ_k x[i·ldx + k] · w[j·k_ + k]  for i < m, j < n:
/// y (m, n) = x (m, k) · Wᵀ with W (n, k) as fp16 bits, rows contiguous.
/// Reads W once per group of 8 activation rows, converting in registers, and FMAs
/// against every row of the group (register-blocked for each group size 1…8). fp32 sums.
void ib_fp16_gemv(float *y, size_t ldy, const float *x, size_t ldx, size_t m,
                  const uint16_t *w, size_t n, size_t k);

/// dst[i] = the fp32 value of the fp16 bits src[i], for i < count (exact).
void ib_fp16_to_fp32(float *dst, const uint16_t *src, size_t count);
