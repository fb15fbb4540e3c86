// Per-domain x length-bin and per-position loss of a model on packed sequences (the paper's
// Table 5 and Figure 3). The loss of a sequence of L tokens is the cross-entropy of its L - 1
// next-token predictions (the `labels` field is not used); a predicted token counts toward the
// domain and document-length bin of the span it lies in, and toward its position bucket.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "longctx/model/model.h"

namespace longctx::eval {

struct LossCell {
  double sum = 0;
  uint64_t tokens = 0;
  double mean() const { return tokens ? sum / static_cast<double>(tokens) : 0.0; }
};

struct LossOptions {
  std::vector<uint64_t> bins = {0, 4096, 131072};  // document-length edges; the last bin is open
  std::vector<uint64_t> positions = {1024, 16384, 32768, 65536, 131072};  // bucket upper edges
  uint64_t max_sequences = 0;  // 0: all
  uint64_t chunk = 256;
};

struct LossResult {
  LossCell all;
  std::map<std::string, std::map<std::string, LossCell>> domains;  // domain -> bin label -> cell
  std::vector<std::pair<std::string, LossCell>> positions;         // bucket label -> cell
  std::vector<std::string> bin_labels;                             // the bins in length order
  uint64_t sequences = 0;
  std::string length_source;  // "store" (document lengths) or "span" (the store was not found)
  std::string to_json() const;
};

LossResult eval_loss(const model::Model& m, const std::string& packed_dir, const LossOptions& o);

}  // namespace longctx::eval
