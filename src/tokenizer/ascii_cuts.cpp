// Four 16-lane gathers from the pair table per 64 bytes (it is 16 KB, in L1), against a table
// load, a compare and a conditional store per byte in the scalar loop.
#include "ascii_cuts.h"

#include <immintrin.h>

#include "longctx/text/cpu.h"

// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*(), which its own
// -Wmaybe-uninitialized then reports inside the header.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace longctx::tokenizer {

#define LONGCTX_AVX512_CUTS __attribute__((target("avx512f,avx512bw,avx512vbmi2,popcnt,lzcnt")))

LONGCTX_AVX512_CUTS bool ascii_cuts64(const uint8_t* p, const uint8_t* joins, uint64_t* cuts) {
  const __m512i cur = _mm512_loadu_si512(p);
  const __m512i prev = _mm512_loadu_si512(p - 1);
  if (_mm512_movepi8_mask(_mm512_or_si512(cur, prev))) return false;  // a byte >= 0x80
  uint64_t joined = 0;
  for (int q = 0; q < 4; ++q) {
    const __m512i x = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p - 1 + 16 * q)));
    const __m512i y = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * q)));
    const __m512i at = _mm512_add_epi32(_mm512_slli_epi32(x, 7), y);
    const __m512i got = _mm512_i32gather_epi32(at, joins, 1);  // the entry in the low byte
    joined |= static_cast<uint64_t>(_mm512_test_epi32_mask(got, _mm512_set1_epi32(0xFF))) << (16 * q);
  }
  *cuts = ~joined;
  return true;
}

// The cut positions, packed by one byte compress, become piece ends 16 at a time; each piece's
// start is the end before it (one lane over), and the two interleave into {start, end} pairs.
// Against a store pair and a count per cut (a cut every ~5 bytes of English).
LONGCTX_AVX512_CUTS int ascii_cut_spans(const uint8_t* p, const uint8_t* joins, uint32_t at, uint32_t* start, Span* out) {
  uint64_t m;
  if (!ascii_cuts64(p, joins, &m)) return -1;
  if (!m) return 0;
  alignas(64) static constexpr uint8_t kIota[64] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
                                                    16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
                                                    32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47,
                                                    48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63};
  const __m512i positions = _mm512_maskz_compress_epi8(m, _mm512_load_si512(kIota));
  const __m512i base = _mm512_set1_epi32(static_cast<int>(at));
  const __m512i first_half = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i second_half = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const int count = static_cast<int>(_mm_popcnt_u64(m));
  __m512i before = _mm512_set1_epi32(static_cast<int>(*start));  // lane 15: the end before the group
  for (int g = 0; g < count; g += 16) {
    const __m128i bytes = g == 0    ? _mm512_extracti32x4_epi32(positions, 0)
                          : g == 16 ? _mm512_extracti32x4_epi32(positions, 1)
                          : g == 32 ? _mm512_extracti32x4_epi32(positions, 2)
                                    : _mm512_extracti32x4_epi32(positions, 3);
    const __m512i ends = _mm512_add_epi32(_mm512_cvtepu8_epi32(bytes), base);
    const __m512i starts = _mm512_alignr_epi32(ends, before, 15);
    _mm512_storeu_si512(out + g, _mm512_permutex2var_epi32(starts, first_half, ends));
    _mm512_storeu_si512(out + g + 8, _mm512_permutex2var_epi32(starts, second_half, ends));
    before = ends;
  }
  *start = at + 63 - static_cast<uint32_t>(_lzcnt_u64(m));
  return count;
}

bool ascii_cuts_vectorized() {
  return text::avx512_text_kernels();
}

}  // namespace longctx::tokenizer
