// Sparse × dense kernels for weights stored in CSR (compressed sparse rows over
// the output features): only the stored nonzeros are multiplied, so pruned zeros
// cost nothing. Paths for AVX-512, AVX2+FMA and portable C, chosen at run time
// like the elementwise kernels (ib_isa_active, INFBENCH_ISA).
#pragma once
#include <stddef.h>
#include <stdint.h>

// A CSR matrix W (N, K): row n's nonzeros are values[row_ptr[n] ..< row_ptr[n+1]] at
// columns col[row_ptr[n] ..< row_ptr[n+1]]. Column indices come as uint16 (K ≤ 65536:
// 6 bytes per nonzero instead of 8) or int32. Every kernel handles output rows
// [row_begin, row_end) only, so callers split rows over threads.

/// y[n] = Σ_j values[j] · x[col[j]] for n in [row_begin, row_end): W · x for one vector
/// x (K), y (N). A gathered dot product per output.
void ib_csr_matvec_u16(const int32_t *row_ptr, const uint16_t *col, const float *values,
                       const float *x, float *y, size_t row_begin, size_t row_end);
void ib_csr_matvec_i32(const int32_t *row_ptr, const int32_t *col, const float *values,
                       const float *x, float *y, size_t row_begin, size_t row_end);

/// y[n·ldy + c] = Σ_j values[j] · b[col[j]·ldb + c], c < ncols, for n in [row_begin, row_end):
/// y (N, ncols) = W · b with b (K, ncols). Each nonzero scales a contiguous row of b,
/// accumulated in registers over column tiles; y is overwritten (empty rows become 0).
void ib_csr_matmul_u16(const int32_t *row_ptr, const uint16_t *col, const float *values,
                       const float *b, size_t ldb, size_t ncols,
                       float *y, size_t ldy, size_t row_begin, size_t row_end);
void ib_csr_matmul_i32(const int32_t *row_ptr, const int32_t *col, const float *values,
                       const float *b, size_t ldb, size_t ncols,
                       float *y, size_t ldy, size_t row_begin, size_t row_end);

/// out[c·ldo + r] = in[r·ldi + c] for r < rows, c < cols: out (cols, rows) = inᵀ.
void ib_transpose(const float *in, size_t rows, size_t cols, size_t ldi, float *out, size_t ldo);

/// At least `count` floats of scratch owned by the calling thread (64-byte aligned,
/// contents unspecified). It grows and never shrinks, so repeated calls with the same
/// shape allocate nothing; it is freed when the thread exits. NULL if memory ran out.
float *ib_thread_scratch(size_t count);
