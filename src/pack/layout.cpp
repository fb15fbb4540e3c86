#include "layout.h"

#include <map>

namespace longctx::pack {

Layout concat_layout(const std::vector<mix::PlanEntry>& entries, std::vector<uint64_t> order, uint64_t seq_len, bool pad) {
  Layout l;
  l.seq_len = seq_len;
  l.concat = true;
  uint64_t total = 0;
  for (const auto& e : entries) total += e.length;
  l.sequences = pad ? (total + seq_len - 1) / seq_len : (total > 0 ? (total - 1) / seq_len : 0);
  l.dropped_tokens = total - std::min(total, l.sequences * seq_len);
  // Sequence s starts at token s L of the concatenation; s = sequences is the label of the last
  // one. A start never falls on an empty entry (it would have fallen on an earlier one).
  l.start_pos.assign(l.sequences + 1, order.size());
  l.start_off.assign(l.sequences + 1, 0);
  uint64_t before = 0, s = 0;  // tokens of the entries before order[i]
  for (uint64_t i = 0; i < order.size() && s <= l.sequences; ++i) {
    const uint64_t len = entries[order[i]].length;
    for (; s <= l.sequences && s * seq_len < before + len; ++s) {
      l.start_pos[s] = i;
      l.start_off[s] = static_cast<uint32_t>(s * seq_len - before);
    }
    before += len;
  }
  l.order = std::move(order);
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
  return l;
}

}  // namespace longctx::pack
