// The W8A8 GEMM: y (m, n) = x (m, k) · Wᵀ with W (n, k) int8 per output channel and x quantized
// per row to uint8 + zero point at run time; the sums are int32 and exact, then rescaled to fp32.
// Three kernels give the same int32 sums: vpdpbusd (AVX512-VNNI: 64 u8·s8 multiply–adds per
// instruction, 4× an fp32 FMA), AVX2 vpmaddwd on operands widened to int16, and portable C.
//
// Why uint8 activations: vpdpbusd multiplies unsigned by signed bytes. A per-row zero point
// uses all 256 levels on skewed rows (after GELU) and 0 stays exact; Σ (u − zp)·q is computed
// as Σ u·q − zp·Σ q with Σ q per column precomputed, still exact in int32.
// Why not vpmaddubsw on AVX2: it adds two u8·s8 products into int16 with saturation, and
// 2·255·127 > 32767, so full-range activations would saturate and differ from the other paths.
#include "ib_int8.h"
#include "CKernels.h"
#include <math.h>
#include <string.h>

enum {
    NR = IB_INT8_PANEL, // output columns per tile (two 16-lane int32 vectors)
    // Rows per block: each 8-row tile sweeps every panel, its rows staying in L1 while W
    // streams from L2. Measured at M = 4096 on this EPYC (32 KB L1, 1 MB L2), 1 thread:
    // MC = 8 ran 150–170 GMAC/s on the MiniLM shapes, 96 rows (W panel + rows overflowing L1) 130.
    MC = 8,
    MR_VNNI = 8,        // 8 rows × 2 zmm = 16 accumulators, as the bf16 kernel
    MR_SMALL = 4,       // AVX2 and portable tiles
};

size_t ib_int8_k4(size_t k) { return (k + 3) & ~(size_t)3; }
static size_t panels(size_t n) { return (n + NR - 1) / NR; }
size_t ib_int8_packed_bytes(size_t n, size_t k) { return panels(n) * NR * ib_int8_k4(k); }

/// Offset of q(j, c) in the packed form: panel j/NR, word c/4 of it, column j%NR, byte c%4.
static inline size_t packed_at(size_t j, size_t c, size_t k4) {
    return (j / NR) * NR * k4 + (c / 4) * NR * 4 + (j % NR) * 4 + c % 4;
}

// MARK: Weights

void ib_int8_quantize_weights(int8_t *packed, float *scale, int32_t *colsum,
                              const float *w, size_t n, size_t k) {
    size_t k4 = ib_int8_k4(k);
    memset(packed, 0, ib_int8_packed_bytes(n, k));
    for (size_t j = 0; j < n; j++) {
        const float *row = w + j * k;
        float amax = 0;
        for (size_t c = 0; c < k; c++) amax = fmaxf(amax, fabsf(row[c]));
        float s = amax / 127.0f;
        int32_t sum = 0;
        if (s > 0) {
            for (size_t c = 0; c < k; c++) {
                float q = __builtin_roundevenf(row[c] / s);
                q = q > 127 ? 127 : q < -127 ? -127 : q; // |w/s| ≤ 127 up to one rounding of s
                packed[packed_at(j, c, k4)] = (int8_t)q;
                sum += (int32_t)q;
            }
        }
        scale[j] = s;
        colsum[j] = sum;
    }
}

void ib_int8_unpack(int8_t *q, const int8_t *packed, size_t n, size_t k) {
    size_t k4 = ib_int8_k4(k);
    for (size_t j = 0; j < n; j++)
        for (size_t c = 0; c < k; c++) q[j * k + c] = packed[packed_at(j, c, k4)];
}

// MARK: Activations
// One body compiled per instruction set; GCC/Clang vector types map a 16-lane vector onto one
// zmm, two ymm or four xmm. Every path rounds x·(1/scale) half-to-even in fp32, so all write
// the same bytes.

typedef float v16f __attribute__((vector_size(64), aligned(4)));
typedef int32_t v16i __attribute__((vector_size(64), aligned(4)));
typedef uint8_t v16b __attribute__((vector_size(16), aligned(1)));

#define IB_INLINE static inline __attribute__((always_inline))

/// scale, 1/scale and zero point of a row whose range (with 0) is [lo, hi].
IB_INLINE void row_params(float lo, float hi, float *scale, float *inv, int32_t *zp) {
    float s = (hi - lo) / 255.0f;
    if (!(s > 0)) {
        *scale = 0, *inv = 0, *zp = 0;
        return;
    }
    float iv = 1.0f / s;
    float z = __builtin_roundevenf(-lo * iv);
    *zp = z < 0 ? 0 : z > 255 ? 255 : (int32_t)z;
    *scale = s, *inv = iv;
}

IB_INLINE uint8_t quantize_one(float x, float inv, int32_t zp) {
    int32_t u = (int32_t)__builtin_roundevenf(x * inv) + zp;
    return (uint8_t)(u < 0 ? 0 : u > 255 ? 255 : u);
}

/// Rows whose elements are strided (x_cs ≠ 1: W · b for convolutions, a "row" is a column of b)
/// are quantized CH at a time, walking K outside so every read runs along a row of b; walking
/// each column instead read one float per cache line and took 60% of an int8 CNN's time.
enum { CH = 64 };

IB_INLINE void quantize_strided(uint8_t *xq, size_t xq_rs, float *scale, int32_t *zp,
                                const float *x, ptrdiff_t x_rs, ptrdiff_t x_cs, size_t m, size_t k) {
    size_t k4 = ib_int8_k4(k);
    {
        for (size_t i0 = 0; i0 < m; i0 += CH) {
            size_t ch = m - i0 < CH ? m - i0 : CH;
            float lo[CH], hi[CH], inv[CH];
            for (size_t i = 0; i < ch; i++) lo[i] = hi[i] = 0;
            for (size_t c = 0; c < k; c++) {
                const float *src = x + (ptrdiff_t)c * x_cs + (ptrdiff_t)i0 * x_rs;
                for (size_t i = 0; i < ch; i++) {
                    float v = src[(ptrdiff_t)i * x_rs];
                    lo[i] = v < lo[i] ? v : lo[i];
                    hi[i] = v > hi[i] ? v : hi[i];
                }
            }
            for (size_t i = 0; i < ch; i++) row_params(lo[i], hi[i], &scale[i0 + i], &inv[i], &zp[i0 + i]);
            for (size_t c = 0; c < k; c++) {
                const float *src = x + (ptrdiff_t)c * x_cs + (ptrdiff_t)i0 * x_rs;
                size_t i = 0;
                if (x_rs == 1) // 16 rows at a time in registers, then 16 byte stores, one per row
                    for (; i + 16 <= ch; i += 16) {
                        v16f v, iv;
                        v16i z;
                        memcpy(&v, src + i, sizeof v);
                        memcpy(&iv, inv + i, sizeof iv);
                        memcpy(&z, zp + i0 + i, sizeof z);
                        v16i u = __builtin_convertvector(__builtin_elementwise_roundeven(v * iv), v16i) + z;
                        u = __builtin_elementwise_max(__builtin_elementwise_min(u, (v16i){0} + 255), (v16i){0});
                        v16b b = __builtin_convertvector(u, v16b);
                        for (int l = 0; l < 16; l++) xq[(i0 + i + l) * xq_rs + c] = b[l];
                    }
                for (; i < ch; i++)
                    xq[(i0 + i) * xq_rs + c] = quantize_one(src[(ptrdiff_t)i * x_rs], inv[i], zp[i0 + i]);
            }
            for (size_t i = 0; i < ch; i++)
                for (size_t c = k; c < k4; c++) xq[(i0 + i) * xq_rs + c] = 0;
        }
    }
}

IB_INLINE void quantize_rows_impl(uint8_t *xq, size_t xq_rs, float *scale, int32_t *zp,
                                  const float *x, ptrdiff_t x_rs, ptrdiff_t x_cs, size_t m, size_t k) {
    size_t k4 = ib_int8_k4(k);
    if (x_cs != 1) {
        // x_rs = 1 (b's rows contiguous) as a constant, so the loops over a chunk vectorise.
        if (x_rs == 1) quantize_strided(xq, xq_rs, scale, zp, x, 1, x_cs, m, k);
        else quantize_strided(xq, xq_rs, scale, zp, x, x_rs, x_cs, m, k);
        return;
    }
    for (size_t i = 0; i < m; i++) {
        const float *row = x + (ptrdiff_t)i * x_rs;
        uint8_t *dst = xq + i * xq_rs;
        float lo = 0, hi = 0, inv;
        size_t c = 0;
        v16f vlo = {0}, vhi = {0};
        for (; c + 16 <= k; c += 16) {
            v16f v;
            memcpy(&v, row + c, sizeof v);
            vlo = __builtin_elementwise_min(vlo, v);
            vhi = __builtin_elementwise_max(vhi, v);
        }
        for (int l = 0; l < 16; l++) lo = fminf(lo, vlo[l]), hi = fmaxf(hi, vhi[l]);
        for (; c < k; c++) lo = fminf(lo, row[c]), hi = fmaxf(hi, row[c]);
        row_params(lo, hi, &scale[i], &inv, &zp[i]);
        v16i z = (v16i){0} + zp[i];
        for (c = 0; c + 16 <= k; c += 16) {
            v16f v;
            memcpy(&v, row + c, sizeof v);
            v16i u = __builtin_convertvector(__builtin_elementwise_roundeven(v * inv), v16i) + z;
            u = __builtin_elementwise_max(__builtin_elementwise_min(u, (v16i){0} + 255), (v16i){0});
            v16b b = __builtin_convertvector(u, v16b);
            memcpy(dst + c, &b, sizeof b);
        }
        for (; c < k; c++) dst[c] = quantize_one(row[c], inv, zp[i]);
        for (c = k; c < k4; c++) dst[c] = 0; // meets zero weights: any value would do
    }
}

// MARK: Storing a tile
// acc (mr, nr) holds Σ u·q; the stored value is acc − zp·colsum, as int32 or rescaled.

IB_INLINE void store_tile(int32_t acc[][NR], int mr, int nr, const float *ws, const int32_t *cs,
                          const float *xs, const int32_t *zp, float *y, ptrdiff_t y_rs, ptrdiff_t y_cs,
                          int32_t *y32, size_t ldy32) {
    for (int r = 0; r < mr; r++)
        for (int j = 0; j < nr; j++) {
            int32_t v = acc[r][j] - zp[r] * cs[j];
            if (y32) y32[r * ldy32 + j] = v;
            else y[r * y_rs + j * y_cs] = (float)v * (xs[r] * ws[j]);
        }
}

// MARK: Portable kernel

/// One tile: rows a (mr, stride a_rs) of quantized activations against one packed panel b.
IB_INLINE void tile_generic(const int mr, size_t k4, const uint8_t *a, size_t a_rs, const int8_t *b,
                            int32_t acc[][NR]) {
    for (int r = 0; r < mr; r++)
        for (int j = 0; j < NR; j++) acc[r][j] = 0;
    for (size_t q = 0; q < k4 / 4; q++) {
        const int8_t *bq = b + q * NR * 4;
        for (int r = 0; r < mr; r++) {
            const uint8_t *ar = a + r * a_rs + 4 * q;
            for (int j = 0; j < NR; j++)
                acc[r][j] += ar[0] * bq[4 * j] + ar[1] * bq[4 * j + 1] + ar[2] * bq[4 * j + 2] + ar[3] * bq[4 * j + 3];
        }
    }
}

typedef void (*quantize_fn)(uint8_t *, size_t, float *, int32_t *, const float *, ptrdiff_t, ptrdiff_t, size_t, size_t);
typedef void (*block_fn)(const int8_t *, const float *, const int32_t *, size_t, size_t, const uint8_t *, size_t,
                         const float *, const int32_t *, size_t, float *, ptrdiff_t, ptrdiff_t, int32_t *, size_t);

/// Every tile of a block of mc rows against every panel; `TILE(R)` runs an R-row tile into acc.
#define IB_BLOCK_BODY(MR, TILE)                                                                      \
    size_t k4 = ib_int8_k4(k);                                                                       \
    for (size_t p = 0; p < panels(n); p++) {                                                         \
        const int8_t *b = packed + p * NR * k4;                                                      \
        int nr = n - p * NR < NR ? (int)(n - p * NR) : NR;                                           \
        for (size_t i = 0; i < mc; i += MR) {                                                        \
            int mr = mc - i < (size_t)MR ? (int)(mc - i) : MR;                                       \
            const uint8_t *a = xq + i * xq_rs;                                                       \
            float *yt = y ? y + (ptrdiff_t)i * y_rs + (ptrdiff_t)(p * NR) * y_cs : NULL;            \
            int32_t *yt32 = y32 ? y32 + i * ldy32 + p * NR : NULL;                                   \
            TILE                                                                                     \
        }                                                                                            \
    }

#define IB_DEFINE_PORTABLE(suffix)                                                                   \
    static void quantize_##suffix(uint8_t *xq, size_t xq_rs, float *scale, int32_t *zp, const float *x, \
                                  ptrdiff_t x_rs, ptrdiff_t x_cs, size_t m, size_t k) {              \
        quantize_rows_impl(xq, xq_rs, scale, zp, x, x_rs, x_cs, m, k);                               \
    }

IB_DEFINE_PORTABLE(generic)

static void block_generic(const int8_t *packed, const float *ws, const int32_t *cs, size_t n, size_t k,
                          const uint8_t *xq, size_t xq_rs, const float *xs, const int32_t *zp, size_t mc,
                          float *y, ptrdiff_t y_rs, ptrdiff_t y_cs, int32_t *y32, size_t ldy32) {
    int32_t acc[MR_SMALL][NR];
#define IB_TILE(R) case R: tile_generic(R, k4, a, xq_rs, b, acc); break;
    IB_BLOCK_BODY(MR_SMALL, {
        switch (mr) { IB_TILE(4) IB_TILE(3) IB_TILE(2) IB_TILE(1) }
        store_tile(acc, mr, nr, ws + p * NR, cs + p * NR, xs + i, zp + i, yt, y_rs, y_cs, yt32, ldy32);
    })
#undef IB_TILE
}

#if defined(__x86_64__) && defined(__clang__)
#define IB_HAVE_INT8_WIDE 1
#include <immintrin.h>

// MARK: AVX2 kernel (exact)
// vpmaddwd on int16: weights (8 columns × 4 K) sign-extended to 16 int16, the row's 4 uint8
// zero-extended and repeated; lane 2c gets a0·w0 + a1·w1 of column c, lane 2c + 1 gets
// a2·w2 + a3·w3, each < 2¹⁶ and summed in int32, so nothing saturates. A horizontal add at
// the end folds the lane pairs. Half the rate of vpdpbusd per lane, but exact.

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
IB_DEFINE_PORTABLE(avx2)

IB_INLINE void tile_avx2(const int mr, size_t k4, const uint8_t *a, size_t a_rs, const int8_t *b,
                         int32_t acc[][NR]) {
    for (int g = 0; g < NR / 8; g++) { // 8 columns at a time: 2·mr ymm accumulators
        __m256i s[MR_SMALL][2];
        for (int r = 0; r < mr; r++) s[r][0] = s[r][1] = _mm256_setzero_si256();
        for (size_t q = 0; q < k4 / 4; q++) {
            const int8_t *bq = b + q * NR * 4 + g * 32;
            __m256i w0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)bq));
            __m256i w1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(bq + 16)));
            for (int r = 0; r < mr; r++) {
                int32_t word;
                memcpy(&word, a + r * a_rs + 4 * q, sizeof word);
                __m256i ar = _mm256_cvtepu8_epi16(_mm_set1_epi32(word));
                s[r][0] = _mm256_add_epi32(s[r][0], _mm256_madd_epi16(w0, ar));
                s[r][1] = _mm256_add_epi32(s[r][1], _mm256_madd_epi16(w1, ar));
            }
        }
        for (int r = 0; r < mr; r++) {
            // hadd works per 128-bit lane: (c0 c1 c4 c5 | c2 c3 c6 c7) → reorder the 64-bit pairs.
            __m256i h = _mm256_permute4x64_epi64(_mm256_hadd_epi32(s[r][0], s[r][1]), 0xD8);
            _mm256_storeu_si256((__m256i *)(acc[r] + 8 * g), h);
        }
    }
}

static void block_avx2(const int8_t *packed, const float *ws, const int32_t *cs, size_t n, size_t k,
                       const uint8_t *xq, size_t xq_rs, const float *xs, const int32_t *zp, size_t mc,
                       float *y, ptrdiff_t y_rs, ptrdiff_t y_cs, int32_t *y32, size_t ldy32) {
    int32_t acc[MR_SMALL][NR];
#define IB_TILE(R) case R: tile_avx2(R, k4, a, xq_rs, b, acc); break;
    IB_BLOCK_BODY(MR_SMALL, {
        switch (mr) { IB_TILE(4) IB_TILE(3) IB_TILE(2) IB_TILE(1) }
        store_tile(acc, mr, nr, ws + p * NR, cs + p * NR, xs + i, zp + i, yt, y_rs, y_cs, yt32, ldy32);
    })
#undef IB_TILE
}
#pragma clang attribute pop

// MARK: AVX512-VNNI kernel
// vpdpbusd acc, a, b: acc[j] += Σ_{t<4} a.u8[4j+t] · b.s8[4j+t] in int32 (no saturation). With a
// = one row's 4 uint8 of K broadcast and b = 16 columns' 4 int8 of the same K, lane j advances
// column j by four terms.

#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma"))), apply_to = function)
IB_DEFINE_PORTABLE(avx512)

/// The micro-kernel and its epilogue: mr rows × 32 columns. Most of an int8 model's running
/// time is spent in the q loop.
IB_INLINE void tile_vnni(const int mr, size_t k4, const uint8_t *a, size_t a_rs, const int8_t *b,
                         int nr, const float *ws, const int32_t *cs, const float *xs, const int32_t *zp,
                         float *y, ptrdiff_t y_rs, ptrdiff_t y_cs, int32_t *y32, size_t ldy32) {
    __m512i acc[MR_VNNI][2];
    for (int r = 0; r < mr; r++) acc[r][0] = acc[r][1] = _mm512_setzero_si512();
    for (size_t q = 0; q < k4 / 4; q++) {
        __m512i b0 = _mm512_loadu_si512(b + q * NR * 4);
        __m512i b1 = _mm512_loadu_si512(b + q * NR * 4 + 64);
        for (int r = 0; r < mr; r++) {
            int32_t word;
            memcpy(&word, a + r * a_rs + 4 * q, sizeof word);
            __m512i ar = _mm512_set1_epi32(word);
            acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], ar, b0);
            acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], ar, b1);
        }
    }
    __mmask16 m0 = nr >= 16 ? 0xFFFF : (__mmask16)((1u << nr) - 1);
    __mmask16 m1 = nr >= 32 ? 0xFFFF : nr <= 16 ? 0 : (__mmask16)((1u << (nr - 16)) - 1);
    __m512i cs0 = _mm512_maskz_loadu_epi32(m0, cs), cs1 = _mm512_maskz_loadu_epi32(m1, cs + 16);
    __m512 ws0 = _mm512_maskz_loadu_ps(m0, ws), ws1 = _mm512_maskz_loadu_ps(m1, ws + 16);
    float t[MR_VNNI][NR];
    for (int r = 0; r < mr; r++) {
        __m512i z = _mm512_set1_epi32(zp[r]);
        __m512i v0 = _mm512_sub_epi32(acc[r][0], _mm512_mullo_epi32(z, cs0));
        __m512i v1 = _mm512_sub_epi32(acc[r][1], _mm512_mullo_epi32(z, cs1));
        if (y32) {
            _mm512_mask_storeu_epi32(y32 + r * ldy32, m0, v0);
            _mm512_mask_storeu_epi32(y32 + r * ldy32 + 16, m1, v1);
            continue;
        }
        __m512 x = _mm512_set1_ps(xs[r]);
        // (float)v · (xs · ws), as store_tile: the same two roundings on every path.
        __m512 f0 = _mm512_mul_ps(_mm512_cvtepi32_ps(v0), _mm512_mul_ps(x, ws0));
        __m512 f1 = _mm512_mul_ps(_mm512_cvtepi32_ps(v1), _mm512_mul_ps(x, ws1));
        if (y_cs == 1) {
            _mm512_mask_storeu_ps(y + r * y_rs, m0, f0);
            _mm512_mask_storeu_ps(y + r * y_rs + 16, m1, f1);
        } else {
            _mm512_storeu_ps(t[r], f0);
            _mm512_storeu_ps(t[r] + 16, f1);
        }
    }
    // Strided y (W · b for convolutions: y_rs = 1): per column, the tile's rows are adjacent.
    if (!y32 && y_cs != 1)
        for (int j = 0; j < nr; j++)
            for (int r = 0; r < mr; r++) y[r * y_rs + j * y_cs] = t[r][j];
}

static void block_vnni(const int8_t *packed, const float *ws, const int32_t *cs, size_t n, size_t k,
                       const uint8_t *xq, size_t xq_rs, const float *xs, const int32_t *zp, size_t mc,
                       float *y, ptrdiff_t y_rs, ptrdiff_t y_cs, int32_t *y32, size_t ldy32) {
#define IB_TILE(R) case R: tile_vnni(R, k4, a, xq_rs, b, nr, ws + p * NR, cs + p * NR, xs + i, zp + i, yt, y_rs, y_cs, yt32, ldy32); break;
    IB_BLOCK_BODY(MR_VNNI, {
        switch (mr) { IB_TILE(8) IB_TILE(7) IB_TILE(6) IB_TILE(5) IB_TILE(4) IB_TILE(3) IB_TILE(2) IB_TILE(1) }
    })
#undef IB_TILE
}
#pragma clang attribute pop
#endif

// MARK: Dispatch

bool ib_int8_vnni_available(void) {
#ifdef IB_HAVE_INT8_WIDE
    ib_cpu_features f = ib_cpu_detect();
    return f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq && f.avx512_vnni && f.avx2 && f.fma;
#else
    return false;
#endif
}

typedef enum { PATH_GENERIC, PATH_AVX2, PATH_VNNI } int8_path;

/// The elementwise path decides (INFBENCH_ISA and ib_isa_select steer it); AVX-512 without
/// VNNI takes the AVX2 kernel.
static int8_path path(void) {
#ifdef IB_HAVE_INT8_WIDE
    ib_isa isa = ib_isa_active();
    if (isa == IB_ISA_AVX512 && ib_int8_vnni_available()) return PATH_VNNI;
    if (isa >= IB_ISA_AVX2) return PATH_AVX2;
#endif
    return PATH_GENERIC;
}

const char *ib_int8_kernel_name(void) {
    switch (path()) {
    case PATH_VNNI: return "avx512vnni";
    case PATH_AVX2: return "avx2";
    default: return "generic";
    }
}

void ib_int8_quantize_rows(uint8_t *xq, size_t xq_rs, float *scale, int32_t *zp,
                           const float *x, ptrdiff_t x_rs, ptrdiff_t x_cs, size_t m, size_t k) {
    quantize_fn f = quantize_generic;
#ifdef IB_HAVE_INT8_WIDE
    switch (ib_isa_active()) {
    case IB_ISA_AVX512: f = quantize_avx512; break;
    case IB_ISA_AVX2: f = quantize_avx2; break;
    default: break;
    }
    // quantize_avx512 is compiled with VNNI allowed but uses none of it; guard anyway.
    if (f == quantize_avx512 && !ib_int8_vnni_available()) f = quantize_avx2;
#endif
    f(xq, xq_rs, scale, zp, x, x_rs, x_cs, m, k);
}

void ib_int8_gemm(const int8_t *packed, const float *wscale, const int32_t *colsum, size_t n, size_t k,
                  const uint8_t *xq, size_t xq_rs, const float *xscale, const int32_t *zp, size_t m,
                  float *y, ptrdiff_t y_rs, ptrdiff_t y_cs, int32_t *y32) {
    if (m == 0 || n == 0) return;
    block_fn block = block_generic;
#ifdef IB_HAVE_INT8_WIDE
    switch (path()) {
    case PATH_VNNI: block = block_vnni; break;
    case PATH_AVX2: block = block_avx2; break;
    default: break;
    }
#endif
    for (size_t i0 = 0; i0 < m; i0 += MC) {
        size_t mc = m - i0 < MC ? m - i0 : MC;
        block(packed, wscale, colsum, n, k, xq + i0 * xq_rs, xq_rs, xscale + i0, zp + i0, mc,
              y ? y + (ptrdiff_t)i0 * y_rs : NULL, y_rs, y_cs, y32 ? y32 + i0 * n : NULL, n);
    }
}
