// Encoding, differential: the fast paths (piece cache, join-table cuts, hand-written scanners,
// backtracking BPE) against the reference twins (Encoder::set_reference_mode: HF's heap BPE on every
// word, no cache), on the tiny tokenizer and the installed files (fuzz_util.h). The first input
// byte picks the tokenizer and the options; the rest is the text.
#include <simdjson.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "fuzz_util.h"

namespace {
struct State {
  std::vector<longctx::fuzz::NamedTokenizer> toks;
  std::vector<longctx::tokenizer::Encoder> fast, ref;
};
State& state() {
  static State s = [] {
    State s;
    s.toks = longctx::fuzz::load_fuzz_tokenizers();
    for (const auto& t : s.toks) {
      s.fast.emplace_back(*t.tok);
      s.ref.emplace_back(*t.tok);
      s.ref.back().set_reference_mode(true);
    }
    return s;
  }();
  return s;
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
#ifdef LONGCTX_FUZZING
  setenv("LONGCTX_NO_TOKENIZER_CACHE", "1", 1);  // the fuzz build must not rewrite the normal build's caches
#endif
  state();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  State& s = state();
  const size_t which = data[0] % s.toks.size();
  longctx::tokenizer::EncodeOptions o;
  o.parse_special = (data[0] >> 4) & 1;
  o.add_special_tokens = (data[0] >> 5) & 1;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  std::vector<uint32_t> a, b, r;
  int errors = 0;
  try {
    s.fast[which].encode(text, o, a);
  } catch (const longctx::Error&) {
    ++errors;
  }
  try {
    s.fast[which].encode(text, o, b);  // again: now from the piece cache
  } catch (const longctx::Error&) {
    ++errors;
  }
  try {
    s.ref[which].encode(text, o, r);
  } catch (const longctx::Error&) {
    ++errors;
  }
  if (errors != 0 && errors != 3) __builtin_trap();  // the paths must agree on refusing a text too
  // Text that is not UTF-8 is refused (it used to be read as code points past the Unicode tables).
  if ((errors == 3) != !simdjson::validate_utf8(text.data(), text.size())) __builtin_trap();
  if (errors) return 0;
  if (a != r || b != r) {
    std::fprintf(stderr, "%s: fast path (%zu ids) != reference (%zu ids)\n", s.toks[which].name.c_str(), a.size(), r.size());
    __builtin_trap();
  }
  for (const uint32_t id : a)
    if (id >= s.toks[which].tok->vocab_size()) __builtin_trap();
  return 0;
}
