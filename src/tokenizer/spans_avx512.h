// Pieces from a bit mask of where they end, 16 at a time with AVX-512; for the kernels that find
// piece boundaries 64 bytes at a time (ascii_cuts.cpp, llama3_ascii.cpp). Include only from
// translation units that check text::avx512_text_kernels() before calling.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "longctx/text/cpu.h"
#include "split_patterns.h"

namespace longctx::tokenizer {

// For each set bit b of `ends` (lowest first), the piece {previous end, base + b}, the first one
// beginning at `first`; returns how many. The ends, packed by one byte compress, become 32-bit
// lanes 16 at a time; each piece's begin is the end before it (one lane over), and the two
// interleave into {begin, end} pairs. Writes whole groups of 16: dst needs room for the count
// rounded up to 16.
LONGCTX_AVX512_TEXT inline int write_spans(uint64_t ends, uint32_t base, uint32_t first, Span* dst) {
  alignas(64) static constexpr uint8_t kIota[64] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
                                                    16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
                                                    32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47,
                                                    48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63};
  const __m512i positions = _mm512_maskz_compress_epi8(ends, _mm512_load_si512(kIota));
  const __m512i offset = _mm512_set1_epi32(static_cast<int>(base));
  const __m512i first_half = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i second_half = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const int count = static_cast<int>(_mm_popcnt_u64(ends));
  __m512i before = _mm512_set1_epi32(static_cast<int>(first));  // lane 15: the end before the group
  for (int g = 0; g < count; g += 16) {
    const __m128i bytes = g == 0    ? _mm512_extracti32x4_epi32(positions, 0)
                          : g == 16 ? _mm512_extracti32x4_epi32(positions, 1)
                          : g == 32 ? _mm512_extracti32x4_epi32(positions, 2)
                                    : _mm512_extracti32x4_epi32(positions, 3);
    const __m512i end = _mm512_add_epi32(_mm512_cvtepu8_epi32(bytes), offset);
    const __m512i begin = _mm512_alignr_epi32(end, before, 15);
    _mm512_storeu_si512(dst + g, _mm512_permutex2var_epi32(begin, first_half, end));
    _mm512_storeu_si512(dst + g + 8, _mm512_permutex2var_epi32(begin, second_half, end));
    before = end;
  }
  return count;
}

}  // namespace longctx::tokenizer
