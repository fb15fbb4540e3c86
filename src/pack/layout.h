// Where every token of every packed sequence comes from, computed once, before any writing (so
// that shards can be written in parallel and the bytes do not depend on the thread count).
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "longctx/mix/plan.h"

namespace longctx::pack {

// Tokens [off, off + len) of plan entry `entry` (itself a piece of a stored document).
struct Segment {
  uint64_t entry;
  uint32_t off, len;
};

// Two representations, one interface (segments_of, label_of). Concatenation keeps only the entry
// order and where each sequence starts in it: 8 bytes a planned entry and 12 a sequence, rather
// than a 16-byte segment per piece, which for plans of many short documents was most of pack's
// memory. Best fit rearranges pieces freely, so it lists them.
struct Layout {
  uint64_t seq_len = 0, sequences = 0;
  bool concat = false;
  // Concatenation: entries in `order`, back to back; sequence s starts at token start_off[s] of
  // entry order[start_pos[s]]. Index `sequences` is the token after the last sequence (its label)
  // when there is one; start_pos == order.size() where there is none (padding).
  std::vector<uint64_t> order, start_pos;
  std::vector<uint32_t> start_off;
  // Best fit: segments[first[s], first[s+1]) fill sequence s, in order.
  std::vector<Segment> segments;
  std::vector<uint64_t> first;
  uint64_t dropped_tokens = 0;  // the tail that made no full sequence

  // Calls f(Segment) for the pieces of sequence s in order (at most seq_len tokens; fewer: padded).
  template <class F>
  void segments_of(uint64_t s, const std::vector<mix::PlanEntry>& entries, F&& f) const {
    if (!concat) {
      for (uint64_t i = first[s]; i < first[s + 1]; ++i) f(segments[i]);
      return;
    }
    uint64_t i = start_pos[s], left = seq_len;
    uint32_t off = start_off[s];
    for (; left > 0 && i < order.size(); ++i, off = 0) {
      const auto& e = entries[order[i]];
      const auto take = static_cast<uint32_t>(std::min<uint64_t>(e.length - off, left));
      if (take == 0) continue;  // an empty entry
      f(Segment{order[i], off, take});
      left -= take;
      if (off + take < e.length) break;  // the sequence is full inside this entry
    }
  }

  // The token after sequence s (the paper's "labels"): (entry, offset), or entry -1 (padded).
  std::pair<int64_t, uint32_t> label_of(uint64_t s) const {
    if (!concat || start_pos[s + 1] >= order.size()) return {-1, 0};
    return {static_cast<int64_t>(order[start_pos[s + 1]]), start_off[s + 1]};
  }
};

// The paper's packing: entries in `order`, back to back, cut every seq_len tokens. Without
// padding a sequence is emitted only when the token after it exists (its label), as the paper's
// packer; with padding the last partial sequence is kept.
Layout concat_layout(const std::vector<mix::PlanEntry>& entries, std::vector<uint64_t> order, uint64_t seq_len, bool pad);

// Best fit: entries longer than seq_len are cut into seq_len pieces (plus the rest); every piece
// goes whole into the open sequence with the least room that still fits it (a new one if none),
// so no document crosses a sequence edge. Sequences in the order they were opened; all padded.
Layout best_fit_layout(const std::vector<mix::PlanEntry>& entries, const std::vector<uint64_t>& order, uint64_t seq_len);

}  // namespace longctx::pack
