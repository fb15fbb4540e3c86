// The SentencePiece join cut (EncoderState::cut_at_joins) 64 ASCII bytes at a time with AVX-512:
// call only where text::avx512_text_kernels() (longctx/text/cpu.h) allows.
#pragma once

#include <cstdint>

#include "split_patterns.h"

namespace longctx::tokenizer {

// For the 64 bytes at p, all ASCII, with p[-1] ASCII too: bit i of the result is set when
// joins[p[i-1] * 128 + p[i]] is 0, i.e. when the text is cut before p[i]. `joins` is a
// 128 * 128 byte table of 0 / 1 followed by 3 readable bytes. Returns false (and nothing in
// *cuts) when one of the 65 bytes is not ASCII.
bool ascii_cuts64(const uint8_t* p, const uint8_t* joins, uint64_t* cuts);

// The same cuts written as pieces: for each cut before p[i], the piece {*start, at + i}, after
// which *start = at + i (`at`: the offset of p). Returns how many, or -1 as ascii_cuts64 returns
// false. Writes whole groups of 16: out needs room for 80 pieces.
int ascii_cut_spans(const uint8_t* p, const uint8_t* joins, uint32_t at, uint32_t* start, Span* out);

}  // namespace longctx::tokenizer
