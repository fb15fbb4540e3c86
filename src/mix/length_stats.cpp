#include "longctx/mix/length_stats.h"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "longctx/util/error.h"
#include "longctx/util/size.h"

namespace longctx::mix {
namespace {

void finish(DomainLengthStats& d, const LengthBins& bins, uint64_t long_threshold,
            const std::unordered_map<uint64_t, uint64_t>& counts) {
  d.length_counts.assign(counts.begin(), counts.end());
  std::sort(d.length_counts.begin(), d.length_counts.end());
  d.bin_tokens.assign(bins.edges.size(), 0);
  d.bin_documents.assign(bins.edges.size(), 0);
  d.percentiles.clear();
  size_t next_p = 0;
  uint64_t cum = 0;
  for (const auto& [len, n] : d.length_counts) {
    const uint64_t t = len * n;
    const size_t b = bins.bin_of(len);
    d.bin_tokens[b] += t;
    d.bin_documents[b] += n;
    if (len > long_threshold) d.long_tokens += t;
    cum += t;
    // p-th percentile: the first length at which the cumulative tokens reach p% (integer test:
    // cum * 100 >= p * tokens, no rounding).
    while (next_p < std::size(kPercentiles) && cum * 100 >= static_cast<uint64_t>(kPercentiles[next_p]) * d.tokens) {
      d.percentiles.push_back(len);
      ++next_p;
    }
  }
  while (d.percentiles.size() < std::size(kPercentiles)) d.percentiles.push_back(0);  // empty domain
  d.percentiles.push_back(d.length_counts.empty() ? 0 : d.length_counts.back().first);
}

nlohmann::ordered_json domain_json(const DomainLengthStats& d, const StoreLengthStats& s) {
  nlohmann::ordered_json j;
  j["documents"] = d.documents;
  j["tokens"] = d.tokens;
  j["token_share"] = s.tokens ? static_cast<double>(d.tokens) / s.tokens : 0.0;
  j["long_tokens"] = d.long_tokens;
  j["long_token_share"] = d.long_token_share();
  j["percentiles"] = nlohmann::ordered_json::object();
  for (size_t i = 0; i < std::size(kPercentiles); ++i) j["percentiles"]["p" + std::to_string(kPercentiles[i])] = d.percentiles[i];
  j["percentiles"]["max"] = d.percentiles.back();
  j["bins"] = nlohmann::ordered_json::object();
  j["bin_documents"] = nlohmann::ordered_json::object();
  for (size_t b = 0; b < s.bins.labels.size(); ++b) {
    j["bins"][s.bins.labels[b]] = d.tokens ? static_cast<double>(d.bin_tokens[b]) / d.tokens : 0.0;
    j["bin_documents"][s.bins.labels[b]] = d.bin_documents[b];
  }
  return j;
}

}  // namespace

std::string length_label(uint64_t n) {
  // In parse_size's grammar (K = 1024, M = 10^6), so a label reads back to its number.
  if (n > 0 && n % 1024 == 0) return std::to_string(n / 1024) + "K";
  if (n > 0 && n % 1'000'000 == 0) return std::to_string(n / 1'000'000) + "M";
  return std::to_string(n);
}

LengthBins LengthBins::parse(const std::string& spec) {
  LengthBins b;
  size_t start = 0;
  while (start <= spec.size()) {
    const size_t comma = spec.find(',', start);
    const std::string part = spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    b.edges.push_back(parse_size(part, "--bins " + spec));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (b.edges.empty() || b.edges[0] != 0) throw Error("--bins " + spec + ": expected the first edge to be 0");
  for (size_t i = 1; i < b.edges.size(); ++i)
    if (b.edges[i] <= b.edges[i - 1]) throw Error("--bins " + spec + ": expected ascending edges");
  for (size_t i = 0; i < b.edges.size(); ++i)
    b.labels.push_back(i + 1 < b.edges.size() ? length_label(b.edges[i]) + "-" + length_label(b.edges[i + 1])
                                              : length_label(b.edges[i]) + "+");
  return b;
}

LengthBins LengthBins::paper() { return parse("0,1K,2K,4K,8K,16K,32K,64K,128K"); }

size_t LengthBins::bin_of(uint64_t length) const {
  return static_cast<size_t>(std::upper_bound(edges.begin(), edges.end(), length) - edges.begin()) - 1;
}

StoreLengthStats compute_length_stats(const store::StoreReader& store, const LengthBins& bins, uint64_t long_threshold) {
  StoreLengthStats s;
  s.bins = bins;
  s.long_threshold = long_threshold;
  const auto& m = store.manifest();
  std::vector<std::unordered_map<uint64_t, uint64_t>> counts(m.domains.size());
  std::unordered_map<uint64_t, uint64_t> all_counts;
  s.domains.resize(m.domains.size());
  for (size_t i = 0; i < m.domains.size(); ++i) s.domains[i].name = m.domains[i].name;
  const auto lengths = store.data().lengths();
  const auto docs = store.docs();
  for (size_t i = 0; i < docs.size(); ++i) {
    const auto len = static_cast<uint64_t>(lengths[i]);
    auto& d = s.domains[docs[i].domain];
    ++d.documents;
    d.tokens += len;
    ++counts[docs[i].domain][len];
    ++all_counts[len];
  }
  s.all.name = "all";
  for (size_t i = 0; i < s.domains.size(); ++i) {
    finish(s.domains[i], bins, long_threshold, counts[i]);
    s.all.documents += s.domains[i].documents;
    s.all.tokens += s.domains[i].tokens;
  }
  finish(s.all, bins, long_threshold, all_counts);
  s.documents = s.all.documents;
  s.tokens = s.all.tokens;
  return s;
}

std::string StoreLengthStats::to_json() const {
  nlohmann::ordered_json j;
  j["documents"] = documents;
  j["tokens"] = tokens;
  j["long_threshold"] = long_threshold;
  j["bins"] = bins.labels;
  j["domains"] = nlohmann::ordered_json::object();
  for (const auto& d : domains) j["domains"][d.name] = domain_json(d, *this);
  j["all"] = domain_json(all, *this);
  return j.dump(2) + "\n";
}

}  // namespace longctx::mix
