#include "longctx/model/blas.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "longctx/util/error.h"

namespace longctx::model {

namespace {

// The CBLAS constants (cblas.h) for the one call we make.
constexpr int kRowMajor = 101, kNoTrans = 111, kTrans = 112;

struct Api {
  void (*sgemm)(int, int, int, int, int, int, float, const float*, int, const float*, int, float, float*, int);
  int (*get_num_threads)();
  void (*set_num_threads)(int);
  char* (*get_corename)();
  char* (*get_config)();
};

template <class F>
void bind(void* lib, const char* name, F& f) {
  f = reinterpret_cast<F>(dlsym(lib, name));
  if (!f) throw Error(std::string("OpenBLAS (libopenblas.so.0) has no ") + name);
}

Api load() {
  if (!std::getenv("OPENBLAS_THREAD_TIMEOUT")) setenv("OPENBLAS_THREAD_TIMEOUT", "4", 1);  // see blas.h
  void* lib = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* why = dlerror();
    throw Error(std::string("cannot load OpenBLAS (libopenblas.so.0), which the model commands need: ") +
                (why ? why : "unknown error") + "; install libopenblas0 (scripts/setup.sh does)");
  }
  Api a{};
  bind(lib, "cblas_sgemm", a.sgemm);
  bind(lib, "openblas_get_num_threads", a.get_num_threads);
  bind(lib, "openblas_set_num_threads", a.set_num_threads);
  bind(lib, "openblas_get_corename", a.get_corename);
  bind(lib, "openblas_get_config", a.get_config);
  return a;  // never unloaded: OpenBLAS's threads live as long as the process
}

const Api& api() {
  static const Api a = load();  // thread-safe; a failed load throws and is tried again next call
  return a;
}

// Re-executing /proc/self/exe under valgrind starts valgrind's own binary, which refuses to run:
// there, carry on without the settings (valgrind serialises threads anyway).
bool under_valgrind() {
  const char* pre = std::getenv("LD_PRELOAD");
  return pre && std::strstr(pre, "vgpreload");
}

}  // namespace

namespace blas {

void sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda, const float* b,
           int ldb, float beta, float* c, int ldc) {
  api().sgemm(kRowMajor, trans_a ? kTrans : kNoTrans, trans_b ? kTrans : kNoTrans, m, n, k, alpha, a, lda, b, ldb, beta,
              c, ldc);
}
int num_threads() { return api().get_num_threads(); }
void set_num_threads(int threads) { api().set_num_threads(threads); }
const char* core_name() { return api().get_corename(); }
const char* config() { return api().get_config(); }

}  // namespace blas

void ensure_blas_kernels(char** argv) {
  if (std::getenv("LONGCTX_BLAS_SET") || std::getenv("OPENBLAS_CORETYPE") || under_valgrind()) return;
  const char* core = blas::core_name();
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
  setenv("LONGCTX_BLAS_SET", "1", 1);  // done once
  execv("/proc/self/exe", argv);       // on failure: carry on with what we have
}

}  // namespace longctx::model
