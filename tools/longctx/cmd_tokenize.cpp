// longctx tokenize: JSONL with a text field → one JSON array of token ids per line, in input order.
#include <atomic>
#include <cstring>

#include "commands.h"
#include "io.h"
#include "longctx/tokenizer/tokenizer.h"
#include "longctx/util/file.h"
#include "longctx/util/line_pipeline.h"
#include "progress.h"
#include "tokenize_lines.h"

namespace longctx::cli {
namespace {

struct TokenizeArgs {
  std::string tokenizer;
  std::string input = "-";
  std::string out = "-";
  std::string field = "text";
  int threads = 0;
  bool parse_special = false;
  bool no_bos = false;
  bool progress = false;
  bool quiet = false;
};

tokenizer::EncodeOptions encode_options(const TokenizeArgs& a) {
  tokenizer::EncodeOptions opt;
  opt.add_special_tokens = !a.no_bos;
  opt.parse_special = a.parse_special;
  return opt;
}

int run(const TokenizeArgs& a) {
  const auto tok = tokenizer::Tokenizer::load(a.tokenizer);
  const auto in = corpus::open_source(a.input);
  AtomicFile out(a.out);
  Progress progress("tokenize", a.progress);
  std::atomic<uint64_t> tokens{0};
  const int threads = thread_count(a.threads);
  const auto stats = run_line_pipeline(
      reader_for(*in), in->name(), threads,
      [&] { return std::make_unique<TokenizeLines>(*tok, a.field, encode_options(a), in->name(), tokens); },
      [&](std::string_view chunk) { out.write(chunk); }, [&](uint64_t b, uint64_t) { progress.bytes(b); });
  out.commit();
  if (!a.quiet)
    std::fprintf(stderr, "tokenize: %llu lines, %llu tokens, %.2f MB of input in %.3f s: %.1f MB/s, %.2f M tokens/s (%d threads)\n",
                 static_cast<unsigned long long>(stats.lines), static_cast<unsigned long long>(tokens.load()),
                 stats.bytes / 1e6, stats.seconds, stats.bytes / 1e6 / stats.seconds,
                 tokens.load() / 1e6 / stats.seconds, threads);
  return 0;
}

}  // namespace

Run add_tokenize(CLI::App& app) {
  auto a = std::make_shared<TokenizeArgs>();
  auto* sub = app.add_subcommand("tokenize", "JSONL with a text field -> one JSON array of token ids per line");
  sub->add_option("--tokenizer", a->tokenizer, "Hugging Face tokenizer.json")->required();
  sub->add_option("input", a->input, "JSONL file (plain, .zst or .gz), or - for standard input")->capture_default_str();
  sub->add_option("--out,-o", a->out, "output file (written whole or not at all), - for standard output")
      ->capture_default_str();
  sub->add_option("--field", a->field, "the JSON field holding the text")->capture_default_str();
  sub->add_option("--threads", a->threads, "worker threads (0 = one per core); output is identical for any count")
      ->check(CLI::NonNegativeNumber);
  sub->add_flag("--parse-special", a->parse_special,
                "turn special-token strings in the text into their ids (Hugging Face's default); "
                "off: they are plain text");
  sub->add_flag("--no-bos", a->no_bos, "do not add what the post-processor adds (BOS)");
  sub->add_flag("--progress", a->progress, "show progress even when stderr is not a terminal");
  sub->add_flag("--quiet,-q", a->quiet, "no summary line on stderr");
  return [a] { return run(*a); };
}

}  // namespace longctx::cli
