// Where a piece starts, for text made only of ASCII letters (L), digits (D), punctuation (P:
// printable ASCII that is no letter, digit or space, the apostrophe included), single spaces (S)
// and line feeds (N), with no space right after a line feed. There the regex
//   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|
//   \s*[\r\n]+|\s+(?!\S)|\s+
// reduces to five alternatives, tried in order at each piece start:
//   - (?i:'s|'t|'re|'ve|'m|'ll|'d): an apostrophe that starts a piece and the one or two ASCII
//     letters of a contraction after it (the non-ASCII letters that fold to them are outside the
//     alphabet);
//   - [^\r\n\p{L}\p{N}]?\p{L}+: a letter run, with the S or P before it when that S or P starts
//     the piece (never an N: the class excludes it);
//   - " ?[^\s\p{L}\p{N}]+[\r\n]*": an S and the P run after it, or a P run (greedy: it takes every
//     P, so a P run of two or more is never a letter run's prefix), and the N run after it;
//   - \p{N}{1,3} (\p{N} for Qwen2): a D run in groups of three (one) from its first digit;
//   - \s*[\r\n]+: an N run, or an S and the N run after it (greedy; an S after an N, which could
//     join two N runs into one piece, is outside the alphabet);
//   - (no other whitespace and no two spaces in a row: none of the others; an S before a D is a
//     piece of its own, by \s+, as the rule for S below has it.)
// So, bit by bit over 64 bytes, with x<<1 meaning "the byte before is x" and x>>1 "the byte
// after is x":
//   - every S starts a piece (no piece ends with a space here: letters, P runs and N runs stop
//     at it);
//   - a P starts one unless a P or an S is before it (then it is in that piece);
//   - an N starts one unless a P, an N or an S is before it (then it is in that piece);
//   - a D starts one where its run starts, and every `max_digits` digits after that (no other
//     piece takes a digit in);
//   - a letter starts one unless a letter is before it, or the byte before is a prefix: an S
//     before a letter, or a P before a letter that itself started a piece (no P or S before it);
//   - a contraction's letters start none, and the byte after them starts one.
// Each start depends on the bytes from four before it to one after it, or, for a D, on the digits
// before it in its run; all of them lie in the window (a run going on before the window is cut at
// a group start, since the window starts at a piece start). The caller starts the
// window at a piece start, and a byte before the window reads as "none of L, P, S, N", which
// gives that start. A byte outside the alphabet at b makes the starts at b - 1 and after unsure:
// only pieces whose both ends lie before that are emitted. The scanner stays the oracle
// (tests/tokenizer/split_fuzz_test.cpp runs both against Oniguruma).
#include "llama3_ascii.h"

#include <immintrin.h>

#include "longctx/text/cpu.h"
#include "spans_avx512.h"

// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*(), which its own
// -Wmaybe-uninitialized then reports inside the header.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace longctx::tokenizer {
namespace {

struct Classes {
  uint64_t letter, digit, punct, space, newline, apostrophe;
  uint64_t other;           // outside the alphabet: controls but LF, DEL, bytes >= 0x80
  uint64_t stmd, rv, e, l;  // letters of the contractions, either case
};

// Bytes equal to lower-case letter c once bit 5 is set: c and its upper case.
LONGCTX_AVX512_TEXT inline uint64_t folded_is(__m512i folded, char c) {
  return _mm512_cmpeq_epi8_mask(folded, _mm512_set1_epi8(c));
}

LONGCTX_AVX512_TEXT inline Classes classify(__m512i v) {
  const __m512i folded = _mm512_or_si512(v, _mm512_set1_epi8(0x20));
  const uint64_t letter = _mm512_cmplt_epu8_mask(_mm512_sub_epi8(folded, _mm512_set1_epi8('a')), _mm512_set1_epi8(26));
  const uint64_t space = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(' '));
  const uint64_t digit = _mm512_cmplt_epu8_mask(_mm512_sub_epi8(v, _mm512_set1_epi8('0')), _mm512_set1_epi8(10));
  const uint64_t newline = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\n'));
  // Controls other than LF (tab, CR...), DEL and every byte >= 0x80: outside the alphabet.
  const uint64_t control =
      (_mm512_cmplt_epu8_mask(v, _mm512_set1_epi8(0x20)) & ~newline) | _mm512_cmpge_epu8_mask(v, _mm512_set1_epi8(0x7F));
  const uint64_t apostrophe = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\''));
  return Classes{letter,
                 digit,
                 ~(letter | digit | space | newline | apostrophe | control),
                 space,
                 newline,
                 apostrophe,
                 control,
                 folded_is(folded, 's') | folded_is(folded, 't') | folded_is(folded, 'm') | folded_is(folded, 'd'),
                 folded_is(folded, 'r') | folded_is(folded, 'v'),
                 folded_is(folded, 'e'),
                 folded_is(folded, 'l')};
}

}  // namespace

LONGCTX_AVX512_TEXT uint32_t llama3_ascii_pieces(const char* s, uint32_t i, uint32_t max_digits, std::vector<Span>& out,
                                                  uint32_t* retry) {
  const Classes c = classify(_mm512_loadu_si512(s + i));
  const uint64_t L = c.letter, D = c.digit, S = c.space, N = c.newline, A = c.apostrophe;
  const uint64_t P = c.punct | A;  // an apostrophe is punctuation unless it starts a contraction
  // Outside the alphabet: c.other, a space before another space (whitespace rules apply; the
  // byte after the window counts for the last one), and a space after a line feed.
  const uint64_t after_space = s[i + 64] == ' ';
  const uint64_t bad = c.other | (S & ((S >> 1) | (after_space << 63))) | (S & (N << 1));
  const uint64_t p_start = P & ~(P << 1) & ~(S << 1);
  const uint64_t n_start = N & ~((P | N | S) << 1);
  // A contraction ('s 't 'm 'd, 're 've 'll, either case) where an apostrophe starts a piece:
  // the piece is the apostrophe and those letters, and the byte after them starts the next one.
  const uint64_t a_start = p_start & A;
  const uint64_t short_form = a_start & (c.stmd >> 1);
  const uint64_t long_form = a_start & ~short_form & (((c.rv >> 1) & (c.e >> 2)) | ((c.l >> 1) & (c.l >> 2)));
  const uint64_t contraction = short_form | long_form;
  const uint64_t prefix = (S | p_start) & (L >> 1);
  uint64_t d_start = D;  // Qwen2: every digit
  if (max_digits == 3) {
    uint64_t group = D & ~(D << 1);  // run starts, then three digits on while the run lasts
    d_start = group;
    while (group) {
      group = (group << 3) & D & (D << 1) & (D << 2);
      d_start |= group;
    }
  }
  const uint64_t starts = (S | p_start | n_start | d_start | (L & ~(L << 1) & ~(prefix << 1)) | (short_form << 2) |
                          (long_form << 3)) & ~(contraction << 1);
  // Starts at positions below `sure` are exact: all of them, or those up to two bytes before
  // the first byte outside the alphabet. (The start at 63 needs no byte after the window: only
  // the prefix bit of 63, i.e. the start at 64, would.)
  const uint32_t first_bad = bad ? static_cast<uint32_t>(__builtin_ctzll(bad)) : 65;
  const uint32_t sure = first_bad >= 1 ? first_bad - 1 : 0;
  // A window starting before the byte after the first bad one would stop at the same byte.
  *retry = first_bad < 64 ? i + first_bad + 1 : i;
  uint64_t m = sure >= 64 ? starts : starts & ((1ULL << sure) - 1);
  if (!(m & 1)) return i;  // nothing sure (a byte outside the alphabet at 0 or 1)
  m &= m - 1;              // position 0: the first piece's start
  if (!m) return i;
  // The later starts are the pieces' ends (write_spans: 16 at a time, no push_back each).
  const size_t old = out.size();
  out.resize(old + ((_mm_popcnt_u64(m) + 15) & ~15ULL));  // whole groups of 16, trimmed below
  const int count = write_spans(m, i, i, out.data() + old);
  out.resize(old + static_cast<size_t>(count));
  return i + 63 - static_cast<uint32_t>(__builtin_clzll(m));  // m != 0
}

}  // namespace longctx::tokenizer
