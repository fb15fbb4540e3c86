// A corpus file -> open_source (plain / zstd / gzip by magic) read to the end: the bytes or one
// Error line (corrupt, truncated), in bounded memory and time: output is capped at 64 MiB per
// input (a bomb is not an error, but the fuzzer must not spend its time on one).
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "longctx/corpus/byte_source.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = longctx::fuzz::scratch_path("input.jsonl");
  longctx::fuzz::write_file(path, data, size);
  try {
    auto src = longctx::corpus::open_source(path);
    std::vector<char> buf(1 << 16);
    uint64_t total = 0;
    for (size_t n; (n = src->read(buf.data(), buf.size())) > 0 && total < (64u << 20);) {
      if (n > buf.size()) __builtin_trap();
      total += n;
    }
    if (total < (64u << 20)) {
      if (src->raw_bytes() != size) __builtin_trap();  // at the end: the whole file was read
      (void)src->raw_hash();
    }
  } catch (const longctx::Error&) {
  }
  return 0;
}
