// Hand-written scanners for the Split regexes that byte-level BPE tokenizers use. Each returns the
// same pieces as the regex's find-iter (Oniguruma, as Hugging Face tokenizers runs it) with the
// "Isolated" split behaviour; the patterns cover every character, so pieces tile the input.
// A regex engine costs ~50 MB/s here; these scanners work on bytes with ASCII fast paths.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace longctx::tokenizer {

enum class SplitPattern : uint8_t {
  // LLaMA-3 / cl100k: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
  //                   ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
  kLlama3,
  // The same with \p{N} single digits (Qwen2).
  kLlama3SingleDigits,
  // GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
  kGpt2,
};

// Recognises a regex string from tokenizer.json; nullopt for patterns we have no scanner for.
std::optional<SplitPattern> recognise_split_pattern(std::string_view regex);

struct Span {
  uint32_t begin, end;  // byte offsets
};

// Appends the pieces of s[begin, end) to out, with offsets relative to s.
void split_pieces(SplitPattern pattern, std::string_view s, uint32_t begin, uint32_t end, std::vector<Span>& out);

}  // namespace longctx::tokenizer
