// tokenizer.json text -> Tokenizer::from_json: a tokenizer or one Error line, memory bounded by the
// input; a tokenizer that loads encodes and decodes a few strings without crashing.
#include <cstdint>
#include <string>

#include "longctx/tokenizer/tokenizer.h"
#include "longctx/util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  std::shared_ptr<const longctx::tokenizer::Tokenizer> tok;
  try {
    tok = longctx::tokenizer::Tokenizer::from_json(json, "tokenizer.json");
  } catch (const longctx::Error&) {
    return 0;
  }
  for (const char* text : {"", "Hello world", " a  ab\n\nabc é <s>", "\xff\xfe"}) {
    for (const bool special : {false, true}) {
      longctx::tokenizer::EncodeOptions o;
      o.parse_special = special;
      std::vector<uint32_t> ids;
      try {
        ids = tok->encode(text, o);
      } catch (const longctx::Error&) {
        continue;
      }
      for (const uint32_t id : ids)
        if (id >= tok->vocab_size()) __builtin_trap();
      try {
        (void)tok->decode(ids, false);
        (void)tok->decode(ids, true);
      } catch (const longctx::Error&) {
      }
    }
  }
  return 0;
}
