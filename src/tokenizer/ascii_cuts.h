// The SentencePiece join cut (EncoderState::cut_at_joins) 64 ASCII bytes at a time with AVX-512.
#pragma once

#include <cstdint>

namespace longctx::tokenizer {

// Whether ascii_cuts64 may be called on this CPU (AVX-512 F and BW).
bool ascii_cuts_vectorized();

// For the 64 bytes at p, all ASCII, with p[-1] ASCII too: bit i of the result is set when
// joins[p[i-1] * 128 + p[i]] is 0, i.e. when the text is cut before p[i]. `joins` is a
// 128 * 128 byte table of 0 / 1 followed by 3 readable bytes. Returns false (and nothing in
// *cuts) when one of the 65 bytes is not ASCII.
bool ascii_cuts64(const uint8_t* p, const uint8_t* joins, uint64_t* cuts);

}  // namespace longctx::tokenizer
