// longctx bookqa: InfiniteBench longbook_qa_eng as the paper ran it: its LLaMA template, the prompt
// truncated in the middle to --max-length tokens, 40 greedy tokens, the paper's unigram recall
// and InfiniteBench's token F1. One JSON line per row (RUN/bookqa.jsonl), resumable.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "backend.h"
#include "commands.h"
#include "longctx/eval/needle.h"
#include "longctx/util/error.h"
#include "longctx/util/file.h"
#include "longctx/util/size.h"

namespace longctx::cli {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

struct BookQaArgs {
  BackendOptions backend;
  std::string tokenizer, data, max_length = "128000", prompt_template = eval::kBookQaTemplate;
  bool quiet = false;
};

int run(BookQaArgs& a) {
  auto& b = a.backend;
  if (b.model.empty() == b.endpoint.empty()) throw Error("give exactly one of --model and --endpoint");
  if (b.out.empty()) throw Error("--out RUN is required");
  const std::string tok_path = !a.tokenizer.empty() ? a.tokenizer : b.model + "/tokenizer.json";
  if (b.model.empty() && a.tokenizer.empty()) throw Error("--endpoint needs --tokenizer (the served model's tokenizer.json)");
  const auto tok = tokenizer::Tokenizer::load(tok_path);
  const uint64_t max_len = parse_size(a.max_length, "--max-length");
  if (a.prompt_template.find("{context}") == std::string::npos || a.prompt_template.find("{question}") == std::string::npos)
    throw Error("--template: expected {context} and {question}");
  const std::vector<eval::BookQaRow> rows = eval::read_bookqa_rows(a.data);
  fs::create_directories(b.out);
  const std::string results = b.out + "/bookqa.jsonl";
  std::set<std::string> done;
  if (fs::exists(results)) {
    std::string text = read_file(results);
    const size_t keep = text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1;
    if (keep != text.size()) fs::resize_file(results, keep);  // a line cut short by a kill
    done = eval::read_bookqa_results(results).ids;
  }
  Backend backend(b, *tok);
  FILE* out = std::fopen(results.c_str(), "ab");
  if (!out) throw Error(results + ": cannot write");
  for (const auto& r : rows) {
    if (done.count(r.id)) continue;
    std::string prompt = a.prompt_template;
    prompt.replace(prompt.find("{context}"), 9, r.context);
    prompt.replace(prompt.find("{question}"), 10, r.question);
    const auto full = tok->encode(prompt);
    const auto ids = eval::truncate_middle(full, max_len);
    const auto gen = backend.generate(ids);
    const std::string pred = tok->decode(gen, true, true);
    json j;
    j["id"] = json::parse(r.id);
    j["prompt_tokens"] = ids.size();
    j["full_prompt_tokens"] = full.size();
    j["prediction"] = pred;
    j["answers"] = r.answers;
    j["recall"] = eval::bookqa_recall(pred, r.answers[0]);
    j["f1"] = eval::qa_f1(pred, r.answers);
    const std::string line = j.dump() + "\n";
    if (std::fwrite(line.data(), 1, line.size(), out) != line.size() || std::fflush(out) != 0 || ::fdatasync(::fileno(out)) != 0)
      throw Error(results + ": write failed");
  }
  std::fclose(out);
  const eval::BookQaResults res = eval::read_bookqa_results(results);
  const uint64_t n = res.rows;
  const double recall = res.recall, f1 = res.f1;
  json summary = {{"rows", n}, {"recall", n ? 100 * recall / n : 0.0}, {"f1", n ? 100 * f1 / n : 0.0}, {"max_length", max_len},
                  {"template", a.prompt_template}, {"tokenizer", tok_path}};
  AtomicFile s(b.out + "/bookqa_summary.json");
  s.write(summary.dump(2) + "\n");
  s.commit();
  if (!a.quiet)
    std::printf("bookqa: %llu rows: recall %.1f (the paper's unigram recall x100), F1 %.1f (InfiniteBench's token F1 x100)\n",
                static_cast<unsigned long long>(n), summary["recall"].get<double>(), summary["f1"].get<double>());
  return 0;
}

}  // namespace

Run add_bookqa(CLI::App& app) {
  auto a = std::make_shared<BookQaArgs>();
  a->backend.max_new = 40;
  auto* sub = app.add_subcommand("bookqa", "InfiniteBench longbook_qa_eng as the paper ran it (middle truncation, 40 tokens)");
  sub->add_option("--model", a->backend.model, "Hugging Face checkpoint folder (in-process engine)");
  sub->add_option("--endpoint", a->backend.endpoint, "OpenAI-compatible server (token ids are sent)");
  sub->add_option("--tokenizer", a->tokenizer, "tokenizer.json (default: the model folder's; required with --endpoint)");
  sub->add_option("--data", a->data, "longbook_qa_eng.jsonl: {id, context, input, answer[]} per line")->required();
  sub->add_option("--out,-o", a->backend.out, "run folder: bookqa.jsonl (one line per row; a rerun resumes), bookqa_summary.json");
  sub->add_option("--max-length", a->max_length, "prompt tokens kept (first half + last half)")->capture_default_str();
  sub->add_option("--max-new-tokens", a->backend.max_new, "greedy tokens per answer")->capture_default_str();
  sub->add_option("--template", a->prompt_template, "prompt with {context} and {question} (default: the paper's LLaMA template)");
  sub->add_option("--timeout", a->backend.timeout, "endpoint: seconds per request")->capture_default_str();
  sub->add_option("--retries", a->backend.retries, "endpoint: retries with backoff")->capture_default_str();
  sub->add_option("--rope-theta", a->backend.rope_theta, "engine: override config.json's rope_theta");
  sub->add_option("--dynamic-pin", a->backend.dynamic_pin, "engine: dynamic NTK table fixed at this length (the paper: 81920)");
  sub->add_flag("--quiet,-q", a->quiet, "no summary line");
  return [a] { return run(*a); };
}

}  // namespace longctx::cli
