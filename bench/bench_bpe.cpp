// In-memory encoding throughput of the tokenizer library, without JSON parsing or output:
//   build/bench/bench_bpe --benchmark_filter=... (needs data/tokenizers and LONGCTX_BENCH_CORPUS,
//   a JSONL file such as the one bench/make_bench_corpus.py writes); also the id writer alone
//   (--benchmark_filter=ids_json).
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <charconv>
#include <cstdlib>

#include "longctx/text/cpu.h"
#include "longctx/text/ids_json.h"

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

// The id writer of `tokenize` and `pack` (ids to "1,2,3," text) over the ids of the corpus
// (LLaMA-3), three ways in one run: the AVX-512 kernel (text::write_ids, where the CPU has
// VBMI2), the scalar writer it replaced, and std::to_chars as the standard library's baseline.
enum class IdWriter { kVectorized, kScalar, kToChars };
void ids_json(benchmark::State& state, IdWriter how) {
  static const std::vector<std::vector<uint32_t>> docs = [] {
    const auto tok = load_family("llama3");
    Encoder enc(*tok);
    std::vector<std::vector<uint32_t>> out;
    for (const auto& t : corpus()) {
      out.emplace_back();
      enc.encode(t, {}, out.back());
    }
    return out;
  }();
  if (how == IdWriter::kVectorized && !longctx::text::avx512_text_kernels()) {
    state.SkipWithError("no AVX-512 VBMI2 on this CPU");
    return;
  }
  size_t longest = 0, ids = 0;
  for (const auto& d : docs) longest = std::max(longest, d.size());
  std::string buf(longest * 11 + 64, '\0');
  for (auto _ : state) {
    for (const auto& d : docs) {
      char* p = buf.data();
      if (how == IdWriter::kVectorized) {
        p = longctx::text::write_ids(p, d.data(), d.size());
      } else if (how == IdWriter::kScalar) {
        p = longctx::text::write_ids_scalar(p, d.data(), d.size());
      } else {
        for (const uint32_t v : d) {
          p = std::to_chars(p, buf.data() + buf.size(), v).ptr;
          *p++ = ',';
        }
      }
      benchmark::DoNotOptimize(p);
      ids += d.size();
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(ids));
}
BENCHMARK_CAPTURE(ids_json, vectorized, IdWriter::kVectorized)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(ids_json, scalar, IdWriter::kScalar)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(ids_json, to_chars, IdWriter::kToChars)->Unit(benchmark::kMillisecond);

BENCHMARK_CAPTURE(encode_corpus, llama2, "llama2", false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(encode_corpus, llama3, "llama3", false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(encode_corpus_warm, llama2_warm, "llama2")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(encode_corpus_warm, llama3_warm, "llama3")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(encode_corpus, llama2_reference, "llama2", true)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK_CAPTURE(encode_corpus, llama3_reference, "llama3", true)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
