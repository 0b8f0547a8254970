// Weight-only block quantization (llama.cpp's Q8_0 and Q4_0 layouts): each run of 32 weights
// along K keeps one fp16 scale d and 32 signed integers, 8 or 4 bits each; activations stay
// fp32. For memory-bound products (batch 1, decoding), where bytes read set the time.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "CKernels.h"

/// Weights per block.
#define IB_QBLOCK 32

typedef enum {
    IB_Q8_0 = 0, ///< d (fp16) + 32 × int8 in [−127, 127]: 34 bytes per 32 weights
    IB_Q4_0 = 1, ///< d (fp16) + 16 bytes: byte j holds q[j] + 8 (low nibble), q[j+16] + 8 (high); q in [−7, 7]: 18 bytes
} ib_qformat;

/// Bytes of one block of the format.
size_t ib_qblock_block_bytes(ib_qformat f);
/// Bytes of one row of k weights: ⌈k/32⌉ blocks (the last padded with zero weights).
size_t ib_qblock_row_bytes(ib_qformat f, size_t k);

/// Quantizes w (n, k) row by row into dst (n · ib_qblock_row_bytes bytes). Per block:
/// d = max|w| / qmax (qmax 127 or 7) rounded UP to an fp16, q = round-half-even(w / d) — so
/// |w − q·d| ≤ d/2 for every weight; an all-zero block gets d = 0. Weights must be finite
/// and below 65504·qmax in magnitude.
void ib_qblock_quantize(uint8_t *dst, ib_qformat f, const float *w, size_t n, size_t k);

/// dst (rows, k) fp32 = q·d of rows of quantized weights (exact).
void ib_qblock_dequantize(float *dst, const uint8_t *src, ib_qformat f, size_t rows, size_t k);

/// y[i·ldy + j] = Σ_blocks d · Σ_{t<32} q_t · x[i·ldx + 32b + t]  for i < m, j < n: y (m, n) =
/// x (m, k) · Wᵀ, fp32 sums. Reads W once per 4 activation rows, decoding in registers.
void ib_qblock_gemv(float *y, size_t ldy, const float *x, size_t ldx, size_t m,
                    const uint8_t *w, ib_qformat f, size_t n, size_t k);

/// The instruction-set path of the gemv and dequantize kernels now: the fp16 kernels'
/// (the scales are fp16), so INFBENCH_ISA and ib_isa_select steer it.
ib_isa ib_qblock_isa(void);
