// The elementwise kernels' bodies, compiled once per instruction-set path by
// elementwise.c (IB_NAME adds the path's suffix). Plain loops: the compiler
// vectorises them for the path's width; `fp reassociate` lets it split the
// max/sum reductions across lanes. Outputs may alias inputs only index for
// index (in place), so `vectorize(assume_safety)` is sound: without it the
// compiler's overlap check sends every in-place call to a scalar loop (17× slower).

static void IB_NAME(gelu)(float *out, const float *in, size_t n) {
#pragma clang loop vectorize(assume_safety)
    for (size_t i = 0; i < n; i++) {
        out[i] = ib_gelu_approx(in[i]);
    }
}

static void IB_NAME(softmax_rows)(float *x, size_t rows, size_t cols) {
    for (size_t r = 0; r < rows; r++) {
        float *row = x + r * cols;
        float m = -INFINITY;
        for (size_t c = 0; c < cols; c++) m = row[c] > m ? row[c] : m;
        if (m == -INFINITY) {
            // Every key masked: zeros. A row of NaN scores (NaN is never > m) lands here too and
            // must stay NaN: zeros would turn a NaN weight into a finite, plausible output.
            float fill = 0.0f;
            for (size_t c = 0; c < cols; c++) fill = row[c] != row[c] ? row[c] : fill;
            for (size_t c = 0; c < cols; c++) row[c] = fill;
            continue;
        }
        float sum = 0.0f;
        for (size_t c = 0; c < cols; c++) {
            float e = ib_exp_approx(row[c] - m);
            row[c] = e;
            sum += e;
        }
        float inv = 1.0f / sum;
        for (size_t c = 0; c < cols; c++) row[c] *= inv;
    }
}

static void IB_NAME(layernorm)(float *out, const float *in, const float *residual, const float *gamma,
                               const float *beta, size_t rows, size_t cols, float eps) {
    for (size_t r = 0; r < rows; r++) {
        const float *x = in + r * cols;
        float *y = out + r * cols;
        float mean = 0.0f;
        if (residual) {
            const float *res = residual + r * cols;
#pragma clang loop vectorize(assume_safety)
            for (size_t c = 0; c < cols; c++) {
                float z = x[c] + res[c];
                y[c] = z;
                mean += z;
            }
        } else {
#pragma clang loop vectorize(assume_safety)
            for (size_t c = 0; c < cols; c++) {
                y[c] = x[c];
                mean += x[c];
            }
        }
        mean /= (float)cols;
        // Variance of the deviations (two passes), not E[z²] − mean²: no cancellation.
        float var = 0.0f;
        for (size_t c = 0; c < cols; c++) {
            float d = y[c] - mean;
            var += d * d;
        }
        var /= (float)cols;
        float rstd = 1.0f / sqrtf(var + eps);
#pragma clang loop vectorize(assume_safety)
        for (size_t c = 0; c < cols; c++) y[c] = (y[c] - mean) * rstd * gamma[c] + beta[c];
    }
}
