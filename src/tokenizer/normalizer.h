// Normalizers of tokenizer.json, as Hugging Face tokenizers 0.23 applies them to each run of text
// between added tokens: a list of steps (a Sequence is flattened), each a string → string map.
// Only the normalized text matters for ids (HF's alignments serve offsets, which we do not keep).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "regex.h"

namespace longctx::tokenizer {

struct NormalizerStep {
  enum class Kind { kPrepend, kReplace, kNfc, kNfd, kNfkc, kNfkd, kLowercase, kStrip, kStripAccents };
  Kind kind;
  std::string text;                     // Prepend: what is prepended; Replace: a String pattern
  std::string content;                  // Replace: the replacement
  std::shared_ptr<const Regex> regex;   // Replace with a {"Regex": ...} pattern (else `text` is literal)
  bool left = false, right = false;     // Strip: which ends
};

// Applies the steps to s, writing the result to out (tmp is scratch). Returns whether the start
// of the text stayed at original offset 0 (a left Strip that removed characters moves it; Metaspace
// "first" asks).
bool normalize(const std::vector<NormalizerStep>& steps, std::string_view s, std::string& out, std::string& tmp);

}  // namespace longctx::tokenizer
