// config.json -> ModelConfig::parse: any input is a config or one Error line; a config that parses
// has sizes the engine can allocate (the parse promises every matrix within 2^40 elements).
#include <cstdint>
#include <string>

#include "longctx/model/config.h"
#include "longctx/util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const auto c = longctx::model::ModelConfig::parse(text, "config.json");
    // What a parsed config promises its users.
    if (c.num_attention_heads == 0 || c.num_key_value_heads == 0 || c.head_dim == 0 || c.hidden_size == 0 ||
        c.vocab_size == 0 || c.num_hidden_layers == 0 || c.intermediate_size == 0)
      __builtin_trap();
    if (c.num_attention_heads % c.num_key_value_heads != 0) __builtin_trap();
    if (c.sliding_window > 0 && c.layer_sliding.size() != c.num_hidden_layers) __builtin_trap();
    if (c.rotary_dim == 0 || c.rotary_dim > c.head_dim || c.rotary_dim % 2 != 0) __builtin_trap();
    for (uint64_t l = 0; l < c.num_hidden_layers && l < 4; ++l) (void)c.sliding(l);
  } catch (const longctx::Error&) {
  }
  return 0;
}
