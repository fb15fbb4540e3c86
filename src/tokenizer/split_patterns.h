// Hand-written scanners for the Split regexes that byte-level BPE tokenizers use. Each returns the
// same pieces as the regex's find-iter (Oniguruma, as Hugging Face tokenizers runs it) with the
// "Isolated" split behaviour: matches and the gaps between them, so pieces tile the input.
// The general regex path (regex.h) runs at 10-70 MB/s here; these scanners work on bytes with
// ASCII fast paths, 250-1,400 MB/s on English (bench/split_fuzz --speed; the top figure is the
// LLaMA-3/Qwen2 scanner's AVX-512 path, llama3_ascii.h). Checked against HF by
// tests/oracle/check_split_patterns.py and against the general path by split_fuzz_test.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
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
  // GPT-4o / gpt-oss (o200k): words split on letter case, with an optional contraction suffix:
  //   [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|
  //   [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|
  //   \p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+
  kO200k,
  // DeepSeek-V3: a Sequence of three Isolated Split pre-tokenizers, each run on every piece the one
  // before produced (pieces are matches and the gaps between them):
  //   \p{N}{1,3}     then     [\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+     then
  //   [!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+|
  //    ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
  // The last does not cover every character (a lone control or format character, a digit piece):
  // what it leaves between matches are pieces too.
  kDeepSeekV3,
};

// Recognises a regex string from tokenizer.json (after JSON unescaping; a literal CR or LF byte
// counts as the escape \r or \n, which Oniguruma reads the same); nullopt for patterns we have no
// scanner for.
std::optional<SplitPattern> recognise_split_pattern(std::string_view regex);

// Recognises a Sequence of Split pre-tokenizers, all Isolated and not inverted, by their regexes
// in order (kDeepSeekV3); nullopt otherwise. A one-element sequence is recognise_split_pattern.
std::optional<SplitPattern> recognise_split_sequence(const std::vector<std::string>& regexes);

struct Span {
  uint32_t begin, end;  // byte offsets
};

// Appends the pieces of s[begin, end) to out, with offsets relative to s.
void split_pieces(SplitPattern pattern, std::string_view s, uint32_t begin, uint32_t end, std::vector<Span>& out);

}  // namespace longctx::tokenizer
