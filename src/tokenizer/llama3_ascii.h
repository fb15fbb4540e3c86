// The LLaMA-3 / cl100k / Qwen2 scanner (split_patterns.cpp) 64 bytes at a time with AVX-512, on
// the text it covers: ASCII letters, single spaces and punctuation.
#pragma once

#include <cstdint>
#include <vector>

#include "split_patterns.h"

namespace longctx::tokenizer {

// i is where a piece starts and i + 65 <= end. Appends the pieces of s[i, ...) that the 64 bytes
// at i (and the byte after them) settle, and returns where the first unsettled one starts (i when
// none is settled: the caller then takes pieces the ordinary way). *retry: the first position
// from which another window can settle more (past the byte that stopped this one).
// max_digits: 3 for LLaMA-3 (\p{N}{1,3}), 1 for Qwen2 (\p{N}).
uint32_t llama3_ascii_pieces(const char* s, uint32_t i, uint32_t max_digits, std::vector<Span>& out, uint32_t* retry);

}  // namespace longctx::tokenizer
