// Token strings → text, as Hugging Face's decoders do it: each step maps the list of token strings
// to a new list (decode_chain), and the final list is concatenated.
#pragma once

#include <string>
#include <vector>

namespace longctx::tokenizer {

struct DecoderStep {
  enum class Kind { kByteLevel, kReplace, kByteFallback, kFuse, kStrip, kMetaspace };
  Kind kind;
  std::string pattern, content;  // Replace: pattern → content; Strip: content; Metaspace: replacement
  size_t start = 0, stop = 0;    // Strip: characters removed at the start / end of each token
  bool prepend = true;           // Metaspace: a prefix space was added at encode time (scheme != never)
};

// Applies the steps to the token strings and joins the result.
std::string run_decoder(const std::vector<DecoderStep>& steps, std::vector<std::string> tokens);

}  // namespace longctx::tokenizer
