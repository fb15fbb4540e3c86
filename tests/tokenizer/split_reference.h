// Shared by the scanner checks (split_cli, split_fuzz_test, bench/split_fuzz): the regexes behind
// each SplitPattern as tokenizer.json files have them, the general Oniguruma path over them
// (tokenizer/regex.h, each regex of a sequence run on every piece of the one before, as HF's
// Sequence of Isolated Splits does), and a seeded generator of Unicode-heavy inputs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "longctx/text/utf8.h"
#include "tokenizer/regex.h"
#include "tokenizer/split_patterns.h"

namespace longctx::tokenizer::split_reference {

struct Named {
  const char* name;
  SplitPattern pattern;
  std::vector<std::string> regexes;
};

inline const std::vector<Named>& patterns() {
  static const std::vector<Named> all = {
      {"llama3", SplitPattern::kLlama3,
       {R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"}},
      {"qwen2", SplitPattern::kLlama3SingleDigits,
       {R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"}},
      {"gpt2", SplitPattern::kGpt2, {R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)"}},
      {"o200k", SplitPattern::kO200k,
       {R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|)"
        R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|)"
        R"(\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)"}},
      // CR and LF as the characters themselves, as in DeepSeek-V3's tokenizer.json.
      {"deepseek-v3", SplitPattern::kDeepSeekV3,
       {R"(\p{N}{1,3})", "[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+",
        "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| "
        "?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"}},
  };
  return all;
}

inline const Named* find(std::string_view name) {
  for (const Named& n : patterns())
    if (name == n.name) return &n;
  return nullptr;
}

// The general path: pieces of s[0, n) through the compiled regexes in order.
class General {
 public:
  explicit General(const std::vector<std::string>& regexes) {
    for (const std::string& r : regexes) compiled_.emplace_back(r);
  }
  void pieces(std::string_view s, std::vector<Span>& out) {
    out.clear();
    out.push_back(Span{0, static_cast<uint32_t>(s.size())});
    for (const Regex& re : compiled_) {
      next_.clear();
      for (const Span& sp : out) {
        found_.clear();
        re.find_matches(s, sp.begin, sp.end, found_);
        for (const RegexPiece& p : found_)
          if (p.end > p.begin) next_.push_back(Span{p.begin, p.end});
      }
      out.swap(next_);
    }
  }

 private:
  std::vector<Regex> compiled_;
  std::vector<Span> next_;
  std::vector<RegexPiece> found_;
};

// Seeded generator of valid UTF-8 strings that reach every branch of the patterns: runs from sets
// of letter cases, marks, numbers, contraction parts, white space of every kind, punctuation,
// CJK and kana in and just outside DeepSeek-V3's ranges, Hangul, emoji, format, control,
// private-use and unassigned characters, and whole words.
class Generator {
 public:
  explicit Generator(uint64_t seed) : x_(seed * 0x9E3779B97F4A7C15ULL + 1) {}

  std::string next() {
    std::string s;
    const int parts = 1 + static_cast<int>(below(24));
    for (int p = 0; p < parts; ++p) {
      if (below(100) < 15) {
        s += words()[below(words().size())];
        continue;
      }
      const auto& set = pick_set();
      static constexpr int kRun[] = {1, 1, 1, 2, 3, 4, 7};
      const int k = kRun[below(7)];
      for (int i = 0; i < k; ++i) s += set[below(set.size())];
    }
    return s;
  }

 private:
  uint64_t x_;
  uint64_t rnd() {  // splitmix64
    uint64_t z = (x_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  size_t below(size_t n) { return static_cast<size_t>(rnd() % n); }

  using Set = std::vector<std::string>;
  static Set cps(std::initializer_list<uint32_t> list) {
    Set out;
    for (uint32_t cp : list) {
      std::string c;
      text::utf8_append(c, cp);
      out.push_back(c);
    }
    return out;
  }
  static Set ascii(std::string_view chars) {
    Set out;
    for (char c : chars) out.push_back(std::string(1, c));
    return out;
  }
  static const std::vector<std::pair<int, Set>>& sets() {
    static const std::vector<std::pair<int, Set>> all = {
        {8, ascii("abcdefghijklmnopqrstuvwxyz")},
        {5, ascii("ABCDEFGHIJKLMNOPQRSTUVWXYZ")},
        {4, ascii("0123456789")},
        {4, ascii("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")},
        {3, ascii("'")},
        {3, Set{"s", "t", "re", "ve", "m", "ll", "d", "S", "T", "RE", "Re", "rE", "VE", "M", "LL", "lL", "D",
                "\xC5\xBF", "K", "\xE2\x84\xAA", "x", "\xEF\xAC\x85", "\xEF\xAC\x86", "\xC3\x9F", "\xC4\xB0",
                "\xC4\xB1"}},
        {8, Set{" ", " ", " ", "\t", "\n", "\r", "\r\n", "\x0b", "\x0c"}},
        {3, cps({0x85, 0xA0, 0x1680, 0x2000, 0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000})},
        {2, cps({0xC9, 0x3A3, 0x416, 0xFF21, 0x130, 0x1E9E, 0x1D400})},            // Lu
        {2, cps({0xE9, 0x3C3, 0x436, 0xDF, 0xFF41, 0x131, 0x1D00, 0x1D41A})},       // Ll
        {1, cps({0x1C5, 0x1C8, 0x1F88, 0x1FFC})},                                  // Lt
        {2, cps({0x2B0, 0x2C6, 0x30FC, 0x3005, 0x309D, 0xFF9E, 0x1D2C, 0x640})},    // Lm
        {2, cps({0xAA, 0x5D0, 0xE01, 0x627, 0x4E00, 0x3042, 0xAC00, 0x30FF, 0x1BB, 0x20000})},  // Lo
        {3, cps({0x301, 0x308, 0x3099, 0x309A, 0xFE0F, 0x64B, 0x5B4, 0x300})},     // Mn
        {1, cps({0x93F, 0x903, 0xBBE, 0x20DD, 0x488})},                            // Mc, Me
        {2, cps({0x663, 0xFF10, 0x967, 0x1D7CE, 0x216B, 0x3007, 0x2160, 0xB2, 0xBD, 0x2460, 0xF2A})},  // N
        {3, cps({0x4E00, 0x4E2D, 0x6587, 0x8A9E, 0x9FA5, 0x9FA6, 0x9FFF, 0x3400, 0xF900, 0x3006})},   // CJK
        {3, cps({0x3040, 0x3041, 0x3042, 0x3093, 0x3096, 0x3097, 0x3099, 0x309B, 0x309C, 0x309D, 0x309F,
                 0x30A0, 0x30A1, 0x30AB, 0x30FB, 0x30FC, 0x30FF, 0x3001, 0x3002, 0x31F0, 0xFF71})},  // kana
        {1, cps({0xAC00, 0xD55C, 0xAE00, 0x1100, 0x1161, 0x11A8, 0x3131})},        // Hangul
        {2, Set{"\xF0\x9F\x98\x80", "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9", "\xF0\x9F\x87\xBA\xF0\x9F\x87\xB8",
                "\xE2\x9D\xA4\xEF\xB8\x8F", "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBB", "\xC2\xA9", "\xE2\x82\xAC",
                "\xE2\x88\x91", "\xC2\xB4"}},                                        // emoji, symbols
        {1, cps({0xAB, 0xBB, 0x201C, 0x201D, 0xBF, 0x2014, 0x3010, 0xB7, 0x55A, 0xFF01})},  // other P
        {1, cps({0x200B, 0x200D, 0xFEFF, 0xAD, 0x2060, 0x600})},                   // Cf
        {1, cps({0x01, 0x1C, 0x1F, 0x7F, 0x80, 0x9F})},                            // Cc
        {1, cps({0xE000, 0xF0000, 0x378, 0xE5C, 0xE01F0, 0x10FFFF})},               // Co, Cn
        {2, Set{"/", "/", "\\"}},
    };
    return all;
  }
  const Set& pick_set() {
    static const int total = [] {
      int t = 0;
      for (const auto& s : sets()) t += s.first;
      return t;
    }();
    int r = static_cast<int>(below(static_cast<size_t>(total)));
    for (const auto& s : sets()) {
      if (r < s.first) return s.second;
      r -= s.first;
    }
    return sets().back().second;
  }
  static const Set& words() {
    static const Set w = {
        "Hello", "world", "HelloWorld", "McDONALD's", "ABCdef", "iPhone", "I'M", "you'RE", "we'LL", "they've",
        "o'clock", "DON'T", "don\xE2\x80\x99t", "caf\xC3\xA9", "cafe\xCC\x81", "NA\xC3\x8FVE", "\xC7\x85ungla",
        "x86_64", "a/b\n/", "http://x.org/a/b", "1234567", "3.14159", "\xE4\xB8\xAD\xE6\x96\x87",
        "\xE3\x81\xB2\xE3\x82\x89\xE3\x81\x8C\xE3\x81\xAA", "\xE3\x82\xAB\xE3\x82\xBF\xE3\x82\xAB\xE3\x83\x8A",
        "\xED\x95\x9C\xEA\xB5\xAD\xEC\x96\xB4", "\xE0\xA4\xA8\xE0\xA4\xAE\xE0\xA4\xB8\xE0\xA5\x8D\xE0\xA4\xA4\xE0\xA5\x87",
        "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82"};
    return w;
  }
};

// Index of the first differing piece of a and b, or -1 when equal.
inline long first_difference(const std::vector<Span>& a, const std::vector<Span>& b) {
  const size_t n = a.size() < b.size() ? a.size() : b.size();
  for (size_t k = 0; k < n; ++k)
    if (a[k].begin != b[k].begin || a[k].end != b[k].end) return static_cast<long>(k);
  return a.size() == b.size() ? -1 : static_cast<long>(n);
}

// The pieces as a JSON array, for messages.
inline std::string pieces_json(std::string_view s, const std::vector<Span>& spans) {
  std::string out = "[";
  for (size_t k = 0; k < spans.size(); ++k) {
    if (k) out += ',';
    out += '"';
    text::json_escape_append(out, s.substr(spans[k].begin, spans[k].end - spans[k].begin));
    out += '"';
  }
  return out + "]";
}

}  // namespace longctx::tokenizer::split_reference
