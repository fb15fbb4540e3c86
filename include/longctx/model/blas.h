// OpenBLAS reads its settings from the environment when it loads. Two matter here: on virtual
// machines that report a generic "Intel Xeon Processor" it falls back to Prescott (SSE3) kernels
// at a fraction of the speed although AVX2/FMA or AVX-512 are there (OPENBLAS_CORETYPE), and its
// idle threads spin for a long time (OPENBLAS_THREAD_TIMEOUT). This re-executes the process once
// with both set (never overriding the user's values; LONGCTX_BLAS_SET=1 opts out). Call first
// thing in main() of programs that run the model.
#pragma once

namespace longctx::model {

void ensure_blas_kernels(char** argv);
// For programs that never call BLAS (longctx's data commands): OpenBLAS starts its worker threads
// when it loads, before main(), and each allocates a 128 MB buffer at start, retrying forever if
// that fails, so under a data-size limit (ulimit -d) every command hung at exit joining it; the
// workers also spin on a core for a while. This re-executes the process once with
// OPENBLAS_NUM_THREADS=1 (no workers), unless the user set a thread count, and unsets it in the
// new process so that what it starts chooses again. (Setting it from a preinit function instead
// does not work: libc's own initialisation, which runs after, resets the environment.)
void single_blas_thread(char** argv);
// The kernel set OpenBLAS uses ("Haswell", "SkylakeX", "Prescott", ...).
const char* blas_core_name();

}  // namespace longctx::model
