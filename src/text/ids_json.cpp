// Token ids to JSON text with AVX-512, 16 ids a step. The ids' text is a tenth of tokenize's time
// end to end (2.2M ids for 10 MB of text), and the scalar writer's per-id branches on the digit
// count and table loads cost ~9 cycles an id; this costs ~2.
//
// Each id v < 10^7 becomes 8 bytes: its 7 digits with leading zeros, then ','. The byte compress
// of VBMI2 then drops the leading zeros of 8 ids at once. Ids of 10^7 or more (no vocabulary has
// them) send their group of 16 to the scalar writer.
#include "longctx/text/ids_json.h"

#include "longctx/text/cpu.h"

#include <immintrin.h>

// GCC 12's AVX-512 conversion intrinsics start from _mm512_undefined_*(), which its own
// -Wmaybe-uninitialized then reports inside the header.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace longctx::text {
namespace {

// x < 10000 in each 32-bit lane → its 4 ASCII digits in that lane, most significant byte first in
// memory. In 16-bit halves: q = x / 100 and r = x % 100 (5243 / 2^19 is 1/100 closely enough for
// x < 43699), then each of q, r as tens and ones (6554 / 2^16 for 1/10 below 16389); the tests
// check every x.
LONGCTX_AVX512_TEXT inline __m512i four_digits(__m512i x) {
  const __m512i q = _mm512_srli_epi16(_mm512_mulhi_epu16(x, _mm512_set1_epi32(5243)), 3);
  const __m512i r = _mm512_sub_epi16(x, _mm512_mullo_epi16(q, _mm512_set1_epi32(100)));
  const __m512i y = _mm512_or_si512(q, _mm512_slli_epi32(r, 16));  // q in the low half, r in the high
  const __m512i t = _mm512_mulhi_epu16(y, _mm512_set1_epi16(6554));
  const __m512i u = _mm512_sub_epi16(y, _mm512_mullo_epi16(t, _mm512_set1_epi16(10)));
  return _mm512_add_epi8(_mm512_or_si512(t, _mm512_slli_epi16(u, 8)), _mm512_set1_epi8('0'));
}

LONGCTX_AVX512_TEXT char* write_ids_avx512(char* p, const uint32_t* ids, size_t n) {
  // Lane pairs (hi digits of id i, lo digits of id i) for ids 0-7 and 8-15.
  const __m512i pair0 = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i pair1 = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  // Byte b of a group's text belongs to id b / 8 (whose drop count is the low byte of its 32-bit
  // lane) and is byte b % 8 of that id's 8. Built at compile time, not at every call.
  struct alignas(64) Tables {
    uint8_t spread0[64], spread1[64], position[64];
  };
  static constexpr Tables kTables = [] {
    Tables t{};
    for (int b = 0; b < 64; ++b) {
      t.spread0[b] = static_cast<uint8_t>(4 * (b / 8));
      t.spread1[b] = static_cast<uint8_t>(4 * (b / 8 + 8));
      t.position[b] = static_cast<uint8_t>(b % 8);
    }
    return t;
  }();
  const __m512i drop_of0 = _mm512_load_si512(kTables.spread0), drop_of1 = _mm512_load_si512(kTables.spread1);
  const __m512i byte_position = _mm512_load_si512(kTables.position);
  const __m512i comma = _mm512_set1_epi64(static_cast<long long>(uint64_t{','} << 56));
  static constexpr uint32_t kPow10[6] = {10, 100, 1000, 10000, 100000, 1000000};
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512i v = _mm512_loadu_si512(ids + i);
    if (_mm512_cmpge_epu32_mask(v, _mm512_set1_epi32(10000000))) {
      p = write_ids_scalar(p, ids + i, 16);
      continue;
    }
    // v / 10^4: v < 2^24 is exact as a float, and the correctly rounded quotient never reaches
    // the next integer (it is at least 10^-4 below it, more than half an ulp of numbers < 1024).
    const __m512i hi = _mm512_cvttps_epu32(_mm512_div_ps(_mm512_cvtepu32_ps(v), _mm512_set1_ps(10000.0f)));
    const __m512i lo = _mm512_sub_epi32(v, _mm512_mullo_epi32(hi, _mm512_set1_epi32(10000)));
    const __m512i h = four_digits(hi), l = four_digits(lo);
    // Leading bytes to drop of each id's 8: 6 minus the powers of ten it reaches (7 - digits).
    __m512i drop = _mm512_set1_epi32(6);
    for (const uint32_t p10 : kPow10)
      drop = _mm512_mask_sub_epi32(drop, _mm512_cmpge_epu32_mask(v, _mm512_set1_epi32(static_cast<int>(p10))), drop,
                                   _mm512_set1_epi32(1));
    // hi < 1000, so its first digit is always '0': shifting the 64-bit lane down one byte drops it
    // and frees the last byte for the comma.
    const __m512i text0 = _mm512_or_si512(_mm512_srli_epi64(_mm512_permutex2var_epi32(h, pair0, l), 8), comma);
    const __m512i text1 = _mm512_or_si512(_mm512_srli_epi64(_mm512_permutex2var_epi32(h, pair1, l), 8), comma);
    const __mmask64 keep0 = _mm512_cmpge_epu8_mask(byte_position, _mm512_permutexvar_epi8(drop_of0, drop));
    const __mmask64 keep1 = _mm512_cmpge_epu8_mask(byte_position, _mm512_permutexvar_epi8(drop_of1, drop));
    _mm512_storeu_si512(p, _mm512_maskz_compress_epi8(keep0, text0));
    p += _mm_popcnt_u64(keep0);
    _mm512_storeu_si512(p, _mm512_maskz_compress_epi8(keep1, text1));
    p += _mm_popcnt_u64(keep1);
  }
  return write_ids_scalar(p, ids + i, n - i);
}

}  // namespace

char* write_ids(char* p, const uint32_t* ids, size_t n) {
  return avx512_text_kernels() ? write_ids_avx512(p, ids, n) : write_ids_scalar(p, ids, n);
}

}  // namespace longctx::text
