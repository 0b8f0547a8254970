// The only door to OpenBLAS. Debian's libopenblas-dev puts cblas.h in a
// variant folder (openblas-pthread) that pkg-config adds to the include path;
// this shim exists so Swift sees cblas_* and openblas_* (threads, core name).
#pragma once
#include <cblas.h>
