// Prints the pieces our pre-tokenizer scanners (tokenizer/split_patterns.h) cut, for the oracle
// check against Hugging Face (tests/oracle/check_split_patterns.py).
//
//   split_cli PATTERN [--general] < IN > OUT
//     IN: one JSON string per line; OUT: one JSON array of the pieces per line.
//     PATTERN: llama3 | qwen2 | gpt2 | o200k | deepseek-v3.
//     --general: the pieces of the general Oniguruma path (tokenizer/regex.h) instead.
//   split_cli --recognise < IN
//     IN: one JSON array of regex strings per line (a Sequence of Splits); prints, per line, the
//     name of the scanner recognise_split_sequence finds for it, or "none".
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "split_reference.h"

using namespace longctx::tokenizer;

int recognise() {
  std::string line;
  while (std::getline(std::cin, line)) {
    const auto regexes = nlohmann::json::parse(line).get<std::vector<std::string>>();
    const auto pattern = recognise_split_sequence(regexes);
    const char* name = "none";
    for (const auto& named : split_reference::patterns())
      if (pattern == named.pattern) name = named.name;
    std::printf("%s\n", name);
  }
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 2 && std::string(argv[1]) == "--recognise") return recognise();
  const split_reference::Named* named = argc >= 2 ? split_reference::find(argv[1]) : nullptr;
  if (!named) {
    std::fprintf(stderr, "usage: split_cli llama3|qwen2|gpt2|o200k|deepseek-v3 [--general] < IN > OUT\n");
    return 2;
  }
  // The scanner as the loader finds it: from the regexes.
  const auto pattern = recognise_split_sequence(named->regexes);
  if (pattern != named->pattern) {
    std::fprintf(stderr, "split_cli: the regexes of %s are not recognised\n", argv[1]);
    return 1;
  }
  const bool general = argc > 2 && std::string(argv[2]) == "--general";
  split_reference::General reference(named->regexes);
  std::string line, out;
  std::vector<Span> spans;
  while (std::getline(std::cin, line)) {
    const std::string s = nlohmann::json::parse(line).get<std::string>();
    spans.clear();
    if (general) reference.pieces(s, spans);
    else split_pieces(*pattern, s, 0, static_cast<uint32_t>(s.size()), spans);
    out = split_reference::pieces_json(s, spans);
    out += '\n';
    std::fwrite(out.data(), 1, out.size(), stdout);
  }
  return 0;
}
