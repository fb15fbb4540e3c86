#include "longctx/model/blas.h"

#include <cblas.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace longctx::model {

namespace {

// Re-executing /proc/self/exe under valgrind starts valgrind's own binary, which refuses to run:
// there, carry on without the settings (valgrind serialises threads anyway).
bool under_valgrind() {
  const char* pre = std::getenv("LD_PRELOAD");
  return pre && std::strstr(pre, "vgpreload");
}

}  // namespace

const char* blas_core_name() { return openblas_get_corename(); }

void ensure_blas_kernels(char** argv) {
  if (std::getenv("LONGCTX_BLAS_SET") || under_valgrind()) return;  // done once (or the user opted out)
  bool changed = false;
  // Idle OpenBLAS threads spin (sched_yield) for ~2^28 cycles before sleeping; while our own
  // threads run the attention tiles they took a quarter of the CPU. 2^4: sleep at once.
  if (!std::getenv("OPENBLAS_THREAD_TIMEOUT")) {
    setenv("OPENBLAS_THREAD_TIMEOUT", "4", 1);
    changed = true;
  }
  const char* core = openblas_get_corename();
  const bool generic = !std::strcmp(core, "Prescott") || !std::strcmp(core, "Core2") || !std::strcmp(core, "Nehalem") ||
                       !std::strcmp(core, "Sandybridge");
  if (!std::getenv("OPENBLAS_CORETYPE") && generic) {
    const char* better = nullptr;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")) {
      better = "SkylakeX";
    } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
      better = "Haswell";
    }
    if (better) {
      setenv("OPENBLAS_CORETYPE", better, 1);
      changed = true;
    }
  }
  if (!changed) return;
  setenv("LONGCTX_BLAS_SET", "1", 1);
  execv("/proc/self/exe", argv);  // on failure: carry on with what we have
}

void single_blas_thread(char** argv) {
  if (const char* set = std::getenv("LONGCTX_BLAS_SET")) {
    if (!std::strcmp(set, "data")) {  // ours, read by OpenBLAS at load: processes this one starts choose again
      unsetenv("LONGCTX_BLAS_SET");
      unsetenv("OPENBLAS_NUM_THREADS");
    }
    return;
  }
  if (std::getenv("OPENBLAS_NUM_THREADS") || std::getenv("GOTO_NUM_THREADS") || std::getenv("OMP_NUM_THREADS") ||
      under_valgrind())
    return;
  setenv("OPENBLAS_NUM_THREADS", "1", 1);
  setenv("LONGCTX_BLAS_SET", "data", 1);
  execv("/proc/self/exe", argv);
  unsetenv("OPENBLAS_NUM_THREADS");  // exec failed: carry on with OpenBLAS's workers
  unsetenv("LONGCTX_BLAS_SET");
}

}  // namespace longctx::model
