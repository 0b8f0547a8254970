// Depthwise convolution of one plane, compiled for AVX-512, AVX2+FMA and baseline x86-64.
// The plane is copied, zero-padded, into s² phase planes (rows ≡ a, columns ≡ b mod the
// stride s) of width wq. Tap (kh, kw) then reads phase (kh mod s, kw mod s) at the constant
// offset (kh/s)·wq + kw/s from the output position, so the K×K convolution is K² AXPYs over
// one contiguous vector of OH·wq values ("wide" rows: the wq − OW columns past the edge are
// computed and dropped). Row by row instead, the 7×7 and 14×14 maps of a MobileNet give
// loops of 7–14 iterations, too short to vectorise.
#include "CKernels.h"
#include <string.h>

size_t ib_depthwise_scratch(size_t k, size_t s, size_t out_h, size_t out_w) {
    size_t hq = out_h + (k - 1) / s, wq = out_w + (k - 1) / s;
    return s * s * (hq + 1) * wq + out_h * wq;
}

#define IB_DEPTHWISE_BODY(NAME)                                                                            \
    static void NAME(float *out, const float *in, const float *w, float bias, size_t height, size_t width,  \
                     size_t k, size_t s, size_t pad_top, size_t pad_left, size_t out_h, size_t out_w,       \
                     bool relu6, float *scratch) {                                                          \
        size_t hq = out_h + (k - 1) / s, wq = out_w + (k - 1) / s;                                          \
        size_t phase_size = (hq + 1) * wq; /* a spare row: the last taps read (k−1)/s past the end */       \
        for (size_t a = 0; a < s; a++)                                                                      \
            for (size_t b = 0; b < s; b++) {                                                                \
                float *phase = scratch + (a * s + b) * phase_size;                                          \
                for (size_t r = 0; r <= hq; r++) {                                                          \
                    float *dst = phase + r * wq;                                                            \
                    ptrdiff_t y = (ptrdiff_t)(r * s + a) - (ptrdiff_t)pad_top;                              \
                    if (r == hq || y < 0 || y >= (ptrdiff_t)height) {                                       \
                        memset(dst, 0, wq * sizeof(float));                                                 \
                        continue;                                                                           \
                    }                                                                                       \
                    const float *src = in + (size_t)y * width;                                              \
                    for (size_t c = 0; c < wq; c++) {                                                       \
                        ptrdiff_t x = (ptrdiff_t)(c * s + b) - (ptrdiff_t)pad_left;                         \
                        dst[c] = (x >= 0 && x < (ptrdiff_t)width) ? src[x] : 0.0f;                          \
                    }                                                                                       \
                }                                                                                           \
            }                                                                                               \
        float *acc = scratch + s * s * phase_size;                                                          \
        size_t n = out_h * wq;                                                                              \
        for (size_t i = 0; i < n; i++) acc[i] = bias;                                                       \
        /* Most of the running time is spent here. acc and the phases never overlap. */                    \
        for (size_t kh = 0; kh < k; kh++)                                                                   \
            for (size_t kw = 0; kw < k; kw++) {                                                             \
                const float *src = scratch + ((kh % s) * s + kw % s) * phase_size + (kh / s) * wq + kw / s; \
                float wv = w[kh * k + kw];                                                                  \
                _Pragma("clang loop vectorize(assume_safety)")                                              \
                for (size_t i = 0; i < n; i++) acc[i] += wv * src[i];                                       \
            }                                                                                               \
        for (size_t oh = 0; oh < out_h; oh++) {                                                             \
            const float *src = acc + oh * wq;                                                               \
            float *dst = out + oh * out_w;                                                                  \
            if (relu6)                                                                                      \
                for (size_t ow = 0; ow < out_w; ow++) {                                                     \
                    float v = src[ow];                                                                      \
                    dst[ow] = v < 0.0f ? 0.0f : (v > 6.0f ? 6.0f : v);                                      \
                }                                                                                           \
            else                                                                                            \
                memcpy(dst, src, out_w * sizeof(float));                                                    \
        }                                                                                                   \
    }

IB_DEPTHWISE_BODY(depthwise_generic)
#if defined(__x86_64__) && defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
IB_DEPTHWISE_BODY(depthwise_avx2)
#pragma clang attribute pop
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma"))), apply_to = function)
IB_DEPTHWISE_BODY(depthwise_avx512)
#pragma clang attribute pop
#define IB_DEPTHWISE_WIDE 1
#endif

void ib_depthwise_plane(float *out, const float *in, const float *w, float bias, size_t height, size_t width,
                        size_t k, size_t s, size_t pad_top, size_t pad_left, size_t out_h, size_t out_w,
                        bool relu6, float *scratch) {
#ifdef IB_DEPTHWISE_WIDE
    switch (ib_isa_active()) {
    case IB_ISA_AVX512:
        depthwise_avx512(out, in, w, bias, height, width, k, s, pad_top, pad_left, out_h, out_w, relu6, scratch);
        return;
    case IB_ISA_AVX2:
        depthwise_avx2(out, in, w, bias, height, width, k, s, pad_top, pad_left, out_h, out_w, relu6, scratch);
        return;
    default: break;
    }
#endif
    depthwise_generic(out, in, w, bias, height, width, k, s, pad_top, pad_left, out_h, out_w, relu6, scratch);
}
