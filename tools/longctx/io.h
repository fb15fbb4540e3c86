// What the line-oriented commands share: their input and their thread count.
#pragma once

#include <algorithm>
#include <string>
#include <thread>

#include "longctx/corpus/byte_source.h"
#include "longctx/util/error.h"
#include "longctx/util/line_pipeline.h"

namespace longctx::cli {

// A line pipeline reader over a corpus file: plain, .zst or .gz (by magic bytes), or "-".
inline ReadFn reader_for(corpus::ByteSource& src) {
  return [&src](char* buf, size_t n) { return src.read(buf, n); };
}

// --threads 0 means one per core.
inline int thread_count(int requested) {
  return requested > 0 ? requested : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace longctx::cli
