// The training run of the profile-guided build (scripts/pgo_profile.sh): what `longctx tokenize
// --threads 1` does per line (tools/longctx/tokenize_lines.h: JSON field parsing, Encoder, id
// text, through the line pipeline) over a JSONL file, once per tokenizer, output discarded.
// Built only in the instrumented tree (LONGCTX_PGO_GENERATE), whose counters it leaves in the
// profile folder at exit.
//
//   longctx_pgo_train TEXT.jsonl TOKENIZER.json...
#include <atomic>
#include <cstdio>
#include <exception>
#include <memory>

#include "../longctx/io.h"
#include "../longctx/tokenize_lines.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s TEXT.jsonl TOKENIZER.json...\n", argv[0]);
    return 2;
  }
  try {
    for (int i = 2; i < argc; ++i) {
      const auto tok = longctx::tokenizer::Tokenizer::load(argv[i]);
      const auto in = longctx::corpus::open_source(argv[1]);
      std::atomic<uint64_t> tokens{0};
      longctx::run_line_pipeline(
          longctx::cli::reader_for(*in), in->name(), 1,
          [&] {
            return std::make_unique<longctx::cli::TokenizeLines>(*tok, "text", longctx::tokenizer::EncodeOptions{},
                                                                 in->name(), tokens);
          },
          [](std::string_view) {});
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "longctx_pgo_train: %s\n", e.what());
    return 1;
  }
  return 0;
}
