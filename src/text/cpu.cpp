#include "longctx/text/cpu.h"

#include <cstdlib>
#include <cstring>

namespace longctx::text {

bool avx512_text_kernels() {
  static const bool on = [] {
    const char* off = std::getenv("LONGCTX_NO_AVX512");
    if (off && *off && std::strcmp(off, "0") != 0) return false;
    __builtin_cpu_init();  // may run before other static initializers have
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vbmi") &&
           __builtin_cpu_supports("avx512vbmi2") && __builtin_cpu_supports("popcnt");
  }();
  return on;
}

}  // namespace longctx::text
