// longctx decode: one JSON array of token ids per line → {"text": "..."} per line (the inverse of
// tokenize), decoded as Hugging Face's decode does.
#include <simdjson.h>


#include "commands.h"
#include "io.h"
#include "longctx/text/utf8.h"
#include "longctx/tokenizer/tokenizer.h"
#include "longctx/util/file.h"
#include "longctx/util/line_pipeline.h"

namespace longctx::cli {
namespace {

struct DecodeArgs {
  std::string tokenizer;
  std::string input = "-";
  std::string out = "-";
  int threads = 0;
  bool skip_special = false, skip_unknown = false;
};

class DecodeLines : public LineProcessor {
 public:
  DecodeLines(const tokenizer::Tokenizer& tok, const DecodeArgs& a, const std::string& name)
      : tok_(tok), args_(a), name_(name) {}

  void process(std::string_view line, uint64_t line_no, std::string& out) override {
    auto where = [&] { return name_ + ":" + std::to_string(line_no) + ": "; };
    simdjson::dom::element doc;
    if (auto err = parser_.parse(line.data(), line.size(), false).get(doc))
      throw Error(where() + "expected a JSON array of token ids, found invalid JSON (" + simdjson::error_message(err) + ")");
    simdjson::dom::array arr;
    if (doc.get(arr)) throw Error(where() + "expected a JSON array of token ids");
    ids_.clear();
    size_t i = 0;
    for (auto v : arr) {
      uint64_t id;
      if (v.get(id) || id > UINT32_MAX)
        throw Error(where() + "element " + std::to_string(i) + ": expected a non-negative integer token id");
      ids_.push_back(static_cast<uint32_t>(id));
      ++i;
    }
    std::string text;
    try {
      text = tok_.decode(ids_, args_.skip_special, args_.skip_unknown);
    } catch (const Error& e) {
      throw Error(where() + e.what());
    }
    out += "{\"text\":\"";
    text::json_escape_append(out, text);
    out += "\"}\n";
  }

 private:
  const tokenizer::Tokenizer& tok_;
  const DecodeArgs& args_;
  const std::string& name_;
  simdjson::dom::parser parser_;
  std::vector<uint32_t> ids_;
};

int run(const DecodeArgs& a) {
  const auto tok = tokenizer::Tokenizer::load(a.tokenizer);
  const auto in = corpus::open_source(a.input);
  AtomicFile out(a.out);
  const int threads = thread_count(a.threads);
  run_line_pipeline(
      reader_for(*in), in->name(), threads, [&] { return std::make_unique<DecodeLines>(*tok, a, in->name()); },
      [&](std::string_view chunk) { out.write(chunk); });
  out.commit();
  return 0;
}

}  // namespace

Run add_decode(CLI::App& app) {
  auto a = std::make_shared<DecodeArgs>();
  auto* sub = app.add_subcommand("decode", "one JSON array of token ids per line -> {\"text\": ...} per line");
  sub->add_option("--tokenizer", a->tokenizer, "Hugging Face tokenizer.json")->required();
  sub->add_option("input", a->input, "file of JSON arrays, or - for standard input")->capture_default_str();
  sub->add_option("--out,-o", a->out, "output file (written whole or not at all), - for standard output")
      ->capture_default_str();
  sub->add_option("--threads", a->threads, "worker threads (0 = one per core)")->check(CLI::NonNegativeNumber);
  sub->add_flag("--skip-special", a->skip_special, "leave special tokens out of the text");
  sub->add_flag("--skip-unknown", a->skip_unknown,
                "leave ids the tokenizer lacks out of the text, as Hugging Face's decode does (default: such an id is an error)");
  return [a] { return run(*a); };
}

}  // namespace longctx::cli
