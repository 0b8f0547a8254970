// The elementwise approximations (eˣ, erf, GELU), inline, shared by elementwise.c's loops and the
// packed GEMM's GELU epilogue (sgemm_packed.c), so a fused GELU is the same function as the
// separate pass. Each body fixes its own FP flags (the includers' file-level pragmas differ:
// sgemm_packed.c contracts across statements): contraction within an expression only, as
// clang's default, and reassociation, as elementwise.c had; so a value's GELU has the same bits
// wherever it is computed on the same instruction-set path, scalar or vectorised.
#pragma once
#include <math.h>
#include <stdint.h>
#include <string.h>

/// eˣ, relative error ≤ 2⁻²²; x < −87.34 → 0 (a masked −∞ score becomes exactly 0), x > 88.38 → +∞.
/// Cody–Waite reduction x = n·ln2 + r, |r| ≤ ½ln2, then Cephes' degree-6 polynomial; 2ⁿ in the exponent bits.
static inline float ib_exp_approx(float x) {
#pragma clang fp contract(on) reassociate(on)
    float xc = fminf(fmaxf(x, -87.33654f), 88.37626f);
    float n = floorf(xc * 1.44269504f + 0.5f);
    float r = xc - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float y = p * r * r + r + 1.0f;
    int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    float v = y * scale;
    v = x < -87.33654f ? 0.0f : v;
    v = x > 88.37626f ? INFINITY : v;
    return x != x ? x : v; // NaN in, NaN out
}

/// erf(x), absolute error ≤ 3·10⁻⁷, odd. |x| ≥ 0.6: Abramowitz & Stegun 7.1.26 (≤ 1.5·10⁻⁷);
/// below, where its 1 − … form cancels, the Maclaurin series to x¹³ (truncation < 10⁻⁸).
/// Both are computed and one selected, so loops stay branch-free.
static inline float ib_erf_approx(float x) {
#pragma clang fp contract(on) reassociate(on)
    float a = fminf(fabsf(x), 10.0f);
    float t = 1.0f / (1.0f + 0.3275911f * a);
    float p = 1.061405429f;
    p = p * t - 1.453152027f;
    p = p * t + 1.421413741f;
    p = p * t - 0.284496736f;
    p = p * t + 0.254829592f;
    float tail = 1.0f - p * t * ib_exp_approx(-a * a);
    float a2 = a * a;
    float q = 1.0f / 9360.0f;
    q = q * a2 - 1.0f / 1320.0f;
    q = q * a2 + 1.0f / 216.0f;
    q = q * a2 - 1.0f / 42.0f;
    q = q * a2 + 0.1f;
    q = q * a2 - 1.0f / 3.0f;
    float series = 1.1283791671f * a * (1.0f + a2 * q);
    float y = a < 0.6f ? series : tail;
    return x < 0 ? -y : y;
}

/// GELU, erf form: x·½(1 + erf(x/√2)).
static inline float ib_gelu_approx(float x) {
#pragma clang fp contract(on) reassociate(on)
    return 0.5f * x * (1.0f + ib_erf_approx(x * 0.70710678118654752f));
}
