// Weight-only Q8_0 / Q4_0 kernels (see ib_qblock.h): quantization, dequantization to fp32
// panels for sgemm, and the streaming gemv that decodes 32 weights at a time in registers
// and FMAs them into fp32 sums. One body compiled for AVX-512, AVX2+F16C and portable C.
#include "ib_qblock.h"
#include "ib_fp16.h"
#include <math.h>
#include <string.h>

#pragma clang fp contract(fast)

#define IB_INLINE static inline __attribute__((always_inline))
enum { QB = IB_QBLOCK };

size_t ib_qblock_block_bytes(ib_qformat f) { return f == IB_Q8_0 ? 2 + QB : 2 + QB / 2; }
size_t ib_qblock_row_bytes(ib_qformat f, size_t k) { return (k + QB - 1) / QB * ib_qblock_block_bytes(f); }

// MARK: fp16 scales

/// fp16 bits nearest to f ≥ 0 (ties to even); ≥ 65520 → inf.
static uint16_t half_bits(float f) {
    if (f >= 65520.0f) return 0x7C00;
    if (f < 0x1p-14f) return (uint16_t)__builtin_roundevenf(f * 0x1p24f); // subnormal: m·2⁻²⁴
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    uint32_t h = ((((u >> 23) & 0xFF) - 127 + 15) << 10) | ((u & 0x7FFFFF) >> 13);
    uint32_t rest = u & 0x1FFF;
    if (rest > 0x1000 || (rest == 0x1000 && (h & 1))) h++; // a carry into the exponent is right
    return (uint16_t)h;
}

/// The value of non-negative fp16 bits (scales are never negative), exactly.
IB_INLINE float half_value(uint16_t h) {
    uint32_t e = (h >> 10) & 0x1F, mant = h & 0x3FF;
    if (e == 0) return (float)mant * 0x1p-24f;
    uint32_t bits = e == 31 ? 0x7F800000u | (mant << 13) : ((e - 15 + 127) << 23) | (mant << 13);
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

// MARK: Quantize / dequantize

void ib_qblock_quantize(uint8_t *dst, ib_qformat f, const float *w, size_t n, size_t k) {
    const float qmax = f == IB_Q8_0 ? 127 : 7;
    size_t bb = ib_qblock_block_bytes(f), nb = (k + QB - 1) / QB;
    for (size_t j = 0; j < n; j++)
        for (size_t b = 0; b < nb; b++) {
            const float *src = w + j * k + b * QB;
            size_t count = k - b * QB < QB ? k - b * QB : QB;
            float amax = 0;
            for (size_t t = 0; t < count; t++) amax = fmaxf(amax, fabsf(src[t]));
            float s = amax / qmax;
            uint16_t h = half_bits(s);
            if (half_value(h) < s) h++; // round the scale up, so |w/d| ≤ qmax and no q clips
            float d = half_value(h);
            int8_t q[QB] = {0};
            for (size_t t = 0; t < count && d > 0; t++) {
                float v = __builtin_roundevenf(src[t] / d);
                q[t] = (int8_t)(v > qmax ? qmax : v < -qmax ? -qmax : v);
            }
            uint8_t *blk = dst + (j * nb + b) * bb;
            memcpy(blk, &h, 2);
            if (f == IB_Q8_0) memcpy(blk + 2, q, QB);
            else
                for (int t = 0; t < QB / 2; t++) blk[2 + t] = (uint8_t)((q[t] + 8) | ((q[t + QB / 2] + 8) << 4));
        }
}

// MARK: Kernels, one body per instruction set

typedef float v16f __attribute__((vector_size(64), aligned(4)));
typedef int8_t v16s8 __attribute__((vector_size(16), aligned(1)));
typedef uint8_t v16u8 __attribute__((vector_size(16), aligned(1)));

/// The 32 weights of a block as two fp32 vectors (K 0–15, 16–31), without the scale.
#define IB_DECODE(F, blk, lo, hi)                                                            \
    do {                                                                                     \
        if ((F) == IB_Q8_0) {                                                                \
            v16s8 q0, q1;                                                                    \
            memcpy(&q0, (blk) + 2, 16);                                                      \
            memcpy(&q1, (blk) + 18, 16);                                                     \
            lo = __builtin_convertvector(q0, v16f);                                          \
            hi = __builtin_convertvector(q1, v16f);                                          \
        } else {                                                                             \
            v16u8 q;                                                                         \
            memcpy(&q, (blk) + 2, 16);                                                       \
            lo = __builtin_convertvector(q & 15, v16f) - 8.0f;                               \
            hi = __builtin_convertvector(q >> 4, v16f) - 8.0f;                               \
        }                                                                                    \
    } while (0)

typedef float v8f __attribute__((vector_size(32), aligned(4)));
typedef float v4f __attribute__((vector_size(16), aligned(4)));

/// Sum of 16 lanes as a tree (halves added 4 times): a serial loop was 16 dependent adds per
/// output, which at K = 256 (8 blocks a row) cost more than decoding the row.
IB_INLINE float hsum(const v16f *v) {
    v8f a = __builtin_shufflevector(*v, *v, 0, 1, 2, 3, 4, 5, 6, 7) + __builtin_shufflevector(*v, *v, 8, 9, 10, 11, 12, 13, 14, 15);
    v4f b = __builtin_shufflevector(a, a, 0, 1, 2, 3) + __builtin_shufflevector(a, a, 4, 5, 6, 7);
    return (b[0] + b[2]) + (b[1] + b[3]);
}

/// mr rows of x against every output j: one pass over W for the mr rows.
IB_INLINE void gemv_rows(const int mr, const ib_qformat F, float *y, size_t ldy, const float *x, size_t ldx,
                         const uint8_t *w, size_t n, size_t k, float (*scale)(uint16_t)) {
    size_t bb = ib_qblock_block_bytes(F), nb = (k + QB - 1) / QB, full = k / QB;
    for (size_t j = 0; j < n; j++) {
        const uint8_t *wr = w + j * nb * bb;
        v16f acc[4];
        for (int r = 0; r < mr; r++) acc[r] = (v16f){0};
        for (size_t b = 0; b < full; b++) {
            const uint8_t *blk = wr + b * bb;
            __builtin_prefetch(blk + 4096);
            uint16_t h;
            memcpy(&h, blk, 2);
            float d = scale(h);
            v16f lo, hi;
            IB_DECODE(F, blk, lo, hi);
            for (int r = 0; r < mr; r++) {
                v16f xl, xh;
                memcpy(&xl, x + r * ldx + b * QB, sizeof xl);
                memcpy(&xh, x + r * ldx + b * QB + 16, sizeof xh);
                acc[r] = acc[r] + (lo * xl + hi * xh) * d; // the block's sum, then its scale
            }
        }
        float tail[4] = {0};
        if (full < nb) { // a last block of k % 32 weights: scalar, never reading x past k
            const uint8_t *blk = wr + full * bb;
            uint16_t h;
            memcpy(&h, blk, 2);
            float d = scale(h);
            for (size_t t = 0; t < k - full * QB; t++) {
                float q = F == IB_Q8_0 ? (float)(int8_t)blk[2 + t]
                                       : (float)(t < 16 ? (blk[2 + t] & 15) : (blk[2 + t - 16] >> 4)) - 8.0f;
                for (int r = 0; r < mr; r++) tail[r] += q * x[r * ldx + full * QB + t];
            }
            for (int r = 0; r < mr; r++) tail[r] *= d;
        }
        for (int r = 0; r < mr; r++) y[r * ldy + j] = hsum(&acc[r]) + tail[r];
    }
}

IB_INLINE void gemv_impl(float *y, size_t ldy, const float *x, size_t ldx, size_t m,
                         const uint8_t *w, ib_qformat f, size_t n, size_t k, float (*scale)(uint16_t)) {
    for (size_t i = 0; i < m; i += 4) {
        int mr = m - i < 4 ? (int)(m - i) : 4;
        float *yi = y + i * ldy;
        const float *xi = x + i * ldx;
        // Constant row counts and formats, so each loop body unrolls into registers.
#define IB_CASE(R)                                                                                  \
    case R:                                                                                         \
        if (f == IB_Q8_0) gemv_rows(R, IB_Q8_0, yi, ldy, xi, ldx, w, n, k, scale);                  \
        else gemv_rows(R, IB_Q4_0, yi, ldy, xi, ldx, w, n, k, scale);                               \
        break;
        switch (mr) { IB_CASE(4) IB_CASE(3) IB_CASE(2) IB_CASE(1) }
#undef IB_CASE
    }
}

IB_INLINE void dequantize_impl(float *dst, const uint8_t *src, ib_qformat f, size_t rows, size_t k,
                               float (*scale)(uint16_t)) {
    size_t bb = ib_qblock_block_bytes(f), nb = (k + QB - 1) / QB;
    for (size_t j = 0; j < rows; j++)
        for (size_t b = 0; b < nb; b++) {
            const uint8_t *blk = src + (j * nb + b) * bb;
            uint16_t h;
            memcpy(&h, blk, 2);
            float d = scale(h);
            v16f lo, hi;
            IB_DECODE(f, blk, lo, hi);
            lo = lo * d, hi = hi * d;
            float t[QB];
            memcpy(t, &lo, sizeof lo);
            memcpy(t + 16, &hi, sizeof hi);
            size_t count = k - b * QB < QB ? k - b * QB : QB;
            memcpy(dst + j * k + b * QB, t, count * sizeof(float));
        }
}

static float scale_generic(uint16_t h) { return half_value(h); }

static void gemv_generic(float *y, size_t ldy, const float *x, size_t ldx, size_t m,
                         const uint8_t *w, ib_qformat f, size_t n, size_t k) {
    gemv_impl(y, ldy, x, ldx, m, w, f, n, k, scale_generic);
}
static void dequantize_generic(float *dst, const uint8_t *src, ib_qformat f, size_t rows, size_t k) {
    dequantize_impl(dst, src, f, rows, k, scale_generic);
}

#if defined(__x86_64__) && defined(__clang__)
#define IB_HAVE_QBLOCK_WIDE 1
#include <immintrin.h>

#define IB_DEFINE_WIDE(suffix)                                                                     \
    static inline __attribute__((always_inline)) float scale_##suffix(uint16_t h) { return _cvtsh_ss(h); } \
    static void gemv_##suffix(float *y, size_t ldy, const float *x, size_t ldx, size_t m,           \
                              const uint8_t *w, ib_qformat f, size_t n, size_t k) {                  \
        gemv_impl(y, ldy, x, ldx, m, w, f, n, k, scale_##suffix);                                   \
    }                                                                                               \
    static void dequantize_##suffix(float *dst, const uint8_t *src, ib_qformat f, size_t rows, size_t k) { \
        dequantize_impl(dst, src, f, rows, k, scale_##suffix);                                      \
    }

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
IB_DEFINE_WIDE(avx2)
#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c"))), apply_to = function)
IB_DEFINE_WIDE(avx512)
#pragma clang attribute pop
#endif

// MARK: Dispatch

ib_isa ib_qblock_isa(void) { return ib_fp16_isa(); }

void ib_qblock_gemv(float *y, size_t ldy, const float *x, size_t ldx, size_t m,
                    const uint8_t *w, ib_qformat f, size_t n, size_t k) {
#ifdef IB_HAVE_QBLOCK_WIDE
    switch (ib_qblock_isa()) {
    case IB_ISA_AVX512: gemv_avx512(y, ldy, x, ldx, m, w, f, n, k); return;
    case IB_ISA_AVX2: gemv_avx2(y, ldy, x, ldx, m, w, f, n, k); return;
    default: break;
    }
#endif
    gemv_generic(y, ldy, x, ldx, m, w, f, n, k);
}

void ib_qblock_dequantize(float *dst, const uint8_t *src, ib_qformat f, size_t rows, size_t k) {
#ifdef IB_HAVE_QBLOCK_WIDE
    switch (ib_qblock_isa()) {
    case IB_ISA_AVX512: dequantize_avx512(dst, src, f, rows, k); return;
    case IB_ISA_AVX2: dequantize_avx2(dst, src, f, rows, k); return;
    default: break;
    }
#endif
    dequantize_generic(dst, src, f, rows, k);
}
