// In-memory encoding throughput of the tokenizer library, without JSON parsing or output:
//   build/bench/bench_bpe --benchmark_filter=... (needs data/tokenizers and LONGCTX_BENCH_CORPUS,
//   a JSONL file such as the one bench/make_bench_corpus.py writes)
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <cstdlib>

#include "longctx/tokenizer/tokenizer.h"
#include "longctx/util/file.h"

namespace {

using longctx::tokenizer::Encoder;
using longctx::tokenizer::Tokenizer;

const std::vector<std::string>& corpus() {
  static std::vector<std::string> texts = [] {
    std::vector<std::string> out;
    const char* path = std::getenv("LONGCTX_BENCH_CORPUS");
    simdjson::dom::parser parser;
    const std::string data = longctx::read_file(path ? path : "build/bench/corpus.jsonl");
    size_t pos = 0;
    while (pos < data.size()) {
      size_t nl = data.find('\n', pos);
      if (nl == std::string::npos) nl = data.size();
      std::string_view text;
      if (!parser.parse(data.substr(pos, nl - pos))["text"].get(text)) out.emplace_back(text);
      pos = nl + 1;
    }
    return out;
  }();
  return texts;
}

std::shared_ptr<const Tokenizer> load_family(const char* name) {
  return Tokenizer::load(std::string(LONGCTX_SOURCE_DIR "/data/tokenizers/") + name + "/tokenizer.json");
}

// One pass of enc over the corpus; its bytes.
size_t encode_pass(Encoder& enc, std::vector<uint32_t>& ids) {
  size_t bytes = 0;
  for (const auto& t : corpus()) {
    ids.clear();
    enc.encode(t, {}, ids);
    benchmark::DoNotOptimize(ids.data());
    bytes += t.size();
  }
  return bytes;
}

void encode_corpus(benchmark::State& state, const char* name, bool reference) {
  const auto tok = load_family(name);
  std::vector<uint32_t> ids;
  size_t bytes = 0;
  for (auto _ : state) {
    Encoder enc(*tok);  // a cold cache every iteration: what one pass over new data costs
    enc.set_reference_mode(reference);
    bytes += encode_pass(enc, ids);
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

// The same passes through one encoder that has already seen the corpus: every piece is in its
// cache (nothing is evicted at this size). The gap to encode_corpus is what the pieces seen for
// the first time cost in one pass; what this gives is what a long run over similar text tends to.
void encode_corpus_warm(benchmark::State& state, const char* name) {
  const auto tok = load_family(name);
  std::vector<uint32_t> ids;
  Encoder enc(*tok);
  encode_pass(enc, ids);  // warm-up pass, not timed
  size_t bytes = 0;
  for (auto _ : state) bytes += encode_pass(enc, ids);
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

BENCHMARK_CAPTURE(encode_corpus, llama2, "llama2", false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(encode_corpus, llama3, "llama3", false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(encode_corpus_warm, llama2_warm, "llama2")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(encode_corpus_warm, llama3_warm, "llama3")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(encode_corpus, llama2_reference, "llama2", true)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK_CAPTURE(encode_corpus, llama3_reference, "llama3", true)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
