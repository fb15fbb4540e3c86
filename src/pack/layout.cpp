#include "layout.h"

#include <map>

namespace longctx::pack {

Layout concat_layout(const std::vector<mix::PlanEntry>& entries, const std::vector<uint64_t>& order, uint64_t seq_len, bool pad) {
  Layout l;
  l.seq_len = seq_len;
  uint64_t total = 0;
  for (const auto& e : entries) total += e.length;
  l.sequences = pad ? (total + seq_len - 1) / seq_len : (total > 0 ? (total - 1) / seq_len : 0);
  l.dropped_tokens = total - std::min(total, l.sequences * seq_len);
  l.first.push_back(0);
  uint64_t fill = 0;  // tokens in the current sequence
  for (const uint64_t k : order) {
    const auto& e = entries[k];
    uint32_t off = 0;
    while (off < e.length) {
      if (l.first.size() - 1 == l.sequences) {
        // The token right after the last sequence: its label.
        if (l.label_entry.size() < l.sequences) {
          l.label_entry.push_back(static_cast<int64_t>(k));
          l.label_off.push_back(off);
        }
        return l;
      }
      const auto take = static_cast<uint32_t>(std::min<uint64_t>(e.length - off, seq_len - fill));
      // The first token of sequence s > 0 is the label of sequence s - 1.
      if (fill == 0 && l.first.size() > 1) {
        l.label_entry.push_back(static_cast<int64_t>(k));
        l.label_off.push_back(off);
      }
      l.segments.push_back({k, off, take});
      off += take;
      fill += take;
      if (fill == seq_len) {
        l.first.push_back(l.segments.size());
        fill = 0;
      }
    }
  }
  if (fill > 0) l.first.push_back(l.segments.size());  // the padded last sequence
  while (l.label_entry.size() < l.sequences) {
    l.label_entry.push_back(-1);
    l.label_off.push_back(0);
  }
  return l;
}

Layout best_fit_layout(const std::vector<mix::PlanEntry>& entries, const std::vector<uint64_t>& order, uint64_t seq_len) {
  std::vector<std::vector<Segment>> bins;
  std::multimap<uint64_t, size_t> open;  // room left -> bin (ties: the earlier bin first)
  for (const uint64_t k : order) {
    const auto& e = entries[k];
    for (uint32_t off = 0; off < e.length;) {
      const auto len = static_cast<uint32_t>(std::min<uint64_t>(e.length - off, seq_len));
      auto it = open.lower_bound(len);
      size_t b;
      uint64_t room;
      if (it == open.end()) {
        b = bins.size();
        bins.emplace_back();
        room = seq_len;
      } else {
        b = it->second;
        room = it->first;
        open.erase(it);
      }
      bins[b].push_back({k, off, len});
      if (room - len > 0) open.emplace(room - len, b);
      off += len;
    }
  }
  Layout l;
  l.seq_len = seq_len;
  l.sequences = bins.size();
  l.first.push_back(0);
  for (const auto& b : bins) {
    l.segments.insert(l.segments.end(), b.begin(), b.end());
    l.first.push_back(l.segments.size());
  }
  l.label_entry.assign(l.sequences, -1);
  l.label_off.assign(l.sequences, 0);
  return l;
}

}  // namespace longctx::pack
