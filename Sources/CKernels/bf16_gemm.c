// The bf16 GEMM: y (m, n) = x (m, k) · Wᵀ, W (n, k) packed as bf16 pairs, x and y fp32.
// Two kernels behind one driver: vdpbf16ps (AVX512-BF16: 32 multiply–adds per instruction,
// an fp32 FMA does 16 — measured peaks on one core here: 530 vs 265 GFLOP/s, and 133 for
// the 256-bit FMA OpenBLAS's Haswell kernels use) and a portable one that widens bf16 to
// fp32 and uses fp32 FMA (compiled for AVX-512F, AVX2+FMA and baseline x86-64), chosen at
// run time from cpuid.
#include "ib_bf16.h"
#include "CKernels.h"
#include <string.h>

#pragma clang fp contract(fast)

// MARK: Blocking
// Goto/BLIS style: a block of MC rows × KC of the activations is rounded to bf16 and packed
// on the stack (MC·KC/2 words = 36 KiB), then swept against every packed W panel; a W panel
// slice (32 columns × KC = 24 KiB) stays in L1 while the MR-row tiles of the block pass it.
// The packed block keeps a fixed row stride of KC2 words so the micro-kernel addresses its
// MR rows with constant displacements from one pointer.
enum {
    NR = IB_BF16_PANEL, // output columns per tile: two 16-lane vectors
    KC2 = 192,          // K pairs per block (384 values of K)
    MC = 48,            // rows per packed block: a multiple of every MR below
    // 8 rows × 2 vectors = 16 accumulators, enough to hide vdpbf16ps latency. Measured at
    // M = 4096 on this Zen 5: 8–11 rows run alike, 12 rows 8% slower, 14 spill (2.5× slower).
    MR_NATIVE = 8,
};

// MARK: Rounding

/// Round to nearest even, as HalfPrecision.swift's bf16Bits: adding 0x7FFF plus the lowest
/// kept bit carries exactly when the dropped half is above a tie, or a tie with an odd kept
/// part. NaN would carry into the exponent, so it is made quiet instead. Branch-free so the
/// packing loops vectorise.
static inline __attribute__((always_inline)) uint16_t rne_bits(uint32_t u) {
    uint32_t rounded = (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
    uint32_t quiet = (u >> 16) | 0x40u;
    return (uint16_t)((u & 0x7FFFFFFFu) > 0x7F800000u ? quiet : rounded);
}

static inline __attribute__((always_inline)) uint16_t rne(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return rne_bits(u);
}

uint16_t ib_bf16_round(float x) { return rne(x); }

// MARK: Weights

static size_t pairs(size_t k) { return (k + 1) / 2; }
static size_t panels(size_t n) { return (n + NR - 1) / NR; }

size_t ib_bf16_packed_words(size_t n, size_t k) { return panels(n) * NR * pairs(k); }

// packed: (panels, k2, NR) words; word [p][q][j] = (W[p·NR + j][2q], W[p·NR + j][2q + 1]).
void ib_bf16_pack(uint32_t *packed, const float *w, size_t n, size_t k) {
    size_t k2 = pairs(k);
    memset(packed, 0, ib_bf16_packed_words(n, k) * sizeof *packed);
    for (size_t row = 0; row < n; row++) {
        uint32_t *panel = packed + (row / NR) * k2 * NR + row % NR;
        for (size_t c = 0; c < k; c++) {
            uint32_t bits = rne(w[row * k + c]);
            panel[(c / 2) * NR] |= bits << (16 * (c % 2));
        }
    }
}

void ib_bf16_unpack(float *w, const uint32_t *packed, size_t n, size_t k) {
    size_t k2 = pairs(k);
    for (size_t row = 0; row < n; row++) {
        const uint32_t *panel = packed + (row / NR) * k2 * NR + row % NR;
        for (size_t c = 0; c < k; c++) {
            uint32_t bits = (panel[(c / 2) * NR] >> (16 * (c % 2))) & 0xFFFFu;
            uint32_t f = bits << 16;
            memcpy(&w[row * k + c], &f, sizeof f);
        }
    }
}

// MARK: Activations
// apack: (mc, KC2) words; word [i][q] = (x(i, 2(q0+q)), x(i, 2(q0+q)+1)) rounded to bf16,
// zero past k (odd k). Rounding here, once per block, is the only cost of using bf16 inputs:
// mc·kc conversions against mc·kc·n multiply–adds.

static inline __attribute__((always_inline))
void pack_a_impl(uint32_t *apack, const float *x, ptrdiff_t x_rs, ptrdiff_t x_cs,
                 size_t mc, size_t k, size_t q0, size_t kc2) {
    size_t c0 = 2 * q0;
    size_t count = k - c0 < 2 * kc2 ? k - c0 : 2 * kc2; // values of K in this block
    if (x_cs == 1) {
        for (size_t i = 0; i < mc; i++) {
            const float *src = x + (ptrdiff_t)i * x_rs + (ptrdiff_t)c0;
            uint16_t *dst = (uint16_t *)(apack + i * KC2); // little-endian: value 2q is the low half
            for (size_t c = 0; c < count; c++) dst[c] = rne(src[c]);
            if (count % 2) dst[count] = 0;
        }
    } else {
        // Strided (W · b for convolutions): walk K outside so each read runs along a row of b.
        for (size_t c = 0; c < count; c++) {
            const float *src = x + (ptrdiff_t)(c0 + c) * x_cs;
            for (size_t i = 0; i < mc; i++) ((uint16_t *)(apack + i * KC2))[c] = rne(src[(ptrdiff_t)i * x_rs]);
        }
        if (count % 2)
            for (size_t i = 0; i < mc; i++) ((uint16_t *)(apack + i * KC2))[count] = 0;
    }
}

// MARK: Storing a tile
// A tile is mr × nr of y (nr ≤ NR: the last panel may be partial). The first K block
// overwrites y, later ones add to it.

static inline __attribute__((always_inline))
void store_strided(float tile[][NR], int mr, int nr, float *y, ptrdiff_t y_rs, ptrdiff_t y_cs, bool accumulate) {
    for (int j = 0; j < nr; j++)
        for (int r = 0; r < mr; r++) {
            float *dst = y + r * y_rs + j * y_cs;
            *dst = accumulate ? *dst + tile[r][j] : tile[r][j];
        }
}

// MARK: Portable kernel
// bf16 → fp32 is a 16-bit shift, so the weights widen in registers; then fp32 FMA (mul + add
// on baseline x86-64). GCC/Clang vector types let the compiler map v16f onto one zmm, two
// ymm or four xmm, whichever the function's target has.

typedef float v16f __attribute__((vector_size(64), aligned(4)));
typedef uint32_t v16u __attribute__((vector_size(64), aligned(4)));

// Macros, not functions: a 64-byte vector passed by value would change the ABI per target.
#define WIDEN_LOW(u) ((v16f)((u) << 16))
#define WIDEN_HIGH(u) ((v16f)((u) & 0xFFFF0000u))

/// One tile: a (mr rows, stride KC2) · b (kc2 pairs × NR columns) → y (mr, nr).
static inline __attribute__((always_inline))
void tile_portable(const int mr, size_t kc2, const uint32_t *a, const uint32_t *b,
                   float *y, ptrdiff_t y_rs, ptrdiff_t y_cs, int nr, bool accumulate) {
    v16f acc[8][2];
    for (int r = 0; r < mr; r++) acc[r][0] = acc[r][1] = (v16f){0};
    for (size_t q = 0; q < kc2; q++) {
        v16u u0, u1;
        memcpy(&u0, b + q * NR, sizeof u0);
        memcpy(&u1, b + q * NR + 16, sizeof u1);
        v16f lo0 = WIDEN_LOW(u0), hi0 = WIDEN_HIGH(u0), lo1 = WIDEN_LOW(u1), hi1 = WIDEN_HIGH(u1);
        for (int r = 0; r < mr; r++) {
            uint32_t pair = a[r * KC2 + q];
            float alo, ahi;
            uint32_t blo = pair << 16, bhi = pair & 0xFFFF0000u;
            memcpy(&alo, &blo, sizeof alo);
            memcpy(&ahi, &bhi, sizeof ahi);
            v16f sl = (v16f){0} + alo, sh = (v16f){0} + ahi;
            acc[r][0] = acc[r][0] + sl * lo0;
            acc[r][0] = acc[r][0] + sh * hi0;
            acc[r][1] = acc[r][1] + sl * lo1;
            acc[r][1] = acc[r][1] + sh * hi1;
        }
    }
    if (y_cs == 1 && nr == NR) {
        for (int r = 0; r < mr; r++) {
            float *row = y + r * y_rs;
            for (int h = 0; h < 2; h++) {
                v16f v = acc[r][h];
                if (accumulate) {
                    v16f old;
                    memcpy(&old, row + 16 * h, sizeof old);
                    v = v + old;
                }
                memcpy(row + 16 * h, &v, sizeof v);
            }
        }
    } else {
        float tile[8][NR];
        for (int r = 0; r < mr; r++) {
            memcpy(tile[r], &acc[r][0], sizeof acc[r][0]);
            memcpy(tile[r] + 16, &acc[r][1], sizeof acc[r][1]);
        }
        store_strided(tile, mr, nr, y, y_rs, y_cs, accumulate);
    }
}

/// Every tile of one packed activation block against every W panel. mrMax ≤ 8.
static inline __attribute__((always_inline))
void block_portable(const int mrMax, const uint32_t *apack, size_t mc, const uint32_t *packed,
                    size_t n, size_t k2, size_t q0, size_t kc2, float *y, ptrdiff_t y_rs,
                    ptrdiff_t y_cs, bool accumulate) {
    for (size_t p = 0; p < panels(n); p++) {
        const uint32_t *b = packed + p * k2 * NR + q0 * NR;
        int nr = n - p * NR < NR ? (int)(n - p * NR) : NR;
        float *yp = y + (ptrdiff_t)(p * NR) * y_cs;
        for (size_t i = 0; i < mc; i += mrMax) {
            int mr = mc - i < (size_t)mrMax ? (int)(mc - i) : mrMax;
            const uint32_t *a = apack + i * KC2;
            float *yt = yp + (ptrdiff_t)i * y_rs;
            // A constant row count per case, so each tile's loops unroll into registers.
            switch (mr) {
#define IB_TILE(R) case R: tile_portable(R, kc2, a, b, yt, y_rs, y_cs, nr, accumulate); break;
            IB_TILE(8) IB_TILE(7) IB_TILE(6) IB_TILE(5) IB_TILE(4) IB_TILE(3) IB_TILE(2) IB_TILE(1)
#undef IB_TILE
            }
        }
    }
}

typedef void (*pack_fn)(uint32_t *, const float *, ptrdiff_t, ptrdiff_t, size_t, size_t, size_t, size_t);
typedef void (*block_fn)(const uint32_t *, size_t, const uint32_t *, size_t, size_t, size_t, size_t,
                         float *, ptrdiff_t, ptrdiff_t, bool);

#define IB_PACK_A(suffix)                                                                      \
    static void pack_a_##suffix(uint32_t *apack, const float *x, ptrdiff_t x_rs, ptrdiff_t x_cs, \
                                size_t mc, size_t k, size_t q0, size_t kc2) {                  \
        pack_a_impl(apack, x, x_rs, x_cs, mc, k, q0, kc2);                                     \
    }
#define IB_BLOCK_PORTABLE(suffix, mrMax)                                                       \
    static void block_portable_##suffix(const uint32_t *apack, size_t mc, const uint32_t *packed, \
                                        size_t n, size_t k2, size_t q0, size_t kc2, float *y,  \
                                        ptrdiff_t y_rs, ptrdiff_t y_cs, bool accumulate) {     \
        block_portable(mrMax, apack, mc, packed, n, k2, q0, kc2, y, y_rs, y_cs, accumulate);   \
    }

// Baseline x86-64 (SSE2): 4 rows × 32 columns = 32 xmm of accumulators would spill, but a
// CPU without AVX2 is only a correctness target here.
IB_PACK_A(generic)
IB_BLOCK_PORTABLE(generic, 4)

#if defined(__x86_64__) && defined(__clang__)
#define IB_HAVE_BF16_WIDE 1
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
IB_PACK_A(avx2)
IB_BLOCK_PORTABLE(avx2, 4) // 4 rows × 4 ymm = 16 accumulators, widened weights reloaded
#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma"))), apply_to = function)
IB_PACK_A(avx512)
IB_BLOCK_PORTABLE(avx512, 8) // 8 rows × 2 zmm = 16 accumulators + 4 widened weight vectors
#pragma clang attribute pop

// MARK: AVX512-BF16 kernel
// vdpbf16ps acc, a, b: acc[j] += a.bf16[2j]·b.bf16[2j] + a.bf16[2j+1]·b.bf16[2j+1] for 16
// lanes j. With a = one row's (x[2q], x[2q+1]) broadcast and b = 16 columns' (W[n][2q],
// W[n][2q+1]), lane j advances y[row][n_j] by two terms of K. The products of two bf16 are
// exact in fp32; the additions round to nearest in fp32. The instruction treats subnormal
// inputs as zero and flushes subnormal results (values below 2⁻¹²⁶; none occur in weights
// or activations at any useful scale).

#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,avx2,fma"))), apply_to = function)
IB_PACK_A(bf16)

/// The micro-kernel: mr rows × 32 columns, 2·mr zmm accumulators, K two at a time.
/// Most of a bf16 model's running time is spent in this loop.
static inline __attribute__((always_inline))
void tile_native(const int mr, size_t kc2, const uint32_t *a, const uint32_t *b,
                 float *y, ptrdiff_t y_rs, ptrdiff_t y_cs, int nr, bool accumulate) {
    __m512 acc[MR_NATIVE][2];
    for (int r = 0; r < mr; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    for (size_t q = 0; q < kc2; q++) {
        __m512bh b0 = (__m512bh)_mm512_loadu_si512(b + q * NR);
        __m512bh b1 = (__m512bh)_mm512_loadu_si512(b + q * NR + 16);
        for (int r = 0; r < mr; r++) {
            // One vbroadcastss per row, shared by the row's two vectors.
            __m512bh ar = (__m512bh)_mm512_set1_epi32((int)a[r * KC2 + q]);
            acc[r][0] = _mm512_dpbf16_ps(acc[r][0], ar, b0);
            acc[r][1] = _mm512_dpbf16_ps(acc[r][1], ar, b1);
        }
    }
    if (y_cs == 1) {
        __mmask16 m0 = nr >= 16 ? 0xFFFF : (__mmask16)((1u << nr) - 1);
        __mmask16 m1 = nr >= 32 ? 0xFFFF : nr <= 16 ? 0 : (__mmask16)((1u << (nr - 16)) - 1);
        for (int r = 0; r < mr; r++) {
            float *row = y + r * y_rs;
            __m512 v0 = acc[r][0], v1 = acc[r][1];
            if (accumulate) {
                v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, row));
                v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, row + 16));
            }
            _mm512_mask_storeu_ps(row, m0, v0);
            _mm512_mask_storeu_ps(row + 16, m1, v1);
        }
    } else {
        float tile[MR_NATIVE][NR];
        for (int r = 0; r < mr; r++) {
            _mm512_storeu_ps(tile[r], acc[r][0]);
            _mm512_storeu_ps(tile[r] + 16, acc[r][1]);
        }
        store_strided(tile, mr, nr, y, y_rs, y_cs, accumulate);
    }
}

static void block_bf16(const uint32_t *apack, size_t mc, const uint32_t *packed, size_t n,
                       size_t k2, size_t q0, size_t kc2, float *y, ptrdiff_t y_rs,
                       ptrdiff_t y_cs, bool accumulate) {
    for (size_t p = 0; p < panels(n); p++) {
        const uint32_t *b = packed + p * k2 * NR + q0 * NR;
        int nr = n - p * NR < NR ? (int)(n - p * NR) : NR;
        float *yp = y + (ptrdiff_t)(p * NR) * y_cs;
        for (size_t i = 0; i < mc; i += MR_NATIVE) {
            int mr = mc - i < MR_NATIVE ? (int)(mc - i) : MR_NATIVE;
            const uint32_t *a = apack + i * KC2;
            float *yt = yp + (ptrdiff_t)i * y_rs;
            switch (mr) {
#define IB_TILE(R) case R: tile_native(R, kc2, a, b, yt, y_rs, y_cs, nr, accumulate); break;
            IB_TILE(8) IB_TILE(7) IB_TILE(6) IB_TILE(5) IB_TILE(4) IB_TILE(3) IB_TILE(2) IB_TILE(1)
#undef IB_TILE
            }
        }
    }
}
#pragma clang attribute pop
#endif

// MARK: Dispatch

static bool forced_portable = false;

bool ib_bf16_native_available(void) {
#ifdef IB_HAVE_BF16_WIDE
    ib_cpu_features f = ib_cpu_detect();
    return f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq && f.avx512_bf16 && f.avx2 && f.fma;
#else
    return false;
#endif
}

// INFBENCH_ISA=avx2|generic (ib_isa_active) asks for no AVX-512, which rules out vdpbf16ps too.
bool ib_bf16_native_active(void) {
    return !__atomic_load_n(&forced_portable, __ATOMIC_RELAXED) && ib_bf16_native_available() &&
           ib_isa_active() == IB_ISA_AVX512;
}

void ib_bf16_force_portable(bool portable) { __atomic_store_n(&forced_portable, portable, __ATOMIC_RELAXED); }

const char *ib_bf16_kernel_name(void) {
    if (ib_bf16_native_active()) return "avx512bf16";
    switch (ib_isa_active()) {
    case IB_ISA_AVX512: return "portable-avx512";
    case IB_ISA_AVX2: return "portable-avx2";
    default: return "portable-generic";
    }
}

void ib_bf16_gemm(const uint32_t *packed, size_t n, size_t k, size_t m,
                  const float *x, ptrdiff_t x_rs, ptrdiff_t x_cs,
                  float *y, ptrdiff_t y_rs, ptrdiff_t y_cs) {
    if (m == 0 || n == 0) return;
    if (k == 0) {
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < n; j++) y[(ptrdiff_t)i * y_rs + (ptrdiff_t)j * y_cs] = 0;
        return;
    }
    pack_fn pack = pack_a_generic;
    block_fn block = block_portable_generic;
#ifdef IB_HAVE_BF16_WIDE
    if (ib_bf16_native_active()) {
        pack = pack_a_bf16;
        block = block_bf16;
    } else if (ib_isa_active() == IB_ISA_AVX512) {
        pack = pack_a_avx512;
        block = block_portable_avx512;
    } else if (ib_isa_active() == IB_ISA_AVX2) {
        pack = pack_a_avx2;
        block = block_portable_avx2;
    }
#endif
    size_t k2 = pairs(k);
    uint32_t apack[MC * KC2]; // (MC, KC2): the rounded activation block, 36 KiB
    for (size_t i0 = 0; i0 < m; i0 += MC) {
        size_t mc = m - i0 < MC ? m - i0 : MC;
        for (size_t q0 = 0; q0 < k2; q0 += KC2) {
            size_t kc2 = k2 - q0 < KC2 ? k2 - q0 : KC2;
            pack(apack, x + (ptrdiff_t)i0 * x_rs, x_rs, x_cs, mc, k, q0, kc2);
            block(apack, mc, packed, n, k2, q0, kc2, y + (ptrdiff_t)i0 * y_rs, y_rs, y_cs, q0 > 0);
        }
    }
}
