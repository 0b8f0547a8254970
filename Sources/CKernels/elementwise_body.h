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
        // The maximum in 16 lanes, then across them: one running maximum is a chain of dependent
        // compares the compiler will not split (NaN semantics); a 128×128 softmax took 14.3 µs
        // with it and 7.7 with lanes. The same compare per element, so the same maximum (NaN
        // never wins; a row of NaN still gives −∞).
        float lane[16];
        for (int l = 0; l < 16; l++) lane[l] = -INFINITY;
        size_t c0 = 0;
        for (; c0 + 16 <= cols; c0 += 16)
            for (int l = 0; l < 16; l++) lane[l] = row[c0 + l] > lane[l] ? row[c0 + l] : lane[l];
        for (; c0 < cols; c0++) lane[0] = row[c0] > lane[0] ? row[c0] : lane[0];
        float m = lane[0];
        for (int l = 1; l < 16; l++) m = lane[l] > m ? lane[l] : m;
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
