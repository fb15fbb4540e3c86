// OpenBLAS picks its kernels from the CPU model; on virtual machines that report a generic
// "Intel Xeon Processor" it falls back to Prescott (SSE3) kernels at half the speed, although
// AVX2/FMA (or AVX-512) are there. Its core type can only be set before the library starts, so
// this re-executes the process once with OPENBLAS_CORETYPE set when that happened (never when the
// user set the variable). Call first thing in main().
#pragma once

namespace longctx::model {

void ensure_blas_kernels(char** argv);
// The kernel set OpenBLAS uses ("Haswell", "SkylakeX", "Prescott", ...).
const char* blas_core_name();

}  // namespace longctx::model
