// Test driver of text/normalize.h (tests/oracle/check_normalize.py compares it with HF tokenizers).
//
//   normalize_cli < IN.jsonl > OUT.jsonl
//     per {"text": ...} line: {"nfc","nfd","nfkc","nfkd","lower": outputs, "bad_qc": forms for which
//     is_normalized(piece) disagrees with normalize(piece) == piece on some '\n'-separated piece of
//     the text, or the pieces' normal forms joined with '\n' differ from the text's}
//   normalize_cli bench FILE [SECONDS]
//     single-threaded MB/s (best call, CPU time) of each form, is_normalized and lowercase on FILE's bytes (UTF-8 text).
#include <simdjson.h>

#include <algorithm>
#include <ctime>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "longctx/text/normalize.h"
#include "longctx/text/utf8.h"

using longctx::text::NormalForm;

namespace {

constexpr NormalForm kForms[] = {NormalForm::kNFC, NormalForm::kNFD, NormalForm::kNFKC, NormalForm::kNFKD};
constexpr const char* kNames[] = {"nfc", "nfd", "nfkc", "nfkd"};

// Best of many timed calls, in thread CPU time (the machine may be shared).
template <class F>
double mb_per_s(size_t bytes, double seconds, F&& f) {
  auto now = [] {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
  };
  f();  // warm up
  double best = 1e30;
  for (const double stop = now() + seconds; now() < stop;) {
    const double t = now();
    f();
    best = std::min(best, now() - t);
  }
  return static_cast<double>(bytes) / best / 1e6;
}

int bench(const char* path, double seconds) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  std::string out;
  for (int i = 0; i < 4; ++i) {
    const double a = mb_per_s(text.size(), seconds, [&] { longctx::text::normalize(kForms[i], text, out); });
    bool ok = true;
    const double b = mb_per_s(text.size(), seconds, [&] { ok = longctx::text::is_normalized(kForms[i], text); });
    if (ok) std::printf("%-5s normalize %8.1f MB/s   is_normalized %8.1f MB/s\n", kNames[i], a, b);
    else std::printf("%-5s normalize %8.1f MB/s   is_normalized: no (stops at the first change)\n", kNames[i], a);
  }
  std::printf("lower     %8.1f MB/s\n", mb_per_s(text.size(), seconds, [&] { longctx::text::lowercase(text, out); }));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 3 && std::string(argv[1]) == "bench") return bench(argv[2], argc > 3 ? std::stod(argv[3]) : 1.0);
  std::ios::sync_with_stdio(false);
  simdjson::dom::parser parser;
  std::string line, out, normalized;
  while (std::getline(std::cin, line)) {
    std::string_view text;
    if (parser.parse(line).get_object()["text"].get_string().get(text)) {
      std::cerr << "normalize_cli: bad input line\n";
      return 1;
    }
    out.assign(1, '{');
    std::string bad;
    for (int i = 0; i < 4; ++i) {
      // is_normalized is checked on each '\n'-separated piece (the oracle joins many cases per line).
      // The pieces normalized alone, joined, must also give the whole line's normal form.
      bool consistent = true;
      std::string joined;
      for (size_t start = 0; start <= text.size();) {
        const size_t stop = std::min(text.find('\n', start), text.size());
        const std::string_view piece = text.substr(start, stop - start);
        longctx::text::normalize(kForms[i], piece, normalized);
        consistent &= longctx::text::is_normalized(kForms[i], piece) == (normalized == piece);
        joined += normalized;
        if (stop < text.size()) joined += '\n';
        start = stop + 1;
      }
      longctx::text::normalize(kForms[i], text, normalized);
      if (!consistent || joined != normalized) bad += std::string(bad.empty() ? "" : ",") + '"' + kNames[i] + '"';
      out += std::string("\"") + kNames[i] + "\":\"";
      longctx::text::json_escape_append(out, normalized);
      out += "\",";
    }
    longctx::text::lowercase(text, normalized);
    out += "\"lower\":\"";
    longctx::text::json_escape_append(out, normalized);
    out += "\",\"bad_qc\":[" + bad + "]}\n";
    std::cout << out;
  }
  return 0;
}
