// fp16-weight kernels, compiled for AVX-512, AVX2+F16C and portable C and chosen
// at run time: the streaming skinny GEMM behind FP16Weights at small batch, and
// the fp16 → fp32 panel conversion its sgemm path uses at larger batch.
#include "ib_fp16.h"
#include <string.h>

#pragma clang fp reassociate(on)

#define IB_INLINE static inline __attribute__((always_inline))
/// Loops over the R×M accumulator block: unrolled so the arrays become registers.
#define IB_UNROLL _Pragma("clang loop unroll(full)")
/// How far ahead of its loads the streaming kernel prefetches the weights. On an 85 MB
/// stack at M = 1 (AVX-512, Zen 5; a plain 1 GB sum reads 38–42 GB/s here), one row at a
/// time read 39 GB/s on the hardware prefetcher alone, 44 with 4 KB, 49–54 with 16 KB
/// (tight loop, part of it served by L3); 4 interleaved rows: 24 alone, 35 at 16 KB.
#define IB_PREFETCH_BYTES 16384

// MARK: portable

/// The fp32 value of fp16 bits, exactly, without F16C (F. Giesen's method): move
/// exponent and mantissa into place and rebias; fp16 subnormals are renormalised by
/// one exact fp32 subtraction; inf/NaN get the all-ones exponent (payload kept). All
/// three cases are computed and one selected, so the loops calling it vectorise.
IB_INLINE float half_to_float(uint16_t h) {
    const uint32_t shifted_exp = 0x7C00u << 13;
    uint32_t o = ((uint32_t)h & 0x7FFFu) << 13;
    uint32_t exp = o & shifted_exp;
    o += (127u - 15u) << 23;
    uint32_t inf_nan = o + ((128u - 16u) << 23);
    // (1 + mant/1024)·2⁻¹⁴ − 2⁻¹⁴ = mant·2⁻²⁴, the subnormal's value.
    uint32_t sub_bits = o + (1u << 23);
    float sub;
    memcpy(&sub, &sub_bits, sizeof sub);
    sub -= 0x1p-14f;
    memcpy(&sub_bits, &sub, sizeof sub_bits);
    o = exp == shifted_exp ? inf_nan : exp == 0 ? sub_bits : o;
    o |= ((uint32_t)h & 0x8000u) << 16;
    float f;
    memcpy(&f, &o, sizeof f);
    return f;
}

static void to_fp32_generic(float *dst, const uint16_t *src, size_t count) {
    for (size_t i = 0; i < count; i++) dst[i] = half_to_float(src[i]);
}

/// Row by row: convert a 256-element stretch of the row to a stack buffer (1 KB, in L1),
/// then dot it with every activation row; the dot loops vectorise for baseline SSE2.
static void gemv_generic(float *y, size_t ldy, const float *x, size_t ldx, size_t m,
                         const uint16_t *w, size_t n, size_t k) {
    enum { CHUNK = 256 };
    float buf[CHUNK];
    for (size_t j = 0; j < n; j++) {
        const uint16_t *row = w + j * k;
        for (size_t i = 0; i < m; i++) y[i * ldy + j] = 0.0f;
        for (size_t k0 = 0; k0 < k; k0 += CHUNK) {
            size_t len = k - k0 < CHUNK ? k - k0 : CHUNK;
            for (size_t t = 0; t < len; t++) buf[t] = half_to_float(row[k0 + t]);
            for (size_t i = 0; i < m; i++) {
                const float *xr = x + i * ldx + k0;
                float s = 0.0f;
                for (size_t t = 0; t < len; t++) s += buf[t] * xr[t];
                y[i * ldy + j] += s;
            }
        }
    }
}

#if defined(__x86_64__) && defined(__clang__)
#include <immintrin.h>
#define IB_FP16_WIDE 1

// MARK: AVX2 + F16C (8 lanes)

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)

IB_INLINE float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

/// R weight rows (R, k) against M activation rows: R·M·U accumulators stay in registers
/// (M, R, U are constants after inlining, so the arrays become registers); each weight
/// vector is loaded and converted once and used M times. With U = 2 each row gets two
/// accumulator sets (even and odd 8-element steps), so one row still has 2·M FMA chains.
/// y (M, ·) gets columns 0..<R.
IB_INLINE void rows_avx2(float *y, size_t ldy, const float *x, size_t ldx,
                         const uint16_t *w, size_t k, const int M, const int R, const int U) {
    __m256 acc[2][4][8];
    IB_UNROLL for (int u = 0; u < U; u++)
        IB_UNROLL for (int r = 0; r < R; r++)
            IB_UNROLL for (int i = 0; i < M; i++) acc[u][r][i] = _mm256_setzero_ps();
    size_t t = 0;
    for (; t + 8 * U <= k; t += 8 * U) {
        IB_UNROLL for (int r = 0; r < R; r++)
            // Row r's prefetches cover [r·k, (r+1)·k) shifted ahead: together the whole stream.
            _mm_prefetch((const char *)(w + (size_t)r * k + t) + IB_PREFETCH_BYTES, _MM_HINT_T0);
        IB_UNROLL for (int u = 0; u < U; u++) {
            __m256 wv[4];
            IB_UNROLL for (int r = 0; r < R; r++)
                wv[r] = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + (size_t)r * k + t + 8 * u)));
            IB_UNROLL for (int i = 0; i < M; i++) {
                __m256 xv = _mm256_loadu_ps(x + (size_t)i * ldx + t + 8 * u);
                IB_UNROLL for (int r = 0; r < R; r++) acc[u][r][i] = _mm256_fmadd_ps(wv[r], xv, acc[u][r][i]);
            }
        }
    }
    for (; t + 8 <= k; t += 8) {
        __m256 wv[4];
        IB_UNROLL for (int r = 0; r < R; r++)
            wv[r] = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + (size_t)r * k + t)));
        IB_UNROLL for (int i = 0; i < M; i++) {
            __m256 xv = _mm256_loadu_ps(x + (size_t)i * ldx + t);
            IB_UNROLL for (int r = 0; r < R; r++) acc[0][r][i] = _mm256_fmadd_ps(wv[r], xv, acc[0][r][i]);
        }
    }
    IB_UNROLL for (int r = 0; r < R; r++) {
        IB_UNROLL for (int i = 0; i < M; i++) {
            float s = hsum256(U == 2 ? _mm256_add_ps(acc[0][r][i], acc[1][r][i]) : acc[0][r][i]);
            for (size_t v = t; v < k; v++) s += _cvtsh_ss(w[(size_t)r * k + v]) * x[(size_t)i * ldx + v];
            y[(size_t)i * ldy + r] = s;
        }
    }
}

IB_INLINE void gemv_avx2_m(float *y, size_t ldy, const float *x, size_t ldx,
                           const uint16_t *w, size_t n, size_t k, const int M, const int R, const int U) {
    size_t j = 0;
    for (; j + R <= n; j += R) rows_avx2(y + j, ldy, x, ldx, w + j * k, k, M, R, U);
    for (; j < n; j++) rows_avx2(y + j, ldy, x, ldx, w + j * k, k, M, 1, U);
}

/// R and U by M, to fit R·M·U accumulators + R weight vectors + 1 activation vector in
/// the 16 ymm registers; one row with U = 2 at small M, as on the AVX-512 path.
static void gemv_avx2(float *y, size_t ldy, const float *x, size_t ldx, size_t m,
                      const uint16_t *w, size_t n, size_t k) {
    for (size_t i0 = 0; i0 < m; i0 += 8) {
        float *yy = y + i0 * ldy;
        const float *xx = x + i0 * ldx;
        switch (m - i0 < 8 ? m - i0 : 8) {
        case 1: gemv_avx2_m(yy, ldy, xx, ldx, w, n, k, 1, 1, 2); break;
        case 2: gemv_avx2_m(yy, ldy, xx, ldx, w, n, k, 2, 1, 2); break;
        case 3: gemv_avx2_m(yy, ldy, xx, ldx, w, n, k, 3, 3, 1); break;
        case 4: gemv_avx2_m(yy, ldy, xx, ldx, w, n, k, 4, 2, 1); break;
        case 5: gemv_avx2_m(yy, ldy, xx, ldx, w, n, k, 5, 2, 1); break;
        case 6: gemv_avx2_m(yy, ldy, xx, ldx, w, n, k, 6, 2, 1); break;
        case 7: gemv_avx2_m(yy, ldy, xx, ldx, w, n, k, 7, 1, 1); break;
        default: gemv_avx2_m(yy, ldy, xx, ldx, w, n, k, 8, 1, 1); break;
        }
    }
}

static void to_fp32_avx2(float *dst, const uint16_t *src, size_t count) {
    size_t i = 0;
    for (; i + 8 <= count; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
    for (; i < count; i++) dst[i] = _cvtsh_ss(src[i]);
}

#pragma clang attribute pop

// MARK: AVX-512 (16 lanes)

#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c"))), apply_to = function)

/// As rows_avx2 with 16 lanes, plus U: with U = 2 each row gets two accumulator sets
/// (even and odd 16-element steps), so a single row (R = 1) still has 2·M independent
/// FMA chains. The k tail is one masked step (masked-off lanes are not read, so nothing
/// past the row is touched), so there is no scalar remainder loop.
IB_INLINE void rows_avx512(float *y, size_t ldy, const float *x, size_t ldx,
                           const uint16_t *w, size_t k, const int M, const int R, const int U) {
    __m512 acc[2][4][8];
    IB_UNROLL for (int u = 0; u < U; u++)
        IB_UNROLL for (int r = 0; r < R; r++)
            IB_UNROLL for (int i = 0; i < M; i++) acc[u][r][i] = _mm512_setzero_ps();
    size_t t = 0;
    for (; t + 16 * U <= k; t += 16 * U) {
        IB_UNROLL for (int r = 0; r < R; r++)
            // Row r's prefetches cover [r·k, (r+1)·k) shifted ahead: together the whole stream.
            _mm_prefetch((const char *)(w + (size_t)r * k + t) + IB_PREFETCH_BYTES, _MM_HINT_T0);
        IB_UNROLL for (int u = 0; u < U; u++) {
            __m512 wv[4];
            IB_UNROLL for (int r = 0; r < R; r++)
                wv[r] = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(w + (size_t)r * k + t + 16 * u)));
            IB_UNROLL for (int i = 0; i < M; i++) {
                __m512 xv = _mm512_loadu_ps(x + (size_t)i * ldx + t + 16 * u);
                IB_UNROLL for (int r = 0; r < R; r++) acc[u][r][i] = _mm512_fmadd_ps(wv[r], xv, acc[u][r][i]);
            }
        }
    }
    // At most U − 1 whole steps and one partial one remain.
    for (; t < k; t += 16) {
        __mmask16 tail = k - t >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (k - t)) - 1u);
        __m512 wv[4];
        IB_UNROLL for (int r = 0; r < R; r++)
            wv[r] = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(tail, w + (size_t)r * k + t));
        IB_UNROLL for (int i = 0; i < M; i++) {
            __m512 xv = _mm512_maskz_loadu_ps(tail, x + (size_t)i * ldx + t);
            IB_UNROLL for (int r = 0; r < R; r++) acc[0][r][i] = _mm512_fmadd_ps(wv[r], xv, acc[0][r][i]);
        }
    }
    IB_UNROLL for (int r = 0; r < R; r++)
        IB_UNROLL for (int i = 0; i < M; i++)
            y[(size_t)i * ldy + r] = _mm512_reduce_add_ps(U == 2 ? _mm512_add_ps(acc[0][r][i], acc[1][r][i]) : acc[0][r][i]);
}

IB_INLINE void gemv_avx512_m(float *y, size_t ldy, const float *x, size_t ldx,
                             const uint16_t *w, size_t n, size_t k, const int M, const int R, const int U) {
    size_t j = 0;
    for (; j + R <= n; j += R) rows_avx512(y + j, ldy, x, ldx, w + j * k, k, M, R, U);
    for (; j < n; j++) rows_avx512(y + j, ldy, x, ldx, w + j * k, k, M, 1, U);
}

/// R (rows at once) and U (accumulator sets per row) by M: R·M·U accumulators + R weight
/// vectors + 1 activation vector must fit in 32 zmm registers. Measured on an 85 MB stack
/// (MiniLM shapes, Zen 5): at M ≤ 2 one row at a time (a single sequential stream) with
/// U = 2 read 54 GB/s against 35 for 4 interleaved rows; at M = 4 two rows did best
/// (43 vs 39–41); at M = 8 the FMAs, not memory, bound it (~195 GFLOP/s) and 3 rows
/// (fewer activation loads per FMA) beat 1 row by 20%.
static void gemv_avx512(float *y, size_t ldy, const float *x, size_t ldx, size_t m,
                        const uint16_t *w, size_t n, size_t k) {
    for (size_t i0 = 0; i0 < m; i0 += 8) {
        float *yy = y + i0 * ldy;
        const float *xx = x + i0 * ldx;
        switch (m - i0 < 8 ? m - i0 : 8) {
        case 1: gemv_avx512_m(yy, ldy, xx, ldx, w, n, k, 1, 1, 2); break;
        case 2: gemv_avx512_m(yy, ldy, xx, ldx, w, n, k, 2, 1, 2); break;
        case 3: gemv_avx512_m(yy, ldy, xx, ldx, w, n, k, 3, 2, 1); break;
        case 4: gemv_avx512_m(yy, ldy, xx, ldx, w, n, k, 4, 2, 1); break;
        case 5: gemv_avx512_m(yy, ldy, xx, ldx, w, n, k, 5, 3, 1); break;
        case 6: gemv_avx512_m(yy, ldy, xx, ldx, w, n, k, 6, 3, 1); break;
        case 7: gemv_avx512_m(yy, ldy, xx, ldx, w, n, k, 7, 3, 1); break;
        default: gemv_avx512_m(yy, ldy, xx, ldx, w, n, k, 8, 3, 1); break;
        }
    }
}

static void to_fp32_avx512(float *dst, const uint16_t *src, size_t count) {
    size_t i = 0;
    for (; i + 16 <= count; i += 16)
        _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(src + i))));
    if (i < count) {
        __mmask16 tail = (__mmask16)((1u << (count - i)) - 1u);
        _mm512_mask_storeu_ps(dst + i, tail, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(tail, src + i)));
    }
}

#pragma clang attribute pop
#endif

// MARK: dispatch

ib_isa ib_fp16_isa(void) {
#ifdef IB_FP16_WIDE
    ib_isa isa = ib_isa_active();
    // Every AVX-512 CPU has F16C, but ask rather than assume: the paths are compiled for it.
    if (!ib_cpu_detect().f16c) return IB_ISA_GENERIC;
    if (isa == IB_ISA_AVX512 || isa == IB_ISA_AVX2) return isa;
#endif
    return IB_ISA_GENERIC;
}

void ib_fp16_gemv(float *y, size_t ldy, const float *x, size_t ldx, size_t m,
                  const uint16_t *w, size_t n, size_t k) {
    if (m == 0 || n == 0) return;
    switch (ib_fp16_isa()) {
#ifdef IB_FP16_WIDE
    case IB_ISA_AVX512: gemv_avx512(y, ldy, x, ldx, m, w, n, k); return;
    case IB_ISA_AVX2: gemv_avx2(y, ldy, x, ldx, m, w, n, k); return;
#endif
    default: gemv_generic(y, ldy, x, ldx, m, w, n, k); return;
    }
}

void ib_fp16_to_fp32(float *dst, const uint16_t *src, size_t count) {
    switch (ib_fp16_isa()) {
#ifdef IB_FP16_WIDE
    case IB_ISA_AVX512: to_fp32_avx512(dst, src, count); return;
    case IB_ISA_AVX2: to_fp32_avx2(dst, src, count); return;
#endif
    default: to_fp32_generic(dst, src, count); return;
    }
}
