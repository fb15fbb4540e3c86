// Decoding arbitrary id sequences (4-byte little-endian ids, some near the vocabulary's end and
// beyond it): text or one Error line for an id outside the vocabulary, never a crash.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "fuzz_util.h"

namespace {
std::vector<longctx::fuzz::NamedTokenizer>& toks() {
  static auto t = longctx::fuzz::load_fuzz_tokenizers();
  return t;
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
#ifdef LONGCTX_FUZZING
  setenv("LONGCTX_NO_TOKENIZER_CACHE", "1", 1);
#endif
  toks();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  auto& ts = toks();
  const auto& t = ts[data[0] % ts.size()];
  const bool skip = data[0] & 0x80;
  const uint64_t vocab = t.tok->vocab_size();
  std::vector<uint32_t> ids;
  for (size_t i = 1; i + 4 <= size; i += 4) {
    uint32_t v;
    std::memcpy(&v, data + i, 4);
    // Mostly ids within the vocabulary (the top bit keeps some raw values, out of range).
    ids.push_back(v & 0x80000000u ? v : static_cast<uint32_t>(v % (vocab + 2)));
  }
  bool in_range = true;
  // Ids with a token (some vocabularies have holes below vocab_size(): gpt4o's 200005; decode refuses
  // those as it does ids past the end, where HF would skip them).
  for (const uint32_t id : ids) in_range = in_range && t.tok->id_to_token(id).has_value();
  try {
    (void)t.tok->decode(ids, skip);
  } catch (const longctx::Error& e) {
    if (in_range) {  // only an id outside the vocabulary is an error
      std::fprintf(stderr, "%s: ids within the vocabulary refused: %s\n", t.name.c_str(), e.what());
      __builtin_trap();
    }
  }
  return 0;
}
