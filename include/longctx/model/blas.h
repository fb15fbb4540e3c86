// OpenBLAS reads its settings from the environment when it loads. Two matter here: on virtual
// machines that report a generic "Intel Xeon Processor" it falls back to Prescott (SSE3) kernels
// at a fraction of the speed although AVX2/FMA or AVX-512 are there (OPENBLAS_CORETYPE), and its
// idle threads spin for a long time (OPENBLAS_THREAD_TIMEOUT). This re-executes the process once
// with both set (never overriding the user's values; LONGCTX_BLAS_SET=1 opts out). Call first
// thing in main() of programs that run the model.
#pragma once

namespace longctx::model {

void ensure_blas_kernels(char** argv);
// The kernel set OpenBLAS uses ("Haswell", "SkylakeX", "Prescott", ...).
const char* blas_core_name();

}  // namespace longctx::model
