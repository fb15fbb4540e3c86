#include "regex.h"

#include <oniguruma.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <mutex>

#include "longctx/text/unicode.h"
#include "longctx/text/utf8.h"
#include "longctx/util/error.h"

namespace longctx::tokenizer {
namespace {

using text::Gc;

struct Range {
  uint32_t lo, hi;  // inclusive
};

// Code-point ranges of each general category, built once from the Unicode 16 table.
const std::array<std::vector<Range>, static_cast<size_t>(Gc::kCount)>& category_ranges() {
  static const auto table = [] {
    std::array<std::vector<Range>, static_cast<size_t>(Gc::kCount)> t;
    uint32_t start = 0;
    Gc cur = text::general_category(0);
    for (uint32_t cp = 1; cp <= 0x110000; ++cp) {
      const Gc g = cp < 0x110000 ? text::general_category(cp) : Gc::kCount;
      if (g != cur) {
        t[static_cast<size_t>(cur)].push_back({start, cp - 1});
        start = cp;
        cur = g;
      }
    }
    return t;
  }();
  return table;
}

// Sorted, merged ranges of the code points whose category is in `mask`, surrogates left out (they
// cannot occur in UTF-8 text); complemented when `negate`.
std::vector<Range> ranges_of(uint32_t mask, bool negate) {
  const auto& cats = category_ranges();
  std::vector<Range> all;
  for (size_t g = 0; g < cats.size(); ++g)
    if ((mask >> g) & 1u) all.insert(all.end(), cats[g].begin(), cats[g].end());
  std::sort(all.begin(), all.end(), [](Range a, Range b) { return a.lo < b.lo; });
  std::vector<Range> merged;
  for (Range r : all) {
    if (!merged.empty() && merged.back().hi + 1 >= r.lo) merged.back().hi = std::max(merged.back().hi, r.hi);
    else merged.push_back(r);
  }
  if (negate) {
    std::vector<Range> comp;
    uint32_t next = 0;
    for (Range r : merged) {
      if (r.lo > next) comp.push_back({next, r.lo - 1});
      next = r.hi + 1;
    }
    if (next <= 0x10FFFF) comp.push_back({next, 0x10FFFF});
    merged.swap(comp);
  }
  std::vector<Range> out;
  for (Range r : merged) {  // cut out U+D800..U+DFFF
    if (r.hi < 0xD800 || r.lo > 0xDFFF) {
      out.push_back(r);
    } else {
      if (r.lo < 0xD800) out.push_back({r.lo, 0xD7FF});
      if (r.hi > 0xDFFF) out.push_back({0xE000, r.hi});
    }
  }
  return out;
}

// The class body ("\x{41}-\x{5a}\x{61}-...") for a category set.
std::string class_body(uint32_t mask, bool negate) {
  std::string s;
  char buf[40];
  for (Range r : ranges_of(mask, negate)) {
    if (r.lo == r.hi) std::snprintf(buf, sizeof buf, "\\x{%x}", r.lo);
    else std::snprintf(buf, sizeof buf, "\\x{%x}-\\x{%x}", r.lo, r.hi);
    s += buf;
  }
  return s;
}

// Oniguruma's loose matching of property names: case, spaces, '_' and '-' are ignored.
std::string loose(std::string_view name) {
  std::string s;
  for (char c : name)
    if (c != ' ' && c != '_' && c != '-') s.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return s;
}

// General-category property names Oniguruma accepts, as masks; 0 for other properties.
uint32_t category_mask(std::string_view name) {
  using text::gc_bit;
  struct Name {
    const char* a;
    const char* b;
    uint32_t mask;
  };
  static const Name kNames[] = {
      {"l", "letter", text::kGcLetter},
      {"lu", "uppercaseletter", gc_bit(Gc::Lu)},
      {"ll", "lowercaseletter", gc_bit(Gc::Ll)},
      {"lt", "titlecaseletter", gc_bit(Gc::Lt)},
      {"lm", "modifierletter", gc_bit(Gc::Lm)},
      {"lo", "otherletter", gc_bit(Gc::Lo)},
      {"lc", "casedletter", gc_bit(Gc::Lu) | gc_bit(Gc::Ll) | gc_bit(Gc::Lt)},
      {"m", "mark", text::kGcMark},
      {"combiningmark", "combiningmark", text::kGcMark},
      {"mn", "nonspacingmark", gc_bit(Gc::Mn)},
      {"mc", "spacingmark", gc_bit(Gc::Mc)},
      {"me", "enclosingmark", gc_bit(Gc::Me)},
      {"n", "number", text::kGcNumber},
      {"nd", "decimalnumber", gc_bit(Gc::Nd)},
      {"nl", "letternumber", gc_bit(Gc::Nl)},
      {"no", "othernumber", gc_bit(Gc::No)},
      {"p", "punctuation", text::kGcPunctuation},
      {"pc", "connectorpunctuation", gc_bit(Gc::Pc)},
      {"pd", "dashpunctuation", gc_bit(Gc::Pd)},
      {"ps", "openpunctuation", gc_bit(Gc::Ps)},
      {"pe", "closepunctuation", gc_bit(Gc::Pe)},
      {"pi", "initialpunctuation", gc_bit(Gc::Pi)},
      {"pf", "finalpunctuation", gc_bit(Gc::Pf)},
      {"po", "otherpunctuation", gc_bit(Gc::Po)},
      {"s", "symbol", text::kGcSymbol},
      {"sm", "mathsymbol", gc_bit(Gc::Sm)},
      {"sc", "currencysymbol", gc_bit(Gc::Sc)},
      {"sk", "modifiersymbol", gc_bit(Gc::Sk)},
      {"so", "othersymbol", gc_bit(Gc::So)},
      {"z", "separator", text::kGcSeparator},
      {"zs", "spaceseparator", gc_bit(Gc::Zs)},
      {"zl", "lineseparator", gc_bit(Gc::Zl)},
      {"zp", "paragraphseparator", gc_bit(Gc::Zp)},
      {"c", "other", text::kGcOther},
      {"cc", "control", gc_bit(Gc::Cc)},
      {"cf", "format", gc_bit(Gc::Cf)},
      {"cs", "surrogate", gc_bit(Gc::Cs)},
      {"co", "privateuse", gc_bit(Gc::Co)},
      {"cn", "unassigned", gc_bit(Gc::Cn)},
  };
  const std::string n = loose(name);
  for (const Name& x : kNames)
    if (n == x.a || n == x.b) return x.mask;
  return 0;
}

// Rewrites \p{..} / \P{..} / \p{^..} general-category properties and \d / \D into explicit
// Unicode 16 ranges, inside and outside bracket classes; copies everything else as written.
std::string rewrite_properties(std::string_view p) {
  std::string out;
  out.reserve(p.size());
  int depth = 0;          // bracket-class nesting
  bool class_start = false;  // just after '[' or '[^': a ']' here is a literal
  for (size_t i = 0; i < p.size();) {
    const char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      const char e = p[i + 1];
      uint32_t mask = 0;
      bool negate = false;
      size_t next = i + 2;
      if ((e == 'p' || e == 'P') && i + 2 < p.size() && p[i + 2] == '{') {
        const size_t close = p.find('}', i + 3);
        if (close != std::string_view::npos) {
          std::string_view name = p.substr(i + 3, close - i - 3);
          negate = e == 'P';
          if (!name.empty() && name[0] == '^') {
            negate = !negate;
            name.remove_prefix(1);
          }
          mask = category_mask(name);
          next = close + 1;
        }
      } else if (e == 'd' || e == 'D') {
        mask = text::gc_bit(Gc::Nd);
        negate = e == 'D';
      }
      if (mask) {
        if (depth > 0) out += class_body(mask, negate);
        else out += "[" + class_body(mask, negate) + "]";
        i = next;
      } else {
        out.append(p.substr(i, 2));
        i += 2;
      }
      class_start = false;
      continue;
    }
    if (c == '[') {
      if (depth > 0 && i + 1 < p.size() && p[i + 1] == ':') {  // POSIX bracket [:name:]
        const size_t close = p.find(":]", i + 2);
        if (close != std::string_view::npos) {
          out.append(p.substr(i, close + 2 - i));
          i = close + 2;
          class_start = false;
          continue;
        }
      }
      ++depth;
      out.push_back(c);
      ++i;
      if (i < p.size() && p[i] == '^') {
        out.push_back('^');
        ++i;
      }
      class_start = true;
      continue;
    }
    if (c == ']' && depth > 0 && !class_start) --depth;
    class_start = false;
    out.push_back(c);
    ++i;
  }
  return out;
}

void init_oniguruma() {
  static std::once_flag once;
  std::call_once(once, [] {
    OnigEncoding encodings[] = {ONIG_ENCODING_UTF8};
    onig_initialize(encodings, 1);
  });
}

// One search region per thread: searches on a shared regex are otherwise read-only.
OnigRegion* thread_region() {
  struct Holder {
    OnigRegion* r = onig_region_new();
    ~Holder() { onig_region_free(r, 1); }
  };
  thread_local Holder h;
  return h.r;
}

}  // namespace

struct Regex::Onig {
  OnigRegex re = nullptr;
  ~Onig() {
    if (re) onig_free(re);
  }
};

Regex::Regex(std::string_view pattern) : re_(std::make_unique<Onig>()), compiled_(rewrite_properties(pattern)) {
  init_oniguruma();
  OnigErrorInfo info;
  const auto* p = reinterpret_cast<const OnigUChar*>(compiled_.data());
  const int r = onig_new(&re_->re, p, p + compiled_.size(), ONIG_OPTION_NONE, ONIG_ENCODING_UTF8, ONIG_SYNTAX_DEFAULT, &info);
  if (r != ONIG_NORMAL) {
    re_->re = nullptr;
    OnigUChar msg[ONIG_MAX_ERROR_MESSAGE_LEN];
    onig_error_code_to_str(msg, r, &info);
    throw Error("cannot compile regex: " + std::string(reinterpret_cast<char*>(msg)));
  }
}

Regex Regex::literal(std::string_view text) {
  if (text.empty()) return Regex("");  // HF compiles escape("") = "": an empty match everywhere
  Regex r;
  r.literal_ = std::string(text);
  r.compiled_ = r.literal_;
  r.is_literal_ = true;
  return r;
}

Regex::~Regex() = default;
Regex::Regex(Regex&&) noexcept = default;
Regex& Regex::operator=(Regex&&) noexcept = default;

void Regex::find_matches(std::string_view s, uint32_t begin, uint32_t end, std::vector<RegexPiece>& out) const {
  if (begin == end) {
    out.push_back({begin, begin, false});
    return;
  }
  uint32_t prev = begin;
  auto emit = [&](uint32_t ms, uint32_t me) {
    if (prev != ms) out.push_back({prev, ms, false});
    out.push_back({ms, me, true});
    prev = me;
  };
  if (is_literal_) {
    const std::string_view piece = s.substr(begin, end - begin);
    for (size_t k = piece.find(literal_); k != std::string_view::npos; k = piece.find(literal_, k + literal_.size()))
      emit(begin + static_cast<uint32_t>(k), begin + static_cast<uint32_t>(k + literal_.size()));
  } else {
    // The onig crate's find_iter: search from the end of the last match; an empty match right
    // where the last match ended is skipped by stepping one character.
    const auto* str = reinterpret_cast<const OnigUChar*>(s.data() + begin);
    const auto* stop = reinterpret_cast<const OnigUChar*>(s.data() + end);
    const uint32_t len = end - begin;
    OnigRegion* region = thread_region();
    uint32_t last_end = 0;
    int64_t last_match_end = -1;
    while (last_end <= len) {
      onig_region_clear(region);
      const int r = onig_search(re_->re, str, stop, str + last_end, stop, region, ONIG_OPTION_NONE);
      if (r == ONIG_MISMATCH) break;
      if (r < 0) {
        OnigUChar msg[ONIG_MAX_ERROR_MESSAGE_LEN];
        onig_error_code_to_str(msg, r);
        throw Error("regex search failed: " + std::string(reinterpret_cast<char*>(msg)));
      }
      const auto ms = static_cast<uint32_t>(region->beg[0]), me = static_cast<uint32_t>(region->end[0]);
      if (ms == me && last_match_end == me) {
        last_end += last_end < len ? static_cast<uint32_t>(text::utf8_len(str[last_end])) : 1;  // >= 1 always
        continue;
      }
      last_end = me;
      last_match_end = me;
      emit(begin + ms, begin + me);
    }
  }
  if (prev != end) out.push_back({prev, end, false});
}

}  // namespace longctx::tokenizer
