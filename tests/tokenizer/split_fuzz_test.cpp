// Differential fuzzing: each hand-written scanner (tokenizer/split_patterns.h) against the general
// Oniguruma path (tokenizer/regex.h) over the same regexes, on seeded Unicode-heavy inputs
// (split_reference.h). The general path is checked against HF itself by
// tests/oracle/check_split_patterns.py; bench/split_fuzz runs the same comparison at scale.
#include <gtest/gtest.h>

#include <random>

#include "longctx/text/utf8.h"
#include "split_reference.h"

namespace longctx::tokenizer {
namespace {

constexpr int kInputsPerPattern = 20000;  // 100,000 in all, well under a second

class SplitFuzz : public ::testing::TestWithParam<const char*> {};

TEST_P(SplitFuzz, ScannerEqualsGeneralPath) {
  const split_reference::Named* named = split_reference::find(GetParam());
  ASSERT_NE(named, nullptr);
  split_reference::General general(named->regexes);
  split_reference::Generator gen(20240615);
  std::vector<Span> ours, ref;
  int mismatches = 0;
  for (int n = 0; n < kInputsPerPattern && mismatches < 5; ++n) {
    const std::string s = gen.next();
    // One input in four is cut to a character-aligned sub-range, as the encoder hands the scanner
    // the text between added tokens: the scanner must see nothing outside it.
    uint32_t begin = 0, end = static_cast<uint32_t>(s.size());
    if (n % 4 == 3 && end > 2) {
      for (uint32_t k = 0; k < 3 && begin < end; ++k) begin += text::utf8_len(static_cast<uint8_t>(s[begin]));
    }
    ours.clear();
    split_pieces(named->pattern, s, begin, end, ours);
    if (begin == 0) {
      general.pieces(s, ref);
    } else {
      // The general path over the sub-range alone, offsets moved back into s.
      general.pieces(std::string_view(s).substr(begin, end - begin), ref);
      for (Span& sp : ref) sp.begin += begin, sp.end += begin;
    }
    if (split_reference::first_difference(ours, ref) >= 0) {
      ++mismatches;
      ADD_FAILURE() << named->name << " input " << n << ": \"" << [&] {
        std::string e;
        text::json_escape_append(e, s);
        return e;
      }() << "\" [" << begin << ", " << end << ")\n  scanner " << split_reference::pieces_json(s, ours)
                    << "\n  general " << split_reference::pieces_json(s, ref);
    }
  }
}

// Long ASCII-heavy prose: what the 64-byte path of the LLaMA-3 / Qwen2 scanner takes
// (llama3_ascii.h: letters, punctuation, single spaces), broken by what it must leave to the
// ordinary path (digits, apostrophes and contractions, runs of spaces, tabs, newlines, DEL and
// other controls, non-ASCII letters and spaces), at every distance from a window's edge.
TEST(SplitFuzzProse, Llama3ScannersEqualGeneralPath) {
  static const char* kPunct[] = {".", ",", ";", ":", "!", "?", "-", "--", "(", ")", "\"", "...", "/", "#", "@", "[", "]",
                                 "{", "}", "*", "&", "%", "$", "_", "~", "`", "^", "|", "<", ">", "=", "+", ".\"", ".)"};
  static const char* kRare[] = {"\r", "3rd", "a1b22c333", "'90s", "don't", "'ll", "'Ve", "'d", "'M", "'Re", "'lL",
                                "'sx", "'rex", "''s", ".'s", "'s'", "'r", "'l", "'e", "''", "'", "'s", "'T", "'re", "'LL", "  ", "   ", "\t", "\n", "\r\n", "\x7f",
                                "\x01", "\xc3\xa9", "\xc5\xbf", "\xe2\x80\x83", "\xc2\xa0", " '", "' ", "\n \n", " \n \n", "\n\n \n", "\n  \n"};
  std::mt19937 rng(20261203);
  for (const char* name : {"llama3", "qwen2"}) {
    const split_reference::Named* named = split_reference::find(name);
    ASSERT_NE(named, nullptr);
    split_reference::General general(named->regexes);
    std::vector<Span> ours, ref;
    int mismatches = 0;
    for (int n = 0; n < 1500 && mismatches < 3; ++n) {
      std::string s;
      const size_t len = 60 + rng() % (n % 10 == 0 ? 4000 : 400);
      const unsigned rare = 1 + rng() % 40;  // one token in `rare` (on average) from kRare
      while (s.size() < len) {
        const unsigned r = rng() % 100;
        if (rng() % rare == 0) {
          s += kRare[rng() % (sizeof kRare / sizeof *kRare)];
        } else if (r < 8) {
          const size_t w = 1 + rng() % (r < 2 ? 20 : 4);  // digit runs: every length mod 3, long ones
          for (size_t k = 0; k < w; ++k) s += static_cast<char>('0' + rng() % 10);
          const unsigned after = rng() % 4;
          s += after == 0 ? " " : after == 1 ? "" : after == 2 ? "." : "\n";
        } else if (r < 70) {
          const size_t w = 1 + rng() % 12;
          for (size_t k = 0; k < w; ++k) s += static_cast<char>((rng() % 5 ? 'a' : 'A') + rng() % 26);
          s += rng() % 12 ? " " : rng() % 2 ? "\n" : " \n";
        } else {
          s += kPunct[rng() % (sizeof kPunct / sizeof *kPunct)];
          const unsigned after = rng() % 8;  // a space, line feeds, or both, in either order
          if (after < 3) s += ' ';
          else if (after == 3) s += '\n';
          else if (after == 4) s += "\n\n";
          else if (after == 5) s += " \n";
          else if (after == 6) s += "\n ";
        }
      }
      ours.clear();
      split_pieces(named->pattern, s, 0, static_cast<uint32_t>(s.size()), ours);
      general.pieces(s, ref);
      if (split_reference::first_difference(ours, ref) >= 0) {
        ++mismatches;
        ADD_FAILURE() << name << " input " << n << ": first difference at piece " << split_reference::first_difference(ours, ref)
                      << "\n  scanner " << split_reference::pieces_json(s, ours) << "\n  general "
                      << split_reference::pieces_json(s, ref);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllPatterns, SplitFuzz,
                         ::testing::Values("llama3", "qwen2", "gpt2", "o200k", "deepseek-v3"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

}  // namespace
}  // namespace longctx::tokenizer
