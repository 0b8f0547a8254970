// W8A8 dynamic quantization: int8 weights (symmetric, one scale per output channel),
// activations quantized per row at run time to uint8 with a zero point, int32 sums, fp32
// rescale. AVX512-VNNI (vpdpbusd), an exact AVX2 path (vpmaddwd on widened int16) and
// portable C, chosen at run time from the elementwise ISA path (INFBENCH_ISA lowers it).
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/// Output columns per packed panel: the VNNI micro-kernel's width (two 16-lane vectors).
#define IB_INT8_PANEL 32

/// K rounded up to a multiple of 4: one 32-bit word holds 4 consecutive K of one column.
size_t ib_int8_k4(size_t k);
/// Bytes the packed (n, k) weights take: n up to a multiple of IB_INT8_PANEL, k up to
/// ib_int8_k4(k); the padding is zero.
size_t ib_int8_packed_bytes(size_t n, size_t k);

/// Quantizes w (n, k) fp32 per output channel (row): scale[j] = max|W[j][:]| / 127 and
/// q = round-half-even(W / scale) in [−127, 127]; an all-zero row gets scale 0 and q = 0.
/// Packs q (ib_int8_packed_bytes(n, k) bytes) as panels of IB_INT8_PANEL columns; inside a
/// panel, for each group of 4 K, one 4-byte word per column (vpdpbusd's operand).
/// colsum[j] = Σ_k q[j][k], which turns Σ (u − zp)·q into Σ u·q − zp·colsum.
void ib_int8_quantize_weights(int8_t *packed, float *scale, int32_t *colsum,
                              const float *w, size_t n, size_t k);
/// q (n, k) back out of the packed form, row-major.
void ib_int8_unpack(int8_t *q, const int8_t *packed, size_t n, size_t k);

/// Quantizes each row i of x (m, k) — element (i, p) at x[i·x_rs + p·x_cs] — to uint8 with
/// its own scale and zero point: lo = min(0, row), hi = max(0, row), scale = (hi − lo)/255,
/// zp = round(−lo/scale), u = clamp(round(x/scale) + zp, 0, 255), so x ≈ scale·(u − zp) within
/// scale/2 and 0 is exact. An all-zero row gets scale 0, zp 0. Writes xq (m, xq_rs ≥ k4)
/// with columns k..k4 zero. Rounding is half-to-even (x·(1/scale) in fp32) on every path.
/// Inputs must be finite.
void ib_int8_quantize_rows(uint8_t *xq, size_t xq_rs, float *scale, int32_t *zp,
                           const float *x, ptrdiff_t x_rs, ptrdiff_t x_cs, size_t m, size_t k);

/// acc(i, j) = Σ_k (xq(i, k) − zp[i]) · q(j, k) in int32 (exact while k·255·127 < 2³¹,
/// i.e. k ≤ 66 000), for i < m, j < n. With y32 non-NULL it is stored there (m, n) row-major
/// and y is untouched; otherwise y(i, j) = (float)acc · (xscale[i] · wscale[j]) is written at
/// y[i·y_rs + j·y_cs]. Single-threaded: callers split m or panels of n (a run of whole
/// panels starting at `packed + p·ib_int8_packed_bytes(IB_INT8_PANEL, k)`, with wscale and
/// colsum offset by p·IB_INT8_PANEL).
void ib_int8_gemm(const int8_t *packed, const float *wscale, const int32_t *colsum, size_t n, size_t k,
                  const uint8_t *xq, size_t xq_rs, const float *xscale, const int32_t *zp, size_t m,
                  float *y, ptrdiff_t y_rs, ptrdiff_t y_cs, int32_t *y32);

/// Which kernel ib_int8_gemm runs now: "avx512vnni", "avx2" (vpmaddwd) or "generic".
const char *ib_int8_kernel_name(void);
/// Whether this CPU has AVX512-VNNI (with AVX512-BW, and the OS saving ZMM state).
bool ib_int8_vnni_available(void);
