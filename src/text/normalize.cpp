// Normalization as unicode-normalization-alignments 0.1.12 does it (UAX #15: full decomposition,
// stable canonical ordering, its recomposition loop), made fast by the quick check of UAX #15
// section 9: text is scanned, ASCII 8 bytes at a time, and only the stretch between the last
// restart point before a character the quick check cannot pass and the next stable starter is
// normalized; everything else is copied as it is.
#include "longctx/text/normalize.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "longctx/text/utf8.h"

namespace longctx::text {
namespace {

struct Decomposition {
  uint16_t canon;   // offset in kDecompPool of the full canonical decomposition, 0 if none
  uint16_t compat;  // same for the compatibility decomposition when it differs from canon
};

#include "normalization_tables.inc"

constexpr uint32_t kMask = (1u << kNormShift) - 1;

// ccc | quick-check flags << 8 | decomposition index << 16 (ccc is 0 for characters after 9.0).
inline uint32_t props(uint32_t cp) {
  return kNormStage2[(static_cast<uint32_t>(kNormStage1[cp >> kNormShift]) << kNormShift) | (cp & kMask)];
}
inline uint8_t ccc_of(uint32_t cp) { return cp < 0x80 ? 0 : props(cp) & 0xFF; }

constexpr uint32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr uint32_t kLCount = 19, kVCount = 21, kTCount = 28, kNCount = kVCount * kTCount;

// The primary composite of a + b, or 0.
uint32_t compose(uint32_t a, uint32_t b) {
  if (a - kLBase < kLCount && b - kVBase < kVCount) return kSBase + ((a - kLBase) * kVCount + (b - kVBase)) * kTCount;
  if (a - kSBase < kLCount * kNCount && (a - kSBase) % kTCount == 0 && b - kTBase - 1 < kTCount - 1) return a + (b - kTBase);
  const uint64_t key = (static_cast<uint64_t>(a) << 21) | b;
  for (size_t h = (key * 0x9E3779B97F4A7C15ull) >> (64 - kComposeBits);; h = (h + 1) & ((1u << kComposeBits) - 1)) {
    if (kComposeKeys[h] == key) return kComposeValues[h];
    if (kComposeKeys[h] == 0) return 0;
  }
}

struct Form {
  uint8_t no, maybe;  // quick-check bits
  uint8_t decomposes;  // flag: the character has a decomposition in this form
  bool compat, recompose;
};

constexpr Form form_of(NormalForm f) {
  switch (f) {
    case NormalForm::kNFD: return {kNfdNo, 0, kNfdNo, false, false};
    case NormalForm::kNFKD: return {kNfkdNo, 0, kNfkdNo, true, false};
    case NormalForm::kNFC: return {kNfcNo, kNfcMaybe, kNfdNo, false, true};
    default: return {kNfkcNo, kNfkcMaybe, kNfkdNo, true, true};
  }
}

inline void append_utf8(std::string& out, uint32_t cp) {
  char b[4];
  int n;
  if (cp < 0x80) {
    b[0] = static_cast<char>(cp), n = 1;
  } else if (cp < 0x800) {
    b[0] = static_cast<char>(0xC0 | (cp >> 6)), b[1] = static_cast<char>(0x80 | (cp & 0x3F)), n = 2;
  } else if (cp < 0x10000) {
    b[0] = static_cast<char>(0xE0 | (cp >> 12)), b[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    b[2] = static_cast<char>(0x80 | (cp & 0x3F)), n = 3;
  } else {
    b[0] = static_cast<char>(0xF0 | (cp >> 18)), b[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    b[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F)), b[3] = static_cast<char>(0x80 | (cp & 0x3F)), n = 4;
  }
  out.append(b, n);
}

inline bool ascii8(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return (w & 0x8080808080808080ull) == 0;
}

struct Char {
  uint32_t cp;
  uint8_t ccc;
};

// Normalizes seg (which starts at a restart point and ends before a stable starter) onto out.
void normalize_segment(const Form& f, std::string_view seg, std::string& out) {
  thread_local std::vector<Char> buf;
  buf.clear();
  for (const char *p = seg.data(), *end = p + seg.size(); p < end;) {
    int len;
    const uint32_t cp = utf8_decode(p, end, &len);
    p += len;
    const uint32_t pr = props(cp);
    if ((pr >> 8) & kHangulSyllable) {
      const uint32_t s = cp - kSBase;
      buf.push_back({kLBase + s / kNCount, 0});
      buf.push_back({kVBase + s % kNCount / kTCount, 0});
      if (s % kTCount) buf.push_back({kTBase + s % kTCount, 0});
      continue;
    }
    const Decomposition& d = kDecomposition[pr >> 16];
    const uint16_t off = f.compat && d.compat ? d.compat : d.canon;
    if (off == 0) {
      buf.push_back({cp, static_cast<uint8_t>(pr & 0xFF)});
      continue;
    }
    for (uint32_t i = 1; i <= kDecompPool[off]; ++i) buf.push_back({kDecompPool[off + i], ccc_of(kDecompPool[off + i])});
  }
  // Canonical ordering: each run of non-starters sorted stably by class.
  for (size_t i = 0; i < buf.size();) {
    if (buf[i].ccc == 0) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < buf.size() && buf[j].ccc != 0) ++j;
    if (j - i > 16) {
      std::stable_sort(buf.begin() + i, buf.begin() + j, [](Char a, Char b) { return a.ccc < b.ccc; });
    } else {
      for (size_t k = i + 1; k < j; ++k) {  // insertion sort: runs are short
        const Char c = buf[k];
        size_t m = k;
        for (; m > i && buf[m - 1].ccc > c.ccc; --m) buf[m] = buf[m - 1];
        buf[m] = c;
      }
    }
    i = j;
  }
  size_t n = buf.size();
  if (f.recompose) {
    // The crate's recomposition, in place: `starter` is its composee, `last` the class of the last
    // character kept after it (-1: none, so the next one is adjacent and never blocked).
    size_t w = 0;
    long starter = -1;
    int last = -1;
    for (size_t r = 0; r < n; ++r) {
      const Char c = buf[r];
      if (starter >= 0 && (last < 0 || last < c.ccc)) {
        if (const uint32_t composite = compose(buf[starter].cp, c.cp)) {
          buf[starter].cp = composite;
          continue;
        }
      }
      buf[w++] = c;
      if (c.ccc == 0) {
        starter = static_cast<long>(w - 1);
        last = -1;
      } else if (starter >= 0) {
        last = c.ccc;
      }
    }
    n = w;
  }
  for (size_t i = 0; i < n; ++i) append_utf8(out, buf[i].cp);
}

constexpr uint32_t kNone = 0xFFFFFFFF;

// The scan shared by normalize (out != nullptr) and is_normalized (out == nullptr: stops at the
// first stretch that normalization would change). It follows the crate's state: the last starter
// (its composee) and the class of the last character kept after it; a character that may combine
// backward (quick check Maybe) but provably does not here is passed over like a stable one.
bool run(NormalForm form, std::string_view s, std::string* out) {
  const Form f = form_of(form);
  const uint32_t qc_bits = static_cast<uint32_t>(f.no | f.maybe) << 8, maybe = static_cast<uint32_t>(f.maybe) << 8;
  const uint32_t decomposes = static_cast<uint32_t>(f.decomposes) << 8;
  const char *p = s.data(), *end = p + s.size();
  const char* copied = p;    // normalize: s before this is in out
  const char* boundary = p;  // restart point: s before it is final whatever follows
  uint32_t starter = kNone;  // the last starter, when it does not decompose
  uint32_t last_ccc = 0;     // class of the last character after it (0: none)
  std::string scratch;
  while (p < end) {
    if (static_cast<uint8_t>(*p) < 0x80) {  // ASCII: stable under every form
      const char* q = p;
      while (end - q >= 8 && ascii8(q)) q += 8;
      while (q < end && static_cast<uint8_t>(*q) < 0x80) ++q;
      boundary = q - 1, starter = static_cast<uint8_t>(q[-1]), last_ccc = 0, p = q;
      continue;
    }
    int len;
    const uint32_t cp = utf8_decode(p, end, &len);
    const uint32_t pr = props(cp), ccc = pr & 0xFF, qc = pr & qc_bits;
    if (qc == 0 || qc == maybe) {
      if (ccc == 0) {
        // A stable starter, or one that may combine backward but is blocked or does not.
        if (qc == 0 || last_ccc != 0 || (starter != kNone && compose(starter, cp) == 0)) {
          boundary = p, starter = pr & decomposes ? kNone : cp, last_ccc = 0, p += len;
          continue;
        }
      } else if (last_ccc <= ccc) {
        // In canonical order, and stable, blocked (an equal class between) or not combining.
        if (qc == 0 || last_ccc == ccc || (starter != kNone && compose(starter, cp) == 0)) {
          last_ccc = ccc, p += len;
          continue;
        }
      }
    }
    // Normalize from the restart point to the next stable starter.
    const char* q = p + len;
    while (q < end && static_cast<uint8_t>(*q) >= 0x80) {
      int l;
      const uint32_t n = props(utf8_decode(q, end, &l));
      if ((n & 0xFF) == 0 && (n & qc_bits) == 0) break;
      q += l;
    }
    const std::string_view seg(boundary, q - boundary);
    if (out) {
      out->append(copied, boundary);
      normalize_segment(f, seg, *out);
      copied = q;
    } else {
      scratch.clear();
      normalize_segment(f, seg, scratch);
      if (scratch != seg) return false;
    }
    boundary = q, starter = kNone, last_ccc = 0, p = q;
  }
  if (out) out->append(copied, end);
  return true;
}

}  // namespace

void normalize(NormalForm form, std::string_view s, std::string& out) {
  out.clear();
  out.reserve(s.size());
  run(form, s, &out);
}

bool is_normalized(NormalForm form, std::string_view s) { return run(form, s, nullptr); }

void lowercase(std::string_view s, std::string& out) {
  out.clear();
  out.reserve(s.size());
  const char *p = s.data(), *end = p + s.size();
  const char* copied = p;  // characters that do not change are copied in runs
  while (p < end) {
    if (static_cast<uint8_t>(*p) < 0x80) {
      out.append(copied, p);
      // 8 ASCII bytes at once: add 0x20 to the bytes in 'A'..'Z' (no carries below 0x80).
      for (; end - p >= 8 && ascii8(p); p += 8) {
        uint64_t w;
        std::memcpy(&w, p, 8);
        w |= ((w + 0x3F3F3F3F3F3F3F3Full) & ~(w + 0x2525252525252525ull) & 0x8080808080808080ull) >> 2;
        char b[8];
        std::memcpy(b, &w, 8);
        out.append(b, 8);
      }
      for (; p < end && static_cast<uint8_t>(*p) < 0x80; ++p) out.push_back(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
      copied = p;
      continue;
    }
    int len;
    const uint32_t cp = utf8_decode(p, end, &len);
    const int32_t v = kLowerStage2[(static_cast<uint32_t>(kLowerStage1[cp >> kNormShift]) << kNormShift) | (cp & kMask)];
    if (v != 0) {
      out.append(copied, p);
      if (v >= kLowerMulti) {
        const uint32_t* seq = kLowerMultiSeq[v - kLowerMulti];
        for (uint32_t i = 1; i <= seq[0]; ++i) append_utf8(out, seq[i]);
      } else {
        append_utf8(out, static_cast<uint32_t>(static_cast<int32_t>(cp) + v));
      }
      copied = p + len;
    }
    p += len;
  }
  out.append(copied, end);
}

namespace {
inline uint8_t legacy_of(uint32_t cp) {
  if (cp >= 0x110000) return 0;
  return kLegacyStage2[(static_cast<uint32_t>(kLegacyStage1[cp >> kNormShift]) << kNormShift) | (cp & ((1u << kNormShift) - 1))];
}
}  // namespace

bool is_combining_mark_v9(uint32_t cp) { return legacy_of(cp) & 1; }
bool is_punctuation_hf(uint32_t cp) { return legacy_of(cp) & 2; }
bool is_numeric_rust(uint32_t cp) { return legacy_of(cp) & 4; }

}  // namespace longctx::text
