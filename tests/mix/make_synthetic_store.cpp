// A seeded test tool: writes a store whose per-domain length distributions are known, so that the
// mixture tests can compare what mix plans with what the paper's formulas predict.
//
//   make_synthetic_store OUT SEED [--gap K:TOKENS] NAME:DOCS:LONG_FRACTION:SHORT_MIN-SHORT_MAX:LONG_MIN-LONG_MAX ...
//
// --gap K:TOKENS first writes K documents of TOKENS zero ids in a domain "gap", as holes in a sparse
// data.bin, so that every later document lies past K * TOKENS tokens (the 2^32 boundary tests)
// without that much disk.
// Each domain gets DOCS documents; a document is long with probability LONG_FRACTION and then has
// a length uniform in [LONG_MIN, LONG_MAX], else uniform in [SHORT_MIN, SHORT_MAX]. Documents of
// all domains are interleaved at random. Token ids are random below 32,000 after a BOS (1), so
// every document's tokens are distinct enough to find it again in packed output.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "longctx/store/builder.h"
#include "longctx/util/rng.h"

using namespace longctx;

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: make_synthetic_store OUT SEED NAME:DOCS:LONG_FRACTION:SMIN-SMAX:LMIN-LMAX ...\n");
    return 2;
  }
  const std::string out = argv[1];
  const uint64_t seed = std::strtoull(argv[2], nullptr, 10);
  unsigned long long gap_docs = 0, gap_tokens = 0;
  int first_spec = 3;
  if (argc > 4 && std::string(argv[3]) == "--gap") {
    if (std::sscanf(argv[4], "%llu:%llu", &gap_docs, &gap_tokens) != 2 || gap_tokens == 0 || gap_tokens > 2147483647ull) {
      std::fprintf(stderr, "bad --gap %s (K:TOKENS, TOKENS below 2^31)\n", argv[4]);
      return 2;
    }
    first_spec = 5;
  }
  struct Domain {
    std::string name;
    uint64_t docs;
    double long_fraction;
    uint64_t smin, smax, lmin, lmax;
  };
  std::vector<Domain> domains;
  for (int i = first_spec; i < argc; ++i) {
    Domain d;
    char name[128];
    unsigned long long docs, smin, smax, lmin, lmax;
    if (std::sscanf(argv[i], "%127[^:]:%llu:%lf:%llu-%llu:%llu-%llu", name, &docs, &d.long_fraction, &smin, &smax, &lmin, &lmax) != 7) {
      std::fprintf(stderr, "bad domain spec %s\n", argv[i]);
      return 2;
    }
    d.name = name;
    d.docs = docs;
    d.smin = smin, d.smax = smax, d.lmin = lmin, d.lmax = lmax;
    domains.push_back(d);
  }
  store::Manifest m;
  m.tool = "make_synthetic_store";
  m.run_fingerprint = "synthetic-" + std::to_string(seed) + (gap_docs ? "-gap-" + std::to_string(gap_docs) + "x" + std::to_string(gap_tokens) : "");
  m.tokenizer_path = "synthetic";
  m.tokenizer_xxh128 = std::string(32, '0');
  m.vocab_size = 32000;
  m.token_type = store::TokenType::kUint16;
  m.domain_source = "constant:synthetic";
  store::StoreBuilder b(out, m.run_fingerprint, m);
  if (b.done()) return 0;
  store::InputStats in;
  in.path = "synthetic:" + std::to_string(seed);
  in.kind = "jsonl";
  b.manifest().inputs.push_back(in);
  for (const auto& d : domains) b.domain_index(d.name);
  if (gap_docs) {
    const uint16_t gap = b.domain_index("gap");
    for (unsigned long long g = 0; g < gap_docs; ++g) b.add_zeros(static_cast<uint32_t>(gap_tokens), store::DocRecord{0, 0, 0, gap, 0, 0});
    b.manifest().inputs[0].documents += gap_docs;
    b.manifest().inputs[0].lines += gap_docs;
    b.manifest().inputs[0].tokens += gap_docs * gap_tokens;
  }
  Rng rng(seed);
  std::vector<uint64_t> left;
  uint64_t total = 0;
  for (const auto& d : domains) {
    left.push_back(d.docs);
    total += d.docs;
  }
  std::vector<uint16_t> ids;
  for (uint64_t n = 0; n < total; ++n) {
    // Pick a domain in proportion to its remaining documents: a random interleaving.
    uint64_t r = rng.below(total - n), k = 0;
    while (r >= left[k]) r -= left[k++];
    --left[k];
    const auto& d = domains[k];
    const bool is_long = rng.uniform() < d.long_fraction;
    const uint64_t len = is_long ? d.lmin + rng.below(d.lmax - d.lmin + 1) : d.smin + rng.below(d.smax - d.smin + 1);
    ids.assign(len, 0);
    ids[0] = 1;
    for (uint64_t i = 1; i < len; ++i) ids[i] = static_cast<uint16_t>(3 + rng.below(31997));
    b.add(std::string_view(reinterpret_cast<const char*>(ids.data()), 2 * len), static_cast<uint32_t>(len),
          store::DocRecord{n + 1, 0, static_cast<uint32_t>(len * 4), static_cast<uint16_t>(k), 0, 0});
    auto& st = b.manifest().inputs[0];
    ++st.documents;
    ++st.lines;
    st.tokens += len;
  }
  b.finish();
  return 0;
}
