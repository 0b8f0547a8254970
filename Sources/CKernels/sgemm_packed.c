// The fp32 GEMM of the linear layers: y (m, n) = x (m, k) · Wᵀ + bias, W (n, k) packed once
// into 32-column panels. OpenBLAS packs W anew on every call; at the batch-1 shapes of a
// transformer (m = 16 tokens, W up to 1536 × 384) that copy costs as much as the arithmetic,
// and at m = 1 (a decoding step) it is the whole cost. Packed once, each call reads W once,
// straight into the micro-kernel. One portable C kernel, written on GCC/Clang vector types and
// compiled three times (AVX-512F, AVX2+FMA, baseline x86-64), chosen at run time from cpuid.
#include "ib_sgemm.h"
#include "CKernels.h"
#include "ib_approx.h"
#include <string.h>

#pragma clang fp contract(fast)

// MARK: Blocking
// Goto/BLIS style, as bf16_gemm.c: a block of MC rows × KC of the activations is copied to the
// stack (48 × 256 floats = 48 KiB) so the micro-kernel addresses its MR rows at a fixed stride;
// a W panel slice (KC × 32 floats = 32 KiB) stays in L1 while the block's MR-row tiles pass it.
enum {
    NR = IB_SGEMM_PANEL, // output columns per tile: two 16-lane vectors
    KC = 256,            // values of K per block
    MC = 48,             // rows per block: a multiple of every MR below
    // Up to this many rows with contiguous K, x is read in place, panel after panel (see
    // IB_DEFINE_FEW_ROWS). Measured on MiniLM, 1 thread, alternating runs: 1×16 3.98 ms against
    // 4.22–4.43 blocked; m = 64 13.8 against 14.2 ms; m = 128 28.9 against 29.5; m = 256 and 512 level.
    FEW_ROWS = 256,
    // How far ahead along a panel the AVX-512 tile prefetches W: at few rows W streams from
    // memory, and the hardware prefetcher alone stays too close behind the loads. MiniLM 1×16,
    // 1 thread, three alternating rounds: 3.77–3.98 ms at 16 KiB and at 8 KiB against 4.03–4.32
    // without; 1×128 and 32×16 level (28.5–28.8, 111–112 ms).
    IB_SGEMM_PREFETCH = 16384,
};

// MARK: Activations
// apack (mc, KC): rows i0..<i0+mc, K values k0..<k0+kc of x, whatever x's strides.
static inline __attribute__((always_inline))
void pack_a_impl(float *apack, const float *x, ptrdiff_t x_rs, ptrdiff_t x_cs, size_t mc, size_t k0, size_t kc) {
    if (x_cs == 1) {
        for (size_t i = 0; i < mc; i++) memcpy(apack + i * KC, x + (ptrdiff_t)i * x_rs + (ptrdiff_t)k0, kc * sizeof(float));
    } else {
        // Strided (W · b for convolutions): walk K outside so each read runs along a row of b.
        for (size_t c = 0; c < kc; c++) {
            const float *src = x + (ptrdiff_t)(k0 + c) * x_cs;
            for (size_t i = 0; i < mc; i++) apack[i * KC + c] = src[(ptrdiff_t)i * x_rs];
        }
    }
}

// MARK: The micro-kernel

typedef float v16f __attribute__((vector_size(64), aligned(4)));

/// One tile: a (mr rows at stride lda: the packed block's KC, or x's own rows) · b (kc × NR, a panel
/// slice) → y (mr, nr).
/// The first K block overwrites y (adding the bias, if any), later ones add to it. y is written
/// through strides only when y_cs ≠ 1 (W · b) or the tile is the partial last panel.
/// Most of an fp32 transformer's running time is spent in this loop.
static inline __attribute__((always_inline))
void tile(const int mr, size_t kc, const float *a, ptrdiff_t lda, const float *b, float *y, ptrdiff_t y_rs,
          ptrdiff_t y_cs, int nr, bool accumulate, const float *bias) {
    v16f acc[8][2];
    for (int r = 0; r < mr; r++) acc[r][0] = acc[r][1] = (v16f){0};
    for (size_t q = 0; q < kc; q++) {
        v16f b0, b1;
        memcpy(&b0, b + q * NR, sizeof b0);
        memcpy(&b1, b + q * NR + 16, sizeof b1);
        for (int r = 0; r < mr; r++) {
            v16f s = (v16f){0} + a[r * lda + q]; // one broadcast per row, shared by its two vectors
            acc[r][0] = acc[r][0] + s * b0;
            acc[r][1] = acc[r][1] + s * b1;
        }
    }
    if (!accumulate && bias) {
        float padded[NR] = {0};
        memcpy(padded, bias, (size_t)nr * sizeof(float));
        v16f b0, b1;
        memcpy(&b0, padded, sizeof b0);
        memcpy(&b1, padded + 16, sizeof b1);
        for (int r = 0; r < mr; r++) {
            acc[r][0] = acc[r][0] + b0;
            acc[r][1] = acc[r][1] + b1;
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
        float t[8][NR];
        for (int r = 0; r < mr; r++) {
            memcpy(t[r], &acc[r][0], sizeof acc[r][0]);
            memcpy(t[r] + 16, &acc[r][1], sizeof acc[r][1]);
        }
        for (int r = 0; r < mr; r++)
            for (int j = 0; j < nr; j++) {
                float *dst = y + r * y_rs + j * y_cs;
                *dst = accumulate ? *dst + t[r][j] : t[r][j];
            }
    }
}

// MARK: Epilogue
/// GELU on a tile just stored (mr, nr of y, still in L1), after the last K block: the same
/// ib_gelu_approx as ib_gelu, so fused and separate passes give the same bits. Inlined into each
/// ISA's block driver, where the contiguous loop vectorises for that path's width.
static inline __attribute__((always_inline))
void epilogue_tile(ib_epilogue epilogue, float *y, ptrdiff_t y_rs, ptrdiff_t y_cs, int mr, int nr) {
    if (epilogue != IB_EPILOGUE_GELU) return;
    if (y_cs == 1 && nr == NR) {
        // Full panel: a constant trip count, so each row is two whole vectors (no remainder loop).
        for (int r = 0; r < mr; r++)
            for (int j = 0; j < NR; j++) y[r * y_rs + j] = ib_gelu_approx(y[r * y_rs + j]);
        return;
    }
    for (int r = 0; r < mr; r++) {
        float *row = y + r * y_rs;
        if (y_cs == 1) {
            for (int j = 0; j < nr; j++) row[j] = ib_gelu_approx(row[j]);
        } else {
            for (int j = 0; j < nr; j++) row[j * y_cs] = ib_gelu_approx(row[j * y_cs]);
        }
    }
}

/// TILE on the tile of mr (≤ MRMAX ≤ 8) rows at a (stride lda) against panel slice b, then the
/// epilogue: a switch so each row count inlines as a constant and unrolls into registers.
#define IB_TILE(TILE, mr, kc, a, lda, b, yt, y_rs, y_cs, nr, accumulate, bp, epilogue)             \
    do {                                                                                           \
        switch (mr) {                                                                              \
        case 8: TILE(8, kc, a, lda, b, yt, y_rs, y_cs, nr, accumulate, bp); break;                 \
        case 7: TILE(7, kc, a, lda, b, yt, y_rs, y_cs, nr, accumulate, bp); break;                 \
        case 6: TILE(6, kc, a, lda, b, yt, y_rs, y_cs, nr, accumulate, bp); break;                 \
        case 5: TILE(5, kc, a, lda, b, yt, y_rs, y_cs, nr, accumulate, bp); break;                 \
        case 4: TILE(4, kc, a, lda, b, yt, y_rs, y_cs, nr, accumulate, bp); break;                 \
        case 3: TILE(3, kc, a, lda, b, yt, y_rs, y_cs, nr, accumulate, bp); break;                 \
        case 2: TILE(2, kc, a, lda, b, yt, y_rs, y_cs, nr, accumulate, bp); break;                 \
        case 1: TILE(1, kc, a, lda, b, yt, y_rs, y_cs, nr, accumulate, bp); break;                 \
        }                                                                                          \
        epilogue_tile(epilogue, yt, y_rs, y_cs, mr, nr);                                           \
    } while (0)

/// Every tile of one packed activation block against every panel, with TILE (the portable `tile`
/// or the AVX-512 `tile_native`) in tiles of at most MRMAX (≤ 8) rows; `epilogue` runs on each tile
/// as it is stored, on the last K block only (the caller passes IB_EPILOGUE_NONE before it).
#define IB_DEFINE_BLOCK(NAME, TILE, MRMAX)                                                             \
    static void NAME(const float *apack, size_t mc, const float *packed, size_t n, size_t k, size_t k0, \
                     size_t kc, float *y, ptrdiff_t y_rs, ptrdiff_t y_cs, bool accumulate, const float *bias,    \
                     ib_epilogue epilogue) {                                                         \
        size_t panels = (n + NR - 1) / NR;                                                             \
        for (size_t p = 0; p < panels; p++) {                                                          \
            const float *b = packed + p * k * NR + k0 * NR;                                            \
            int nr = n - p * NR < NR ? (int)(n - p * NR) : NR;                                         \
            float *yp = y + (ptrdiff_t)(p * NR) * y_cs;                                                \
            const float *bp = bias ? bias + p * NR : NULL;                                             \
            for (size_t i = 0; i < mc; i += (MRMAX)) {                                                 \
                int mr = mc - i < (size_t)(MRMAX) ? (int)(mc - i) : (MRMAX);                           \
                IB_TILE(TILE, mr, kc, apack + i * KC, KC, b, yp + (ptrdiff_t)i * y_rs, y_rs, y_cs, nr,  \
                        accumulate, bp, epilogue);                                                     \
            }                                                                                          \
        }                                                                                              \
    }

/// Few rows (m ≤ FEW_ROWS) with contiguous K: the tiles read x in place (no copy; x stays in L2)
/// and the panels run outermost, each panel's K blocks in order, so W is read once, front to back
/// as it lies in memory — the blocked path reads it once per MC rows, jumping a whole panel
/// (k × NR floats) between K blocks, which the hardware prefetcher follows badly. Each output sums
/// the same products in the same order as in the blocked path: the two give the same bits.
#define IB_DEFINE_FEW_ROWS(NAME, TILE, MRMAX)                                                          \
    static void NAME(const float *x, ptrdiff_t x_rs, size_t m, const float *packed, size_t n, size_t k,  \
                     float *y, ptrdiff_t y_rs, ptrdiff_t y_cs, const float *bias, ib_epilogue epilogue) { \
        size_t panels = (n + NR - 1) / NR;                                                             \
        for (size_t p = 0; p < panels; p++) {                                                          \
            int nr = n - p * NR < NR ? (int)(n - p * NR) : NR;                                         \
            float *yp = y + (ptrdiff_t)(p * NR) * y_cs;                                                \
            const float *bp = bias ? bias + p * NR : NULL;                                             \
            for (size_t k0 = 0; k0 == 0 || k0 < k; k0 += KC) {                                         \
                size_t kc = k - k0 < KC ? k - k0 : KC;                                                 \
                const float *b = packed + p * k * NR + k0 * NR;                                        \
                ib_epilogue e = k0 + kc == k ? epilogue : IB_EPILOGUE_NONE;                            \
                for (size_t i = 0; i < m; i += (MRMAX)) {                                              \
                    int mr = m - i < (size_t)(MRMAX) ? (int)(m - i) : (MRMAX);                         \
                    IB_TILE(TILE, mr, kc, x + (ptrdiff_t)i * x_rs + k0, x_rs, b, yp + (ptrdiff_t)i * y_rs,  \
                            y_rs, y_cs, nr, k0 > 0, bp, e);                                            \
                }                                                                                      \
            }                                                                                          \
        }                                                                                              \
    }

typedef void (*pack_fn)(float *, const float *, ptrdiff_t, ptrdiff_t, size_t, size_t, size_t);
typedef void (*block_fn)(const float *, size_t, const float *, size_t, size_t, size_t, size_t,
                         float *, ptrdiff_t, ptrdiff_t, bool, const float *, ib_epilogue);
typedef void (*few_rows_fn)(const float *, ptrdiff_t, size_t, const float *, size_t, size_t,
                            float *, ptrdiff_t, ptrdiff_t, const float *, ib_epilogue);

#define IB_PACK_A(suffix)                                                                            \
    static void pack_a_##suffix(float *apack, const float *x, ptrdiff_t x_rs, ptrdiff_t x_cs,        \
                                size_t mc, size_t k0, size_t kc) {                                   \
        pack_a_impl(apack, x, x_rs, x_cs, mc, k0, kc);                                               \
    }

// Baseline x86-64 (SSE2): 2 rows × 8 xmm of accumulators; a correctness target, not a fast one.
IB_PACK_A(generic)
IB_DEFINE_BLOCK(block_generic, tile, 2)
IB_DEFINE_FEW_ROWS(few_rows_generic, tile, 2)

#if defined(__x86_64__) && defined(__clang__)
#define IB_HAVE_SGEMM_WIDE 1
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
IB_PACK_A(avx2)
IB_DEFINE_BLOCK(block_avx2, tile, 4) // 4 rows × 4 ymm = 16 accumulators + 4 weight vectors
IB_DEFINE_FEW_ROWS(few_rows_avx2, tile, 4)
#pragma clang attribute pop

// AVX-512: the same driver around an intrinsic micro-kernel, so each row's broadcast is a
// load (vbroadcastss from memory, or folded into the FMA) rather than a load plus a shuffle,
// and K runs four at a time. 8 rows × 2 zmm = 16 accumulators, enough to hide FMA latency.
#include <immintrin.h>
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma"))), apply_to = function)
static inline __attribute__((always_inline))
void tile_native(const int mr, size_t kc, const float *a, ptrdiff_t lda, const float *b, float *y, ptrdiff_t y_rs,
                 ptrdiff_t y_cs, int nr, bool accumulate, const float *bias) {
    __m512 acc[8][2];
    for (int r = 0; r < mr; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
#define IB_STEP(Q)                                                                 \
    {                                                                              \
        __m512 b0 = _mm512_loadu_ps(b + (Q) * NR), b1 = _mm512_loadu_ps(b + (Q) * NR + 16); \
        for (int r = 0; r < mr; r++) {                                             \
            __m512 s = _mm512_set1_ps(a[r * lda + (Q)]);                            \
            acc[r][0] = _mm512_fmadd_ps(s, b0, acc[r][0]);                         \
            acc[r][1] = _mm512_fmadd_ps(s, b1, acc[r][1]);                         \
        }                                                                          \
    }
    // Four K steps read 8 cache lines of the panel; ask for the 8 lines IB_SGEMM_PREFETCH ahead.
#define IB_PREFETCH(P)                                                                             \
    for (int line = 0; line < 8; line++) _mm_prefetch((const char *)(P) + IB_SGEMM_PREFETCH + 64 * line, _MM_HINT_T0);
    size_t q = 0;
    if (mr == 1) {
        // One row (a decoding step): two accumulators would wait on FMA latency, so four K
        // phases accumulate apart and are summed at the end; the loop is then bound by reading W.
        __m512 p0[3] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()}, p1[3] = {p0[0], p0[0], p0[0]};
        for (; q + 4 <= kc; q += 4) {
            IB_PREFETCH(b + q * NR)
            IB_STEP(q)
            for (int u = 1; u < 4; u++) {
                __m512 s = _mm512_set1_ps(a[q + u]);
                p0[u - 1] = _mm512_fmadd_ps(s, _mm512_loadu_ps(b + (q + u) * NR), p0[u - 1]);
                p1[u - 1] = _mm512_fmadd_ps(s, _mm512_loadu_ps(b + (q + u) * NR + 16), p1[u - 1]);
            }
        }
        acc[0][0] = _mm512_add_ps(_mm512_add_ps(acc[0][0], p0[0]), _mm512_add_ps(p0[1], p0[2]));
        acc[0][1] = _mm512_add_ps(_mm512_add_ps(acc[0][1], p1[0]), _mm512_add_ps(p1[1], p1[2]));
    }
    for (; q + 4 <= kc; q += 4) {
        IB_PREFETCH(b + q * NR)
        IB_STEP(q) IB_STEP(q + 1) IB_STEP(q + 2) IB_STEP(q + 3) }
    for (; q < kc; q++) IB_STEP(q)
#undef IB_STEP
#undef IB_PREFETCH
    __mmask16 m0 = nr >= 16 ? 0xFFFF : (__mmask16)((1u << nr) - 1);
    __mmask16 m1 = nr >= 32 ? 0xFFFF : nr <= 16 ? 0 : (__mmask16)((1u << (nr - 16)) - 1);
    if (!accumulate && bias) {
        __m512 b0 = _mm512_maskz_loadu_ps(m0, bias), b1 = _mm512_maskz_loadu_ps(m1, bias + 16);
        for (int r = 0; r < mr; r++) {
            acc[r][0] = _mm512_add_ps(acc[r][0], b0);
            acc[r][1] = _mm512_add_ps(acc[r][1], b1);
        }
    }
    if (y_cs == 1) {
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
        float t[8][NR];
        for (int r = 0; r < mr; r++) {
            _mm512_storeu_ps(t[r], acc[r][0]);
            _mm512_storeu_ps(t[r] + 16, acc[r][1]);
        }
        for (int r = 0; r < mr; r++)
            for (int j = 0; j < nr; j++) {
                float *dst = y + r * y_rs + j * y_cs;
                *dst = accumulate ? *dst + t[r][j] : t[r][j];
            }
    }
}

IB_PACK_A(avx512)
IB_DEFINE_BLOCK(block_avx512, tile_native, 8)
IB_DEFINE_FEW_ROWS(few_rows_avx512, tile_native, 8)
#pragma clang attribute pop
#endif

// MARK: Weights

static size_t panels_of(size_t n) { return (n + NR - 1) / NR; }

size_t ib_sgemm_packed_floats(size_t n, size_t k) { return panels_of(n) * NR * k; }

// packed: (panels, k, NR); float [p][c][j] = W[p·NR + j][c], zero past n.
void ib_sgemm_pack(float *packed, const float *w, size_t n, size_t k) {
    memset(packed, 0, ib_sgemm_packed_floats(n, k) * sizeof *packed);
    for (size_t row = 0; row < n; row++) {
        float *panel = packed + (row / NR) * k * NR + row % NR;
        for (size_t c = 0; c < k; c++) panel[c * NR] = w[row * k + c];
    }
}

void ib_sgemm_unpack(float *w, const float *packed, size_t n, size_t k) {
    for (size_t row = 0; row < n; row++) {
        const float *panel = packed + (row / NR) * k * NR + row % NR;
        for (size_t c = 0; c < k; c++) w[row * k + c] = panel[c * NR];
    }
}

// MARK: Dispatch

const char *ib_sgemm_kernel_name(void) {
#ifdef IB_HAVE_SGEMM_WIDE
    switch (ib_isa_active()) {
    case IB_ISA_AVX512: return "avx512";
    case IB_ISA_AVX2: return "avx2";
    default: break;
    }
#endif
    return "generic";
}

void ib_sgemm_packed(const float *packed, size_t n, size_t k, size_t m,
                     const float *x, ptrdiff_t x_rs, ptrdiff_t x_cs,
                     float *y, ptrdiff_t y_rs, ptrdiff_t y_cs, const float *bias, ib_epilogue epilogue) {
    if (m == 0 || n == 0) return;
    pack_fn pack = pack_a_generic;
    block_fn block = block_generic;
    few_rows_fn few_rows = few_rows_generic;
#ifdef IB_HAVE_SGEMM_WIDE
    if (ib_isa_active() == IB_ISA_AVX512) {
        pack = pack_a_avx512;
        block = block_avx512;
        few_rows = few_rows_avx512;
    } else if (ib_isa_active() == IB_ISA_AVX2) {
        pack = pack_a_avx2;
        block = block_avx2;
        few_rows = few_rows_avx2;
    }
#endif
    if (m <= FEW_ROWS && x_cs == 1) {
        few_rows(x, x_rs, m, packed, n, k, y, y_rs, y_cs, bias, epilogue);
        return;
    }
    float apack[MC * KC]; // (MC, KC): the activation block, 48 KiB
    for (size_t i0 = 0; i0 < m; i0 += MC) {
        size_t mc = m - i0 < MC ? m - i0 : MC;
        // K = 0 still runs one (empty) block: y = bias, through the ISA's own epilogue.
        for (size_t k0 = 0; k0 == 0 || k0 < k; k0 += KC) {
            size_t kc = k - k0 < KC ? k - k0 : KC;
            pack(apack, x + (ptrdiff_t)i0 * x_rs, x_rs, x_cs, mc, k0, kc);
            block(apack, mc, packed, n, k, k0, kc, y + (ptrdiff_t)i0 * y_rs, y_rs, y_cs, k0 > 0, bias,
                  k0 + kc == k ? epilogue : IB_EPILOGUE_NONE);
        }
    }
}
