// Where every token of every packed sequence comes from, computed once, before any writing (so
// that shards can be written in parallel and the bytes do not depend on the thread count).
#pragma once

#include <cstdint>
#include <vector>

#include "longctx/mix/plan.h"

namespace longctx::pack {

// Tokens [off, off + len) of plan entry `entry` (itself a piece of a stored document).
struct Segment {
  uint64_t entry;
  uint32_t off, len;
};

struct Layout {
  uint64_t seq_len = 0, sequences = 0;
  std::vector<Segment> segments;
  std::vector<uint64_t> first;  // segments[first[s], first[s+1]) fill sequence s, in order
  // The token after sequence s (the paper's "labels"): an (entry, offset) or none (-1: padded).
  std::vector<int64_t> label_entry;
  std::vector<uint32_t> label_off;
  uint64_t dropped_tokens = 0;  // the tail that made no full sequence
};

// The paper's packing: entries in `order`, back to back, cut every seq_len tokens. Without
// padding a sequence is emitted only when the token after it exists (its label), as the paper's
// packer; with padding the last partial sequence is kept.
Layout concat_layout(const std::vector<mix::PlanEntry>& entries, const std::vector<uint64_t>& order, uint64_t seq_len, bool pad);

// Best fit: entries longer than seq_len are cut into seq_len pieces (plus the rest); every piece
// goes whole into the open sequence with the least room that still fits it (a new one if none),
// so no document crosses a sequence edge. Sequences in the order they were opened; all padded.
Layout best_fit_layout(const std::vector<mix::PlanEntry>& entries, const std::vector<uint64_t>& order, uint64_t seq_len);

}  // namespace longctx::pack
