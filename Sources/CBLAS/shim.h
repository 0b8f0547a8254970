// The only door to OpenBLAS. Debian's libopenblas-dev puts cblas.h in a
// variant folder (openblas-pthread) that pkg-config adds to the include path;
// this shim exists so Swift sees cblas_* and openblas_* (threads, core name).
#pragma once
#include <cblas.h>

// LAPACK's symmetric eigensolver, which libopenblas carries but cblas.h does not
// declare (Fortran calling convention: everything by pointer, column-major).
// infbench uses it to derive low-rank projections (adaptive softmax tails).
void ssyev_(const char *jobz, const char *uplo, const int *n, float *a, const int *lda,
            float *w, float *work, const int *lwork, int *info);
