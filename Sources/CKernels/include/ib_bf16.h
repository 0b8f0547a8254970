// bf16 weight storage and the GEMM that multiplies it: y = x · Wᵀ with W (N, K) held as
// bfloat16, x and y fp32. AVX512-BF16 (vdpbf16ps) when the CPU has it, otherwise a portable
// path that widens bf16 to fp32 and uses fp32 FMA; both round activations to bf16 the same way.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/// Output columns per packed panel: the micro-kernel's width (two 16-lane vectors).
#define IB_BF16_PANEL 32

/// Rounding policy (weights at packing, activations per call): round to nearest, ties to even,
/// exactly as InfCore's `bf16Bits` — subnormals kept, NaN made quiet, overflow to ±inf.
uint16_t ib_bf16_round(float x);

/// 32-bit words the packed form of a (n, k) weight needs: n rounded up to IB_BF16_PANEL,
/// k rounded up to even, two bf16 per word. Padding is zero.
size_t ib_bf16_packed_words(size_t n, size_t k);

/// Packs w (n, k) fp32 into `packed` (ib_bf16_packed_words(n, k) words), rounding each weight
/// to bf16. Layout: panels of IB_BF16_PANEL output columns; inside a panel, for each pair of
/// K (k, k+1), one word per column holding (W[n][k], W[n][k+1]) in (low, high) halves —
/// exactly the operand vdpbf16ps multiplies pairwise.
void ib_bf16_pack(uint32_t *packed, const float *w, size_t n, size_t k);

/// The packed weights back as fp32 (n, k): the bf16 values, exactly.
void ib_bf16_unpack(float *w, const uint32_t *packed, size_t n, size_t k);

/// y (m, n) = x (m, k) · Wᵀ with W packed by ib_bf16_pack; y is overwritten.
/// Element (i, p) of x is x[i·x_rs + p·x_cs]; element (i, j) of y is y[i·y_rs + j·y_cs]
/// (a linear layer: x_rs = k, x_cs = 1, y_rs = n, y_cs = 1; W · b for a (k, m) matrix b
/// and y (n, m): x_rs = 1, x_cs = m, y_rs = 1, y_cs = m).
/// Activations are rounded to bf16 per cache-sized block as they are packed; products of
/// two bf16 are exact in fp32 and are summed in fp32. Single-threaded: callers split m.
void ib_bf16_gemm(const uint32_t *packed, size_t n, size_t k, size_t m,
                  const float *x, ptrdiff_t x_rs, ptrdiff_t x_cs,
                  float *y, ptrdiff_t y_rs, ptrdiff_t y_cs);

/// Whether this CPU has AVX512-BF16 (and the OS saves ZMM state).
bool ib_bf16_native_available(void);
/// Whether ib_bf16_gemm uses the vdpbf16ps kernel now (available and not forced portable).
bool ib_bf16_native_active(void);
/// Forces the portable path (true) or returns to the best available (false); for tests and A/B.
void ib_bf16_force_portable(bool portable);
/// Which kernel ib_bf16_gemm runs now: "avx512bf16", or "portable-avx512", "portable-avx2",
/// "portable-generic" (the widening fp32 FMA path, compiled for that instruction set).
const char *ib_bf16_kernel_name(void);
