// OpenBLAS, loaded on first use (dlopen) rather than when the program starts. What never
// multiplies a matrix (longctx's data commands, the tokenizer's Python users) never loads it: no
// worker threads started before main(), no 128 MB buffer per worker (which, under a data-size
// limit such as `ulimit -d`, OpenBLAS retried forever, so every command hung at exit), and ~10 ms
// less per process start (the data commands used to re-execute themselves with
// OPENBLAS_NUM_THREADS=1 to get there).
//
// OpenBLAS reads its settings from the environment when it loads. Loading sets one before it if
// the user has not: its idle threads spin (sched_yield) for ~2^28 cycles before sleeping, which
// took a quarter of the CPU while our own threads ran attention tiles
// (OPENBLAS_THREAD_TIMEOUT=4: sleep at once).
#pragma once

namespace longctx::model {

namespace blas {

// C[m, n] = alpha * op(A) . op(B) + beta * C, all row-major: cblas_sgemm(CblasRowMajor, ...).
void sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda, const float* b,
           int ldb, float beta, float* c, int ldc);
int num_threads();
void set_num_threads(int threads);
// The kernel set OpenBLAS uses ("Haswell", "SkylakeX", "Prescott", ...) and its build summary.
const char* core_name();
const char* config();

}  // namespace blas

// On virtual machines that report a generic "Intel Xeon Processor", OpenBLAS falls back to
// Prescott (SSE3) kernels at a fraction of the speed although AVX2/FMA or AVX-512 are there. It
// picks its kernels when it loads, so this loads it, and if it chose generic ones re-executes the
// process once with OPENBLAS_CORETYPE set (never overriding the user's value;
// LONGCTX_BLAS_SET=1 opts out). Call first thing in main() of programs that run the model.
void ensure_blas_kernels(char** argv);

}  // namespace longctx::model
