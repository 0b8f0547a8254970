// Depthwise convolution of one plane (each channel with its own K×K kernel), direct, with
// paths for AVX-512, AVX2+FMA and portable C chosen at run time like the elementwise
// kernels (ib_isa_active, INFBENCH_ISA). Swift builds for baseline x86-64, where this loop
// would be 4-wide SSE without FMA.
#pragma once
#include <stdbool.h>
#include <stddef.h>

/// Floats of scratch ib_depthwise_plane needs for this geometry.
size_t ib_depthwise_scratch(size_t k, size_t stride, size_t out_h, size_t out_w);

/// out (OH, OW) = bias + Σ_{kh,kw} w[kh·k + kw] · in[oh·s − pad_top + kh, ow·s − pad_left + kw], zero outside
/// the (H, W) plane (bottom/right padding is whatever OH, OW imply), clamped to [0, 6] if relu6.
void ib_depthwise_plane(float *out, const float *in, const float *w, float bias, size_t height, size_t width,
                        size_t k, size_t stride, size_t pad_top, size_t pad_left, size_t out_h, size_t out_w,
                        bool relu6, float *scratch);
