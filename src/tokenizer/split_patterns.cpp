#include "split_patterns.h"

#include <cstring>

#include "llama3_ascii.h"
#include "longctx/text/cpu.h"
#include "longctx/text/unicode.h"
#include "longctx/text/utf8.h"

namespace longctx::tokenizer {

using text::kLetter;
using text::kNumber;
using text::kSpace;

namespace {

// Oniguruma reads a literal CR or LF in a pattern as it reads the escapes \r and \n; tokenizer.json
// files use both spellings (o200k escapes them, DeepSeek-V3 has the characters themselves).
std::string canonical_regex(std::string_view regex) {
  std::string out;
  out.reserve(regex.size());
  for (const char c : regex) {
    if (c == '\r') out += "\\r";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

constexpr std::string_view kDeepSeekV3Regexes[3] = {
    R"(\p{N}{1,3})",
    "[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+",
    R"([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)",
};

}  // namespace

std::optional<SplitPattern> recognise_split_pattern(std::string_view regex) {
  static constexpr std::string_view kLlama3Regex =
      R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
  static constexpr std::string_view kQwen2Regex =
      R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
  static constexpr std::string_view kGpt2Regex = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
  static constexpr std::string_view kO200kRegex =
      R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|)"
      R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|)"
      R"(\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
  const std::string r = canonical_regex(regex);
  if (r == kLlama3Regex) return SplitPattern::kLlama3;
  if (r == kQwen2Regex) return SplitPattern::kLlama3SingleDigits;
  if (r == kGpt2Regex) return SplitPattern::kGpt2;
  if (r == kO200kRegex) return SplitPattern::kO200k;
  return std::nullopt;
}

std::optional<SplitPattern> recognise_split_sequence(const std::vector<std::string>& regexes) {
  if (regexes.size() == 1) return recognise_split_pattern(regexes[0]);
  if (regexes.size() == 3) {
    bool all = true;
    for (size_t k = 0; k < 3; ++k) all = all && canonical_regex(regexes[k]) == kDeepSeekV3Regexes[k];
    if (all) return SplitPattern::kDeepSeekV3;
  }
  return std::nullopt;
}

namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "ascii_letter_prefix reads bytes in load order");

// How many of the 8 bytes at p, from the first, are ASCII letters (A-Z, a-z: exactly the ASCII
// characters in \p{L}), 0 to 8. SWAR: per byte x = low 7 bits with the case bit set; x + 0x1F has
// bit 7 set iff x >= 'a', x + 5 iff x > 'z', and neither sum carries into the next byte (x <= 0x7F).
// A byte >= 0x80 is excluded by its own bit 7. Setting bit 5 maps exactly A-Z onto a-z and keeps
// a-z, so 'a' <= x <= 'z' holds for exactly the 52 letters.
[[gnu::always_inline]] inline uint32_t ascii_letter_prefix(const char* p) {
  constexpr uint64_t k01 = 0x0101010101010101ULL, k80 = 0x8080808080808080ULL;
  uint64_t w;
  std::memcpy(&w, p, 8);
  const uint64_t x = (w & ~k80) | (0x20 * k01);
  const uint64_t letter = (x + (0x80 - 'a') * k01) & ~(x + (0x80 - 'z' - 1) * k01) & ~w & k80;
  const uint64_t stop = ~letter & k80;
  return stop ? static_cast<uint32_t>(__builtin_ctzll(stop)) / 8 : 8;
}

// A cursor over UTF-8 text that knows each character's class.
struct Scanner {
  const char* s;
  uint32_t end;

  // Class and byte length of the character at i (i < end).
  uint8_t cls(uint32_t i, int* len) const {
    const auto b = static_cast<uint8_t>(s[i]);
    if (b < 0x80) {
      *len = 1;
      return text::char_class(b);
    }
    return text::char_class(text::utf8_decode(s + i, s + end, len));
  }
  uint8_t cls_at(uint32_t i) const {
    int len;
    return cls(i, &len);
  }
  // End of the run, starting at i, of characters whose class has a bit of `want`.
  uint32_t run(uint32_t i, uint8_t want) const {
    // Fast path: skip whole groups of ASCII letters 8 bytes at a time. Exact: it only passes bytes
    // the loop below would pass too (ASCII letters, when `want` has kLetter) and stops at the
    // first other byte, where the loop takes over. The scanners' oracle stays the general regex
    // path (split_fuzz_test, bench/split_fuzz).
    if (want & kLetter) {
      while (i + 8 <= end) {
        const uint32_t n = ascii_letter_prefix(s + i);
        i += n;
        if (n < 8) break;
      }
    }
    while (i < end) {
      const auto b = static_cast<uint8_t>(s[i]);
      if (b < 0x80) {
        if (!(text::char_class(b) & want)) break;
        ++i;
        continue;
      }
      int len;
      if (!(cls(i, &len) & want)) break;
      i += len;
    }
    return i;
  }
  // End of the run, starting at i, of characters that are neither letter, number nor space.
  uint32_t run_other(uint32_t i) const {
    while (i < end) {
      int len;
      if (cls(i, &len) & (kLetter | kNumber | kSpace)) break;
      i += len;
    }
    return i;
  }
  bool is_other(uint32_t i) const { return i < end && !(cls_at(i) & (kLetter | kNumber | kSpace)); }
  bool is_letter(uint32_t i) const { return i < end && (cls_at(i) & kLetter); }
  bool is_number(uint32_t i) const { return i < end && (cls_at(i) & kNumber); }

  // Length (bytes after the apostrophe at i) of a contraction 's 't 're 've 'm 'll 'd, or 0.
  // Case-insensitive matching follows Unicode simple case folding, in which U+017F LATIN SMALL
  // LETTER LONG S folds to 's'.
  uint32_t contraction(uint32_t i, bool ignore_case) const {
    auto letter = [&](uint32_t k, char want, int* len) -> bool {
      *len = 1;
      if (k >= end) return false;
      const char c = s[k];
      if (c == want) return true;
      if (!ignore_case) return false;
      if (c == want - 'a' + 'A') return true;
      if (want == 's' && k + 1 < end && static_cast<uint8_t>(c) == 0xC5 && static_cast<uint8_t>(s[k + 1]) == 0xBF) {
        *len = 2;
        return true;
      }
      return false;
    };
    int l1, l2;
    const uint32_t j = i + 1;
    if (letter(j, 's', &l1) || letter(j, 't', &l1) || letter(j, 'm', &l1) || letter(j, 'd', &l1)) return l1;
    if (letter(j, 'r', &l1) && letter(j + l1, 'e', &l2)) return l1 + l2;
    if (letter(j, 'v', &l1) && letter(j + l1, 'e', &l2)) return l1 + l2;
    if (letter(j, 'l', &l1) && letter(j + l1, 'l', &l2)) return l1 + l2;
    return 0;
  }

  // Whitespace handling shared by all patterns at a whitespace character i:
  //   (newline_alt) \s*[\r\n]+  then  \s+(?!\S)  then  \s+
  uint32_t whitespace(uint32_t i, bool newline_alt) const {
    uint32_t last_char = i, last_newline_end = 0, j = i;
    while (j < end) {
      int len;
      if (!(cls(j, &len) & kSpace)) break;
      if (s[j] == '\r' || s[j] == '\n') last_newline_end = j + 1;
      last_char = j;
      j += len;
    }
    if (newline_alt && last_newline_end) return last_newline_end;
    if (j == end) return j;         // \s+(?!\S) at the end of input
    if (last_char > i) return last_char;  // \s+(?!\S) gives back the last space
    return j;                       // \s+
  }
};

bool is_ascii_letter(char c) { return static_cast<uint8_t>((c | 0x20) - 'a') < 26; }

void split_llama3(const Scanner& sc, uint32_t i, std::vector<Span>& out, uint32_t max_digits) {
  static const bool vectorized = text::avx512_text_kernels();
  uint32_t retry = i;  // where a 64-byte window is worth trying again
  while (i < sc.end) {
    // 64 bytes of ASCII letters, digits, punctuation, contractions, single spaces and line
    // feeds at once (llama3_ascii.h); pieces the ordinary way up to past the byte that stopped it.
    if (vectorized && i >= retry && sc.end - i >= 65) {
      const uint32_t j = llama3_ascii_pieces(sc.s, i, max_digits, out, &retry);
      if (j != i) {
        i = j;
        continue;
      }
    }
    const uint32_t start = i;
    const char c = sc.s[i];
    // Fast path for the commonest pieces, "word" and " word" with an ASCII letter first. Exact:
    // for them the general chain below takes the same branch (an ASCII letter is no apostrophe
    // and has kLetter; a ' ' is no apostrophe, letter, CR/LF or number and is followed by a
    // letter) and computes the same end, run(i + 1, kLetter).
    if (is_ascii_letter(c) || (c == ' ' && i + 1 < sc.end && is_ascii_letter(sc.s[i + 1]))) {
      const uint32_t j = sc.run(i + 1, kLetter);
      out.push_back(Span{start, j});
      i = j;
      continue;
    }
    int len;
    const uint8_t cls = sc.cls(i, &len);
    uint32_t j;
    uint32_t m;
    if (c == '\'' && (m = sc.contraction(i, true)) != 0) {
      j = i + 1 + m;
    } else if (cls & kLetter) {
      j = sc.run(i + len, kLetter);
    } else if (c != '\r' && c != '\n' && !(cls & kNumber) && sc.is_letter(i + len)) {
      j = sc.run(i + len, kLetter);
    } else if (cls & kNumber) {
      j = i + len;
      for (uint32_t k = 1; k < max_digits && sc.is_number(j); ++k) {
        int l;
        sc.cls(j, &l);
        j += l;
      }
    } else if (!(cls & kSpace) || (c == ' ' && sc.is_other(i + 1))) {
      // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
      j = sc.run_other(c == ' ' ? i + 1 : i);
      while (j < sc.end && (sc.s[j] == '\r' || sc.s[j] == '\n')) ++j;
    } else {
      j = sc.whitespace(i, true);
    }
    out.push_back(Span{start, j});
    i = j;
  }
}

void split_gpt2(const Scanner& sc, uint32_t i, std::vector<Span>& out) {
  while (i < sc.end) {
    const uint32_t start = i;
    const char c = sc.s[i];
    int len;
    const uint8_t cls = sc.cls(i, &len);
    const uint32_t after_space = c == ' ' ? i + 1 : i;  // the optional leading ' '
    uint32_t j;
    uint32_t m;
    if (c == '\'' && (m = sc.contraction(i, false)) != 0) {
      j = i + 1 + m;
    } else if ((cls & kLetter) || (c == ' ' && sc.is_letter(after_space))) {
      j = sc.run(after_space, kLetter);
    } else if ((cls & kNumber) || (c == ' ' && sc.is_number(after_space))) {
      j = sc.run(after_space, kNumber);
    } else if (!(cls & kSpace) || (c == ' ' && sc.is_other(after_space))) {
      j = sc.run_other(after_space);
    } else {
      j = sc.whitespace(i, false);
    }
    out.push_back(Span{start, j});
    i = j;
  }
}

// --- Character properties beyond char_class: letter case, marks, punctuation/symbols, CJK. ---

enum Prop : uint16_t {
  pL = 1,         // \p{L}
  pN = 2,         // \p{N}
  pSp = 4,        // \s (White_Space)
  pM = 8,         // \p{M}
  pUpper = 16,    // [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]  (o200k)
  pLower = 32,    // [\p{Ll}\p{Lm}\p{Lo}\p{M}]         (o200k)
  pPS = 64,       // [\p{P}\p{S}]                      (DeepSeek-V3)
  pCjk = 128,     // [\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff] (DeepSeek-V3)
  pNonCjk = 256,  // the complement of pCjk
  pEnd = 512,     // past the end of the piece being scanned (never a character's property)
  pMaybeSpace = 1024,  // table marker only: Zs Zl Zp Cc, whose White_Space is looked up
};

constexpr uint16_t gc_props(text::Gc g) {
  using text::Gc;
  switch (g) {
    case Gc::Lu: case Gc::Lt: return pL | pUpper;
    case Gc::Ll: return pL | pLower;
    case Gc::Lm: case Gc::Lo: return pL | pUpper | pLower;
    case Gc::Mn: case Gc::Mc: case Gc::Me: return pM | pUpper | pLower;
    case Gc::Nd: case Gc::Nl: case Gc::No: return pN;
    case Gc::Pc: case Gc::Pd: case Gc::Ps: case Gc::Pe: case Gc::Pi: case Gc::Pf: case Gc::Po:
    case Gc::Sm: case Gc::Sc: case Gc::Sk: case Gc::So: return pPS;
    case Gc::Zs: case Gc::Zl: case Gc::Zp: case Gc::Cc: return pMaybeSpace;
    default: return 0;
  }
}

struct PropTables {
  uint16_t gc[static_cast<int>(text::Gc::kCount)];
  uint16_t ascii[128];
};

constexpr PropTables make_prop_tables() {
  PropTables t{};
  for (int g = 0; g < static_cast<int>(text::Gc::kCount); ++g) t.gc[g] = gc_props(static_cast<text::Gc>(g));
  for (int c = 0; c < 128; ++c) {
    uint16_t p = pNonCjk;
    if (c >= 'A' && c <= 'Z') p |= pL | pUpper;
    else if (c >= 'a' && c <= 'z') p |= pL | pLower;
    else if (c >= '0' && c <= '9') p |= pN;
    else if (c == ' ' || (c >= '\t' && c <= '\r')) p |= pSp;
    else if (c > ' ' && c < 127) p |= pPS;  // every ASCII punctuation character is P or S
    t.ascii[c] = p;
  }
  return t;
}

constexpr PropTables kProps = make_prop_tables();

inline bool is_cjk(uint32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FA5) || (cp >= 0x3040 && cp <= 0x30FF);
}

// Properties of the character at i (i < end) and its byte length.
template <bool kWithCjk>
[[gnu::always_inline]] inline uint16_t props(const char* s, uint32_t i, uint32_t end, int* len) {
  const auto b = static_cast<uint8_t>(s[i]);
  if (b < 0x80) {
    *len = 1;
    return kProps.ascii[b];
  }
  const uint32_t cp = text::utf8_decode(s + i, s + end, len);
  uint16_t p = kProps.gc[static_cast<int>(text::general_category(cp))];
  if (p & pMaybeSpace) p = (text::char_class(cp) & kSpace) ? pSp : 0;
  if constexpr (kWithCjk) p |= is_cjk(cp) ? pCjk : pNonCjk;
  return p;
}

// --- o200k ---

struct O200k {
  const Scanner& sc;
  static constexpr uint32_t kFail = UINT32_MAX;

  [[gnu::always_inline]] uint16_t at(uint32_t i, int* len) const {
    if (i >= sc.end) {
      *len = 0;
      return pEnd;
    }
    return props<false>(sc.s, i, sc.end, len);
  }
  uint32_t run(uint32_t i, uint16_t want) const {
    for (;;) {
      while (i < sc.end && static_cast<uint8_t>(sc.s[i]) < 0x80) {  // ASCII fast path
        if (!(kProps.ascii[static_cast<uint8_t>(sc.s[i])] & want)) return i;
        ++i;
      }
      int len;
      if (!(at(i, &len) & want)) return i;
      i += len;
    }
  }

  // The two letter alternatives after the optional prefix, both starting at j:
  //   A1: [Lu Lt Lm Lo M]*[Ll Lm Lo M]+      A2 (if allow_a2): [Lu Lt Lm Lo M]+[Ll Lm Lo M]*
  // Returns the end (before any contraction) or kFail. A1 backtracks: the greedy upper run gives
  // back characters until the lower class can take one, i.e. to its last Lm/Lo/M character unless
  // a Ll follows the run.
  [[gnu::always_inline]] uint32_t word(uint32_t j, bool allow_a2) const {
    uint32_t k = j, last_both_end = 0;
    int len;
    uint16_t p;
    while ((p = at(k, &len)) & pUpper) {
      if (p & pLower) last_both_end = k + len;
      k += len;
    }
    if (p & pLower) return run(k + len, pLower);  // a Ll right after the upper run
    if (last_both_end) return last_both_end;      // A1 with the upper run cut back
    if (allow_a2 && k > j) return k;              // A2; its lower run is empty here
    return kFail;
  }
};

void split_o200k(const Scanner& sc, uint32_t i, std::vector<Span>& out) {
  const O200k o{sc};
  while (i < sc.end) {
    const uint32_t start = i;
    const char c = sc.s[i];
    int len;
    const uint16_t p = o.at(i, &len);
    uint32_t j = O200k::kFail;
    if (p & pL) {
      j = o.word(i, true);
    } else if (p & pM) {
      // A mark may be the prefix (tried first) or start the upper run itself: A1 without the
      // prefix then always matches, and when A1 with it did not, it matches the mark alone.
      j = o.word(i + len, false);
      if (j == O200k::kFail) j = i + len;
    } else if (!(p & pN) && c != '\r' && c != '\n') {
      j = o.word(i + len, true);  // [^\r\n\p{L}\p{N}] as the prefix
    }
    if (j != O200k::kFail) {
      uint32_t m;
      if (j < sc.end && sc.s[j] == '\'' && (m = sc.contraction(j, true)) != 0) j += 1 + m;
    } else if (p & pN) {
      j = i + len;
      for (int k = 1; k < 3 && (o.at(j, &len) & pN); ++k) j += len;
    } else if (!(p & pSp) || (c == ' ' && sc.is_other(i + 1))) {
      // ` ?[^\s\p{L}\p{N}]+[\r\n/]*`
      j = sc.run_other(c == ' ' ? i + 1 : i);
      while (j < sc.end && (sc.s[j] == '\r' || sc.s[j] == '\n' || sc.s[j] == '/')) ++j;
    } else {
      j = sc.whitespace(i, true);
    }
    out.push_back(Span{start, j});
    i = j;
  }
}

// --- DeepSeek-V3 ---

// The third regex over one piece left by the first two: characters with a property in `stop`
// (digits, or CJK / non-CJK characters) end the piece.
struct DeepSeekPiece {
  const char* s;
  uint32_t end;
  uint16_t stop;

  [[gnu::always_inline]] uint16_t at(uint32_t i, int* len) const {
    if (i < end) {
      const uint16_t p = props<true>(s, i, end, len);
      if (!(p & stop)) return p;
    }
    *len = 0;
    return pEnd;
  }
  uint32_t run(uint32_t i, uint16_t want) const {
    for (;;) {
      while (i < end && static_cast<uint8_t>(s[i]) < 0x80) {  // ASCII fast path
        const uint16_t p = kProps.ascii[static_cast<uint8_t>(s[i])];
        if (!(p & want) || (p & stop)) return i;
        ++i;
      }
      int len;
      if (!(at(i, &len) & want)) return i;
      i += len;
    }
  }
  bool newline(uint32_t i) const {
    int len;
    return i < end && (s[i] == '\r' || s[i] == '\n') && !(at(i, &len) & pEnd);
  }

  // End of the match at i (p: the properties of the character there, len its length), or i.
  uint32_t match(uint32_t i, uint16_t p, int len) const {
    const char c = s[i];
    int l2;
    // [!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+  (ASCII is never cut off inside a piece
    // that starts with ASCII)
    if (static_cast<uint8_t>(c) < 0x80 && (p & pPS)) {
      uint32_t j = i + 1;
      while (j < end && ((s[j] | 0x20) >= 'a' && (s[j] | 0x20) <= 'z')) ++j;
      if (j > i + 1) return j;
    }
    // [^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+
    if (p & pL) return run(i + len, pL | pM);
    if (!(p & pPS) && c != '\r' && c != '\n') {
      if (at(i + len, &l2) & (pL | pM)) return run(i + len, pL | pM);
      if (p & pM) return i + len;  // no prefix: the mark alone (the next is no letter or mark)
    }
    //  ?[\p{P}\p{S}]+[\r\n]*
    uint32_t j = 0;
    if (p & pPS) j = run(i + len, pPS);
    else if (c == ' ' && (at(i + 1, &l2) & pPS)) j = run(i + 1, pPS);
    if (j) {
      while (newline(j)) ++j;
      return j;
    }
    // \s*[\r\n]+|\s+(?!\S)|\s+
    if (p & pSp) {
      uint32_t last_char = i, last_newline_end = 0, k = i;
      uint16_t q;
      while ((q = at(k, &l2)) & pSp) {
        if (s[k] == '\r' || s[k] == '\n') last_newline_end = k + 1;
        last_char = k;
        k += l2;
      }
      if (last_newline_end) return last_newline_end;
      if (q & pEnd) return k;
      if (last_char > i) return last_char;
      return k;
    }
    return i;  // no match starts here
  }

  // Appends the pieces from i to the end of this piece (matches and the gaps between them);
  // returns that end.
  uint32_t split(uint32_t i, std::vector<Span>& out) const {
    uint32_t gap = UINT32_MAX;
    int len;
    uint16_t p;
    while (!((p = at(i, &len)) & pEnd)) {
      const uint32_t j = match(i, p, len);
      if (j == i) {
        if (gap == UINT32_MAX) gap = i;
        i += len;
        continue;
      }
      if (gap != UINT32_MAX) out.push_back(Span{gap, i}), gap = UINT32_MAX;
      out.push_back(Span{i, j});
      i = j;
    }
    if (gap != UINT32_MAX) out.push_back(Span{gap, i});
    return i;
  }
};

void split_deepseek_v3(const char* s, uint32_t i, uint32_t end, std::vector<Span>& out) {
  while (i < end) {
    int len;
    const uint16_t p = props<true>(s, i, end, &len);
    if (p & pN) {
      // \p{N}{1,3}: the later regexes find nothing in a piece of digits, which stays whole.
      uint32_t j = i + len;
      for (int k = 1; k < 3 && j < end && (props<true>(s, j, end, &len) & pN); ++k) j += len;
      out.push_back(Span{i, j});
      i = j;
      continue;
    }
    // A run of CJK characters (the second regex), or a run of neither digits nor CJK (a gap of
    // both): the third regex sees each alone.
    const DeepSeekPiece piece{s, end, static_cast<uint16_t>((p & pCjk) ? pNonCjk : (pN | pCjk))};
    i = piece.split(i, out);
  }
}

}  // namespace

void split_pieces(SplitPattern pattern, std::string_view s, uint32_t begin, uint32_t end, std::vector<Span>& out) {
  const Scanner sc{s.data(), end};
  switch (pattern) {
    case SplitPattern::kLlama3: split_llama3(sc, begin, out, 3); break;
    case SplitPattern::kLlama3SingleDigits: split_llama3(sc, begin, out, 1); break;
    case SplitPattern::kGpt2: split_gpt2(sc, begin, out); break;
    case SplitPattern::kO200k: split_o200k(sc, begin, out); break;
    case SplitPattern::kDeepSeekV3: split_deepseek_v3(s.data(), begin, end, out); break;
  }
}

}  // namespace longctx::tokenizer
