// The fp32 GEMM of the linear layers: y = x · Wᵀ + bias with W (N, K) packed once into panels of
// 32 output columns, so no call copies W again (OpenBLAS packs it on every call).
#pragma once
#include <stdbool.h>
#include <stddef.h>

/// Output columns per packed panel: the micro-kernel's width (two 16-lane vectors).
#define IB_SGEMM_PANEL 32

/// Floats the packed form of a (n, k) weight needs: n rounded up to IB_SGEMM_PANEL, times k.
size_t ib_sgemm_packed_floats(size_t n, size_t k);

/// Packs w (n, k) into `packed` (ib_sgemm_packed_floats(n, k) floats): panels of 32 output
/// columns; inside a panel, for each input c, the 32 values W[p·32 + j][c]. Padding is zero.
void ib_sgemm_pack(float *packed, const float *w, size_t n, size_t k);

/// The packed weights back as (n, k), exactly.
void ib_sgemm_unpack(float *w, const float *packed, size_t n, size_t k);

/// What ib_sgemm_packed applies to each output once its sum is complete (after the bias).
typedef enum {
    IB_EPILOGUE_NONE = 0,
    IB_EPILOGUE_GELU = 1, ///< GELU, erf form: the same function, and bits, as ib_gelu
} ib_epilogue;

/// y (m, n) = x (m, k) · Wᵀ (+ bias (n), when not NULL), with W packed by ib_sgemm_pack; y is
/// overwritten. Element (i, p) of x is x[i·x_rs + p·x_cs]; element (i, j) of y is y[i·y_rs + j·y_cs]
/// (a linear layer: x_rs = k, x_cs = 1, y_rs = n, y_cs = 1; W · b for a (k, m) matrix b and
/// y (n, m): x_rs = 1, x_cs = m, y_rs = 1, y_cs = m). fp32 multiply–adds throughout, K summed in
/// order per output (blocks of 256 added in turn), then `epilogue` on each output as the last block
/// is stored (y = GELU(x · Wᵀ + bias) without a second pass). Single-threaded: callers split m or n.
void ib_sgemm_packed(const float *packed, size_t n, size_t k, size_t m,
                     const float *x, ptrdiff_t x_rs, ptrdiff_t x_cs,
                     float *y, ptrdiff_t y_rs, ptrdiff_t y_cs, const float *bias, ib_epilogue epilogue);

/// Which kernel ib_sgemm_packed runs now: "avx512", "avx2" or "generic" (follows ib_isa_active).
const char *ib_sgemm_kernel_name(void);
