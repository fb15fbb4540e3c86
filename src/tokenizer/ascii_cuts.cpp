// Four 16-lane gathers from the pair table per 64 bytes (it is 16 KB, in L1), against a table
// load, a compare and a conditional store per byte in the scalar loop.
#include "ascii_cuts.h"

#include <immintrin.h>

#include "longctx/text/cpu.h"
#include "spans_avx512.h"

// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*(), which its own
// -Wmaybe-uninitialized then reports inside the header.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace longctx::tokenizer {

LONGCTX_AVX512_TEXT bool ascii_cuts64(const uint8_t* p, const uint8_t* joins, uint64_t* cuts) {
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

// The pieces written 16 at a time (write_spans), against a store pair and a count per cut (a cut
// every ~5 bytes of English).
LONGCTX_AVX512_TEXT int ascii_cut_spans(const uint8_t* p, const uint8_t* joins, uint32_t at, uint32_t* start, Span* out) {
  uint64_t m;
  if (!ascii_cuts64(p, joins, &m)) return -1;
  if (!m) return 0;
  const int count = write_spans(m, at, *start, out);
  *start = at + 63 - static_cast<uint32_t>(__builtin_clzll(m));  // m != 0
  return count;
}

}  // namespace longctx::tokenizer
