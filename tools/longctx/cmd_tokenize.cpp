// longctx tokenize: JSONL with a text field → one JSON array of token ids per line, in input order.
#include <atomic>
#include <cstring>

#include "commands.h"
#include "io.h"
#include "longctx/corpus/json_document.h"
#include "longctx/text/ids_json.h"
#include "longctx/tokenizer/tokenizer.h"
#include "longctx/util/file.h"
#include "longctx/util/line_pipeline.h"
#include "progress.h"

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

class TokenizeLines : public LineProcessor {
 public:
  TokenizeLines(const tokenizer::Tokenizer& tok, const TokenizeArgs& a, const std::string& name,
                std::atomic<uint64_t>& tokens)
      : enc_(tok), name_(name), tokens_(tokens), parser_(a.field, {corpus::DomainSource::kConstant, ""}, true) {
    opt_.add_special_tokens = !a.no_bos;
    opt_.parse_special = a.parse_special;
  }
  ~TokenizeLines() override { tokens_ += local_tokens_; }

  void process(std::string_view line, uint64_t line_no, std::string& out) override {
    const corpus::ParsedLine r = parser_.parse(line);
    if (!r.ok) throw Error(name_ + ":" + std::to_string(line_no) + ": " + r.detail);
    const std::string_view text = r.text;
    ids_.clear();
    enc_.encode(text, opt_, ids_);
    local_tokens_ += ids_.size();
    text::append_ids_json(out, ids_);
    out += '\n';
  }

 private:
  tokenizer::Encoder enc_;
  const std::string& name_;
  std::atomic<uint64_t>& tokens_;
  uint64_t local_tokens_ = 0;
  tokenizer::EncodeOptions opt_;
  corpus::JsonDocumentParser parser_;  // the text field only: no domain
  std::vector<uint32_t> ids_;
};

int run(const TokenizeArgs& a) {
  const auto tok = tokenizer::Tokenizer::load(a.tokenizer);
  const auto in = corpus::open_source(a.input);
  AtomicFile out(a.out);
  Progress progress("tokenize", a.progress);
  std::atomic<uint64_t> tokens{0};
  const int threads = thread_count(a.threads);
  const auto stats = run_line_pipeline(
      reader_for(*in), in->name(), threads,
      [&] { return std::make_unique<TokenizeLines>(*tok, a, in->name(), tokens); },
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
