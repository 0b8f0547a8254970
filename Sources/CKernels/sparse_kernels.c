// CSR sparse × dense kernels (see ib_sparse.h): a gathered dot per output row for
// one activation vector, register-tiled AXPYs over contiguous rows of b for many.
// Written with intrinsics per path (not left to the auto-vectoriser) because the
// M = 1 gather is built by hand and the tiles must stay in registers across nonzeros.
#include "CKernels.h"
#include "ib_sparse.h"
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define IB_INLINE static inline __attribute__((always_inline))

// Each body takes `u16` and is always inlined into a wrapper that passes a constant,
// so the index width costs no branch in the loops.
IB_INLINE size_t col_at(const void *col, bool u16, size_t j) {
    return u16 ? (size_t)((const uint16_t *)col)[j] : (size_t)((const int32_t *)col)[j];
}

// MARK: - Portable C (any CPU)

IB_INLINE void matvec_generic(const int32_t *rp, const void *col, bool u16, const float *v,
                              const float *x, float *y, size_t r0, size_t r1) {
    for (size_t n = r0; n < r1; n++) {
        size_t j = (size_t)rp[n], end = (size_t)rp[n + 1];
        // Four partial sums: one chain would wait on each add's latency.
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (; j + 4 <= end; j += 4) {
            s0 += v[j] * x[col_at(col, u16, j)];
            s1 += v[j + 1] * x[col_at(col, u16, j + 1)];
            s2 += v[j + 2] * x[col_at(col, u16, j + 2)];
            s3 += v[j + 3] * x[col_at(col, u16, j + 3)];
        }
        for (; j < end; j++) s0 += v[j] * x[col_at(col, u16, j)];
        y[n] = (s0 + s1) + (s2 + s3);
    }
}

IB_INLINE void matmul_generic(const int32_t *rp, const void *col, bool u16, const float *v,
                              const float *b, size_t ldb, size_t ncols, float *y, size_t ldy,
                              size_t r0, size_t r1) {
    // y row (ncols) = Σ_j v[j] · b row col[j]: AXPYs the compiler vectorises for SSE2.
    for (size_t n = r0; n < r1; n++) {
        float *yr = y + n * ldy;
        for (size_t c = 0; c < ncols; c++) yr[c] = 0;
        for (size_t j = (size_t)rp[n], end = (size_t)rp[n + 1]; j < end; j++) {
            const float *br = b + col_at(col, u16, j) * ldb;
            float w = v[j];
            for (size_t c = 0; c < ncols; c++) yr[c] += w * br[c];
        }
    }
}

static void matvec_generic_u16(const int32_t *rp, const uint16_t *col, const float *v, const float *x,
                               float *y, size_t r0, size_t r1) { matvec_generic(rp, col, true, v, x, y, r0, r1); }
static void matvec_generic_i32(const int32_t *rp, const int32_t *col, const float *v, const float *x,
                               float *y, size_t r0, size_t r1) { matvec_generic(rp, col, false, v, x, y, r0, r1); }
static void matmul_generic_u16(const int32_t *rp, const uint16_t *col, const float *v, const float *b, size_t ldb,
                               size_t ncols, float *y, size_t ldy, size_t r0, size_t r1) {
    matmul_generic(rp, col, true, v, b, ldb, ncols, y, ldy, r0, r1);
}
static void matmul_generic_i32(const int32_t *rp, const int32_t *col, const float *v, const float *b, size_t ldb,
                               size_t ncols, float *y, size_t ldy, size_t r0, size_t r1) {
    matmul_generic(rp, col, false, v, b, ldb, ncols, y, ldy, r0, r1);
}

#if defined(__x86_64__) && defined(__clang__)
#include <immintrin.h>
#define IB_SPARSE_WIDE 1

// MARK: - AVX2 + FMA (8 lanes)

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)

// Four column indices from one 64-bit load (u16) or two (i32), split with shifts on the
// integer ALUs, which are idle here while the load ports are the bottleneck.
IB_INLINE void cols4(const void *col, bool u16, size_t j, size_t c[4]) {
    if (u16) {
        uint64_t q;
        memcpy(&q, (const uint16_t *)col + j, 8);
        c[0] = q & 0xffff; c[1] = (q >> 16) & 0xffff; c[2] = (q >> 32) & 0xffff; c[3] = q >> 48;
    } else {
        uint64_t q0, q1;
        memcpy(&q0, (const int32_t *)col + j, 8);
        memcpy(&q1, (const int32_t *)col + j + 2, 8);
        c[0] = q0 & 0xffffffff; c[1] = q0 >> 32; c[2] = q1 & 0xffffffff; c[3] = q1 >> 32;
    }
}

IB_INLINE __m256 xgather8(const float *x, const void *col, bool u16, size_t j) {
    size_t a[4], b[4];
    cols4(col, u16, j, a);
    cols4(col, u16, j + 4, b);
    return _mm256_set_ps(x[b[3]], x[b[2]], x[b[1]], x[b[0]], x[a[3]], x[a[2]], x[a[1]], x[a[0]]);
}

// The M = 1 kernel on both wide paths. No hardware gather: on this CPU (AMD Zen 5) a
// vgatherdps zmm took 19.7 µs for W (1536, 384) at 90% zeros, ymm 15.6, a scalar loop
// 14.5, and this loop 11.0 — the time is load-port throughput, and building the
// vector from plain loads (vmovss/vinsertps) spends fewer load slots than a gather.
IB_INLINE void matvec_avx2(const int32_t *rp, const void *col, bool u16, const float *v,
                           const float *x, float *y, size_t r0, size_t r1) {
    for (size_t n = r0; n < r1; n++) {
        size_t j = (size_t)rp[n], end = (size_t)rp[n + 1];
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
        for (; j + 16 <= end; j += 16) {
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(v + j), xgather8(x, col, u16, j), a0);
            a1 = _mm256_fmadd_ps(_mm256_loadu_ps(v + j + 8), xgather8(x, col, u16, j + 8), a1);
        }
        if (j + 8 <= end) {
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(v + j), xgather8(x, col, u16, j), a0);
            j += 8;
        }
        __m128 q = _mm_add_ps(_mm256_castps256_ps128(a0), _mm256_extractf128_ps(a0, 1));
        q = _mm_add_ps(q, _mm_add_ps(_mm256_castps256_ps128(a1), _mm256_extractf128_ps(a1, 1)));
        if (j + 4 <= end) {
            // Rows of a pruned matrix are short (38 nonzeros at K = 384, 90% zeros), so the
            // tail is a large share of the work: four more in one step.
            size_t c[4];
            cols4(col, u16, j, c);
            q = _mm_fmadd_ps(_mm_loadu_ps(v + j), _mm_set_ps(x[c[3]], x[c[2]], x[c[1]], x[c[0]]), q);
            j += 4;
        }
        q = _mm_add_ps(q, _mm_movehl_ps(q, q));
        float s = _mm_cvtss_f32(_mm_add_ss(q, _mm_movehdup_ps(q)));
        for (; j < end; j++) s += v[j] * x[col_at(col, u16, j)];
        y[n] = s;
    }
}

IB_INLINE void matmul_avx2(const int32_t *rp, const void *col, bool u16, const float *v,
                           const float *b, size_t ldb, size_t ncols, float *y, size_t ldy,
                           size_t r0, size_t r1) {
    // Column tiles outside, rows inside: one tile of b (K, 32) stays in cache for all rows.
    size_t c = 0;
    for (; c + 32 <= ncols; c += 32) {
        for (size_t n = r0; n < r1; n++) {
            __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
            for (size_t j = (size_t)rp[n], end = (size_t)rp[n + 1]; j < end; j++) {
                const float *br = b + col_at(col, u16, j) * ldb + c;
                __m256 w = _mm256_broadcast_ss(v + j);
                a0 = _mm256_fmadd_ps(w, _mm256_loadu_ps(br), a0);
                a1 = _mm256_fmadd_ps(w, _mm256_loadu_ps(br + 8), a1);
                a2 = _mm256_fmadd_ps(w, _mm256_loadu_ps(br + 16), a2);
                a3 = _mm256_fmadd_ps(w, _mm256_loadu_ps(br + 24), a3);
            }
            float *yr = y + n * ldy + c;
            _mm256_storeu_ps(yr, a0);
            _mm256_storeu_ps(yr + 8, a1);
            _mm256_storeu_ps(yr + 16, a2);
            _mm256_storeu_ps(yr + 24, a3);
        }
    }
    for (; c + 8 <= ncols; c += 8) {
        for (size_t n = r0; n < r1; n++) {
            __m256 a0 = _mm256_setzero_ps();
            for (size_t j = (size_t)rp[n], end = (size_t)rp[n + 1]; j < end; j++)
                a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(v + j), _mm256_loadu_ps(b + col_at(col, u16, j) * ldb + c), a0);
            _mm256_storeu_ps(y + n * ldy + c, a0);
        }
    }
    if (c < ncols) {
        // Fewer than 8 columns left: a masked load would do, but AVX2 masks are awkward
        // and this is at most 7 scalar dots per row.
        for (size_t n = r0; n < r1; n++) {
            for (size_t cc = c; cc < ncols; cc++) {
                float s = 0;
                for (size_t j = (size_t)rp[n], end = (size_t)rp[n + 1]; j < end; j++)
                    s += v[j] * b[col_at(col, u16, j) * ldb + cc];
                y[n * ldy + cc] = s;
            }
        }
    }
}

static void matvec_avx2_u16(const int32_t *rp, const uint16_t *col, const float *v, const float *x,
                            float *y, size_t r0, size_t r1) { matvec_avx2(rp, col, true, v, x, y, r0, r1); }
static void matvec_avx2_i32(const int32_t *rp, const int32_t *col, const float *v, const float *x,
                            float *y, size_t r0, size_t r1) { matvec_avx2(rp, col, false, v, x, y, r0, r1); }
static void matmul_avx2_u16(const int32_t *rp, const uint16_t *col, const float *v, const float *b, size_t ldb,
                            size_t ncols, float *y, size_t ldy, size_t r0, size_t r1) {
    matmul_avx2(rp, col, true, v, b, ldb, ncols, y, ldy, r0, r1);
}
static void matmul_avx2_i32(const int32_t *rp, const int32_t *col, const float *v, const float *b, size_t ldb,
                            size_t ncols, float *y, size_t ldy, size_t r0, size_t r1) {
    matmul_avx2(rp, col, false, v, b, ldb, ncols, y, ldy, r0, r1);
}

#pragma clang attribute pop

// MARK: - AVX-512 (16 lanes, masked tails): the batched kernel; M = 1 uses the AVX2 loop

#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma"))), apply_to = function)

IB_INLINE void matmul_avx512(const int32_t *rp, const void *col, bool u16, const float *v,
                             const float *b, size_t ldb, size_t ncols, float *y, size_t ldy,
                             size_t r0, size_t r1) {
    // Column tiles outside, rows inside: one tile of b (K, 64) stays in cache for all rows.
    // Per nonzero: one broadcast, four loads, four FMAs into accumulators that never leave
    // registers until the row is done. Even and odd nonzeros go to separate accumulators:
    // with one set, each FMA waits for the previous one's result (4 cycles), and that
    // latency, not the loads, set the pace (W (1536, 384), M = 16: 50% zeros 231 → 112 µs,
    // 90% zeros 44 → 29 µs).
    size_t c = 0;
    for (; c + 64 <= ncols; c += 64) {
        for (size_t n = r0; n < r1; n++) {
            __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, e0 = a0, e1 = a0, e2 = a0, e3 = a0;
            size_t j = (size_t)rp[n], end = (size_t)rp[n + 1];
            for (; j + 2 <= end; j += 2) {
                const float *br = b + col_at(col, u16, j) * ldb + c;
                const float *bs = b + col_at(col, u16, j + 1) * ldb + c;
                __m512 w = _mm512_set1_ps(v[j]), u = _mm512_set1_ps(v[j + 1]);
                a0 = _mm512_fmadd_ps(w, _mm512_loadu_ps(br), a0);
                a1 = _mm512_fmadd_ps(w, _mm512_loadu_ps(br + 16), a1);
                a2 = _mm512_fmadd_ps(w, _mm512_loadu_ps(br + 32), a2);
                a3 = _mm512_fmadd_ps(w, _mm512_loadu_ps(br + 48), a3);
                e0 = _mm512_fmadd_ps(u, _mm512_loadu_ps(bs), e0);
                e1 = _mm512_fmadd_ps(u, _mm512_loadu_ps(bs + 16), e1);
                e2 = _mm512_fmadd_ps(u, _mm512_loadu_ps(bs + 32), e2);
                e3 = _mm512_fmadd_ps(u, _mm512_loadu_ps(bs + 48), e3);
            }
            if (j < end) {
                const float *br = b + col_at(col, u16, j) * ldb + c;
                __m512 w = _mm512_set1_ps(v[j]);
                a0 = _mm512_fmadd_ps(w, _mm512_loadu_ps(br), a0);
                a1 = _mm512_fmadd_ps(w, _mm512_loadu_ps(br + 16), a1);
                a2 = _mm512_fmadd_ps(w, _mm512_loadu_ps(br + 32), a2);
                a3 = _mm512_fmadd_ps(w, _mm512_loadu_ps(br + 48), a3);
            }
            float *yr = y + n * ldy + c;
            _mm512_storeu_ps(yr, _mm512_add_ps(a0, e0));
            _mm512_storeu_ps(yr + 16, _mm512_add_ps(a1, e1));
            _mm512_storeu_ps(yr + 32, _mm512_add_ps(a2, e2));
            _mm512_storeu_ps(yr + 48, _mm512_add_ps(a3, e3));
        }
    }
    // Narrower tiles (16 columns, then a masked remainder): four nonzeros in flight.
    while (c < ncols) {
        size_t width = ncols - c < 16 ? ncols - c : 16;
        __mmask16 m = (__mmask16)((1u << width) - 1);
        for (size_t n = r0; n < r1; n++) {
            __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
            size_t j = (size_t)rp[n], end = (size_t)rp[n + 1];
            for (; j + 4 <= end; j += 4) {
                a0 = _mm512_fmadd_ps(_mm512_set1_ps(v[j]), _mm512_maskz_loadu_ps(m, b + col_at(col, u16, j) * ldb + c), a0);
                a1 = _mm512_fmadd_ps(_mm512_set1_ps(v[j + 1]), _mm512_maskz_loadu_ps(m, b + col_at(col, u16, j + 1) * ldb + c), a1);
                a2 = _mm512_fmadd_ps(_mm512_set1_ps(v[j + 2]), _mm512_maskz_loadu_ps(m, b + col_at(col, u16, j + 2) * ldb + c), a2);
                a3 = _mm512_fmadd_ps(_mm512_set1_ps(v[j + 3]), _mm512_maskz_loadu_ps(m, b + col_at(col, u16, j + 3) * ldb + c), a3);
            }
            for (; j < end; j++)
                a0 = _mm512_fmadd_ps(_mm512_set1_ps(v[j]), _mm512_maskz_loadu_ps(m, b + col_at(col, u16, j) * ldb + c), a0);
            _mm512_mask_storeu_ps(y + n * ldy + c, m, _mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
        }
        c += width;
    }
}

static void matmul_avx512_u16(const int32_t *rp, const uint16_t *col, const float *v, const float *b, size_t ldb,
                              size_t ncols, float *y, size_t ldy, size_t r0, size_t r1) {
    matmul_avx512(rp, col, true, v, b, ldb, ncols, y, ldy, r0, r1);
}
static void matmul_avx512_i32(const int32_t *rp, const int32_t *col, const float *v, const float *b, size_t ldb,
                              size_t ncols, float *y, size_t ldy, size_t r0, size_t r1) {
    matmul_avx512(rp, col, false, v, b, ldb, ncols, y, ldy, r0, r1);
}

#pragma clang attribute pop
#endif

// MARK: - Run-time dispatch (the same path choice as the elementwise kernels)

#ifdef IB_SPARSE_WIDE
#define IB_SPARSE_DISPATCH(name, ...)                            \
    switch (ib_isa_active()) {                                   \
    case IB_ISA_AVX512: name##_avx512##__VA_ARGS__; return;      \
    case IB_ISA_AVX2: name##_avx2##__VA_ARGS__; return;          \
    default: name##_generic##__VA_ARGS__; return;                \
    }
#else
#define IB_SPARSE_DISPATCH(name, ...) name##_generic##__VA_ARGS__;
#endif

// The M = 1 kernel has no AVX-512 variant: 16-lane vectors would be built from the same
// scalar loads as 8-lane ones, and the loads are what take the time.
#ifdef IB_SPARSE_WIDE
#define matvec_avx512_u16 matvec_avx2_u16
#define matvec_avx512_i32 matvec_avx2_i32
#endif

void ib_csr_matvec_u16(const int32_t *row_ptr, const uint16_t *col, const float *values,
                       const float *x, float *y, size_t row_begin, size_t row_end) {
    IB_SPARSE_DISPATCH(matvec, _u16(row_ptr, col, values, x, y, row_begin, row_end))
}

void ib_csr_matvec_i32(const int32_t *row_ptr, const int32_t *col, const float *values,
                       const float *x, float *y, size_t row_begin, size_t row_end) {
    IB_SPARSE_DISPATCH(matvec, _i32(row_ptr, col, values, x, y, row_begin, row_end))
}

void ib_csr_matmul_u16(const int32_t *row_ptr, const uint16_t *col, const float *values,
                       const float *b, size_t ldb, size_t ncols,
                       float *y, size_t ldy, size_t row_begin, size_t row_end) {
    IB_SPARSE_DISPATCH(matmul, _u16(row_ptr, col, values, b, ldb, ncols, y, ldy, row_begin, row_end))
}

void ib_csr_matmul_i32(const int32_t *row_ptr, const int32_t *col, const float *values,
                       const float *b, size_t ldb, size_t ncols,
                       float *y, size_t ldy, size_t row_begin, size_t row_end) {
    IB_SPARSE_DISPATCH(matmul, _i32(row_ptr, col, values, b, ldb, ncols, y, ldy, row_begin, row_end))
}

// MARK: - Transpose and per-thread scratch

void ib_transpose(const float *in, size_t rows, size_t cols, size_t ldi, float *out, size_t ldo) {
    // 16 × 16 blocks: each block's reads and writes touch 16 cache lines, not `cols` of them.
    for (size_t r0 = 0; r0 < rows; r0 += 16) {
        size_t r1 = r0 + 16 < rows ? r0 + 16 : rows;
        for (size_t c0 = 0; c0 < cols; c0 += 16) {
            size_t c1 = c0 + 16 < cols ? c0 + 16 : cols;
            for (size_t r = r0; r < r1; r++)
                for (size_t c = c0; c < c1; c++) out[c * ldo + r] = in[r * ldi + c];
        }
    }
}

typedef struct {
    float *data;
    size_t capacity; // floats
} ib_scratch;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_release(void *p) {
    ib_scratch *s = p;
    free(s->data);
    free(s);
}

static void scratch_make_key(void) { pthread_key_create(&scratch_key, scratch_release); }

float *ib_thread_scratch(size_t count) {
    pthread_once(&scratch_once, scratch_make_key);
    ib_scratch *s = pthread_getspecific(scratch_key);
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s) return NULL;
        pthread_setspecific(scratch_key, s);
    }
    if (s->capacity < count || !s->data) {
        free(s->data);
        s->data = NULL;
        s->capacity = 0;
        size_t bytes = ((count ? count : 1) * sizeof(float) + 63) & ~(size_t)63;
        void *p = NULL;
        if (posix_memalign(&p, 64, bytes) != 0) return NULL;
        s->data = p;
        s->capacity = bytes / sizeof(float);
    }
    return s->data;
}
