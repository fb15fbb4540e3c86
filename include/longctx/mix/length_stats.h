// Per-domain document-length statistics of a store, token-weighted as the paper's mixture
// decisions need them (../docs/formats/store.md explains each number):
//   percentiles  the smallest length L such that documents of length <= L hold p% of the tokens
//   bins         share of the domain's tokens in documents whose length lies in [lo, hi)
//   long share   share of the tokens in documents longer than the threshold (4K)
// Lengths are stored sequence lengths (BOS/EOS included when the store has them). Exact, and in
// memory proportional to the number of distinct lengths, not of documents.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "longctx/store/store.h"

namespace longctx::mix {

struct LengthBins {
  std::vector<uint64_t> edges;  // ascending, from 0; the last bin is open: [edges.back(), inf)
  std::vector<std::string> labels;
  // "0,1K,2K,4K" (K = 1024, M = 1024K): bins 0-1K, 1K-2K, 2K-4K, 4K+. Throws Error on bad input.
  static LengthBins parse(const std::string& spec);
  static LengthBins paper();  // 0,1K,2K,4K,8K,16K,32K,64K,128K
  size_t bin_of(uint64_t length) const;
};

// "4K", "128K", "1M", "1000" (K = 1024 here: token lengths are powers of two in the paper).
std::string length_label(uint64_t n);

inline constexpr int kPercentiles[] = {25, 50, 75, 90, 95, 99};

struct DomainLengthStats {
  std::string name;
  uint64_t documents = 0, tokens = 0, long_tokens = 0;
  std::vector<uint64_t> percentiles;  // one per kPercentiles, then max
  std::vector<uint64_t> bin_tokens, bin_documents;
  std::vector<std::pair<uint64_t, uint64_t>> length_counts;  // (length, documents), ascending

  double long_token_share() const { return tokens ? static_cast<double>(long_tokens) / tokens : 0.0; }
};

struct StoreLengthStats {
  uint64_t documents = 0, tokens = 0;
  uint64_t long_threshold = 4096;
  LengthBins bins;
  std::vector<DomainLengthStats> domains;  // in the manifest's order
  DomainLengthStats all;                   // every domain together
  // {"documents", "tokens", "long_threshold", "bins": [labels], "domains": {NAME: {...}}, "all": {...}}
  std::string to_json() const;
};

StoreLengthStats compute_length_stats(const store::StoreReader& store, const LengthBins& bins, uint64_t long_threshold = 4096);

}  // namespace longctx::mix
