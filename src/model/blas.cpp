#include "longctx/model/blas.h"

#include <cblas.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace longctx::model {

const char* blas_core_name() { return openblas_get_corename(); }

void ensure_blas_kernels(char** argv) {
  if (std::getenv("OPENBLAS_CORETYPE")) return;  // the user's (or our earlier) choice
  const char* core = openblas_get_corename();
  const bool generic = !std::strcmp(core, "Prescott") || !std::strcmp(core, "Core2") || !std::strcmp(core, "Nehalem") ||
                       !std::strcmp(core, "Sandybridge");
  if (!generic) return;
  const char* better = nullptr;
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")) {
    better = "SkylakeX";
  } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    better = "Haswell";
  }
  if (!better) return;
  setenv("OPENBLAS_CORETYPE", better, 1);
  execv("/proc/self/exe", argv);  // on failure: carry on with the kernels we have
}

}  // namespace longctx::model
