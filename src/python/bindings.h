// The parts of the extension module, one file each (module.cpp: tokenizer and store; packed.cpp:
// packed outputs; cli.cpp: the pipeline commands).
#pragma once

#include <pybind11/pybind11.h>

#include <algorithm>
#include <exception>
#include <thread>
#include <vector>

namespace longctx::python {

// Threads for `items` pieces of work: `requested` (0: one per core), at most one per item, at least 1.
inline size_t thread_count(int requested, size_t items) {
  const size_t want = requested > 0 ? static_cast<size_t>(requested) : std::max(1u, std::thread::hardware_concurrency());
  return std::max<size_t>(1, std::min(items, want));
}

// Runs work(t) for t in [0, nt) on nt threads (the caller's is t = 0) and rethrows the first
// error after all have joined. Call it with the GIL released; work(t) takes items t, t + nt, ...
// so that which thread does which item does not depend on scheduling.
template <class Work>
void run_threads(size_t nt, Work&& work) {
  std::vector<std::exception_ptr> errors(nt);
  auto guarded = [&](size_t t) {
    try {
      work(t);
    } catch (...) {
      errors[t] = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < nt; ++t) pool.emplace_back(guarded, t);
  guarded(0);
  for (auto& th : pool) th.join();
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
}

void bind_packed(pybind11::module_& m);
void bind_cli(pybind11::module_& m);

}  // namespace longctx::python
