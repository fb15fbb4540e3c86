#include "bpe_backtrack.h"

#include <algorithm>
#include <cassert>

#include "longctx/text/utf8.h"

namespace longctx::tokenizer {

namespace {
constexpr uint32_t kInf = ~0u;

// BPE of one token's string by the linear scan, recording the last merge applied.
struct OwnEncoding {
  bool single = false;  // the token encodes to itself
  uint32_t rank = kInf, left = kInf, right = kInf;
};

OwnEncoding encode_token(const BpeModel& m, std::string_view bytes, std::vector<uint32_t>& sym,
                         std::vector<uint32_t>& rank, std::vector<uint32_t>& result) {
  OwnEncoding e;
  sym.clear();
  const bool byte_level = m.options().byte_level;
  for (size_t i = 0; i < bytes.size();) {
    const int len = byte_level ? 1 : std::min<int>(text::utf8_len(static_cast<uint8_t>(bytes[i])), bytes.size() - i);
    const uint32_t id = byte_level ? m.byte_id(static_cast<uint8_t>(bytes[i])) : m.token_id(bytes.substr(i, len));
    if (id == StringIdMap::kNone) return e;  // made of characters that are not symbols
    sym.push_back(id);
    i += len;
  }
  // The linear merge of BpeModel, keeping the last merge applied.
  size_t n = sym.size();
  rank.assign(n, kInf);
  result.assign(n, 0);
  auto pair_at = [&](size_t i) {
    const BpeModel::Merge* mg = m.find_merge(sym[i], sym[i + 1]);
    rank[i] = mg ? mg->rank : kInf;
    result[i] = mg ? mg->result : 0;
  };
  for (size_t i = 0; i + 1 < n; ++i) pair_at(i);
  while (n > 1) {
    size_t best = 0;
    for (size_t i = 1; i + 1 < n; ++i)
      if (rank[i] < rank[best]) best = i;
    if (rank[best] == kInf) break;
    e.rank = rank[best];
    e.left = sym[best];
    e.right = sym[best + 1];
    sym[best] = result[best];
    sym.erase(sym.begin() + best + 1);
    rank.erase(rank.begin() + best + 1);
    result.erase(result.begin() + best + 1);
    --n;
    if (best + 1 < n) pair_at(best);
    if (best > 0) pair_at(best - 1);
  }
  e.single = n == 1;
  return e;
}
}  // namespace

BpeBacktrack::BpeBacktrack(const BpeModel& model) : model_(model) {
  const size_t n = model.size();
  rank_.assign(n, kInf);
  left_.assign(n, kNone);
  right_.assign(n, kNone);
  length_.assign(n, 0);
  next_prefix_.assign(n, kNone);
  std::vector<uint8_t> reachable(n, 0);
  std::vector<uint32_t> sym, ranks, results;
  for (uint32_t t = 0; t < n; ++t) {
    const std::string& b = model.token_bytes(t);
    if (b.empty()) continue;
    const OwnEncoding e = encode_token(model, b, sym, ranks, results);
    if (!e.single || sym[0] != t) continue;
    reachable[t] = 1;
    rank_[t] = e.rank;  // kInf for base symbols
    left_[t] = e.left;
    right_[t] = e.right;
    length_[t] = static_cast<uint32_t>(b.size());
  }
  std::vector<uint32_t> tokens;
  for (uint32_t t = 0; t < n; ++t)
    if (reachable[t]) tokens.push_back(t);
  build_trie(tokens);
  for (const uint32_t t : tokens) {
    const std::string& b = model.token_bytes(t);
    uint32_t node = 0, best = kNone;
    for (size_t i = 0; i + 1 < b.size(); ++i) {
      node = child(node, static_cast<uint8_t>(b[i]));
      if (nodes_[node].token != kNone) best = nodes_[node].token;
    }
    next_prefix_[t] = best;
  }
}

void BpeBacktrack::build_trie(const std::vector<uint32_t>& reachable_tokens) {
  std::vector<std::string_view> keys;
  std::vector<uint32_t> order(reachable_tokens);
  std::sort(order.begin(), order.end(),
            [&](uint32_t a, uint32_t b) { return model_.token_bytes(a) < model_.token_bytes(b); });
  // Breadth-first: each queued node covers the sorted tokens [lo, hi) that share its `depth`-byte
  // prefix; the shortest of them (first in order) may end exactly at the node.
  struct Pending {
    uint32_t node, lo, hi, depth;
  };
  nodes_.assign(1, Node{});
  edge_.assign(1, 0);
  std::vector<Pending> queue{{0, 0, static_cast<uint32_t>(order.size()), 0}};
  for (size_t q = 0; q < queue.size(); ++q) {
    const Pending p = queue[q];
    uint32_t lo = p.lo;
    if (lo < p.hi && model_.token_bytes(order[lo]).size() == p.depth) nodes_[p.node].token = order[lo++];
    nodes_[p.node].first_child = static_cast<uint32_t>(nodes_.size());
    while (lo < p.hi) {
      const auto byte = static_cast<uint8_t>(model_.token_bytes(order[lo])[p.depth]);
      uint32_t hi = lo + 1;
      while (hi < p.hi && static_cast<uint8_t>(model_.token_bytes(order[hi])[p.depth]) == byte) ++hi;
      const auto child_index = static_cast<uint32_t>(nodes_.size());
      nodes_.push_back(Node{});
      edge_.push_back(byte);
      ++nodes_[p.node].children;
      queue.push_back(Pending{child_index, lo, hi, p.depth + 1});
      lo = hi;
    }
  }
  std::fill(std::begin(root_child_), std::end(root_child_), kNone);
  for (uint32_t c = nodes_[0].first_child; c < nodes_[0].first_child + nodes_[0].children; ++c) root_child_[edge_[c]] = c;
}

uint32_t BpeBacktrack::symbol_at(const char* p, const char* end, int* len) const {
  *len = model_.options().byte_level ? 1 : std::min<int>(text::utf8_len(static_cast<uint8_t>(*p)), end - p);
  uint32_t node = 0;
  for (int i = 0; i < *len; ++i) {
    node = child(node, static_cast<uint8_t>(p[i]));
    if (node == kNone) return kNone;
  }
  return nodes_[node].token;
}

uint32_t BpeBacktrack::longest_match(const char* p, const char* end) const {
  uint32_t node = 0, best = kNone;
  while (p < end) {
    node = child(node, static_cast<uint8_t>(*p++));
    if (node == kNone) break;
    if (nodes_[node].token != kNone) best = nodes_[node].token;
  }
  return best;
}

// Bottom-up over the two spines: L runs up a's right spine (each step is the merge that makes
// the next spine token, at that token's rank), R up b's left spine. The merge across the
// boundary, (L, R) at rank rho, fires while L and R are still there iff it comes before L's next
// change (rho < rank; on a tie the spine merge is further left and goes first) and no later than
// R's next change (rho <= rank; on a tie the cross merge is further left). If it ever fires the
// pair is not compatible; if both spines run out without it firing, it is.
bool BpeBacktrack::valid_pair(uint32_t a, uint32_t b) const {
  uint32_t ls[64], rs[64];  // spines top-down; tokens are far shorter than 64 symbols deep
  int nl = 0, nr = 0;
  for (uint32_t t = a; t != kNone && nl < 64; t = right_[t]) ls[nl++] = t;
  for (uint32_t t = b; t != kNone && nr < 64; t = left_[t]) rs[nr++] = t;
  int i = nl - 1, j = nr - 1;  // bottom of each spine
  while (true) {
    const BpeModel::Merge* m = model_.find_merge(ls[i], rs[j]);
    const uint32_t rho = m ? m->rank : kInf;
    const uint32_t next_l = i > 0 ? rank_[ls[i - 1]] : kInf;
    const uint32_t next_r = j > 0 ? rank_[rs[j - 1]] : kInf;
    if (rho != kInf && rho < next_l && rho <= next_r) return false;
    if (next_l == kInf && next_r == kInf) return true;
    if (next_l <= next_r) {
      --i;
    } else {
      --j;
    }
  }
}

bool BpeBacktrack::valid_pair_memo(uint32_t a, uint32_t b, std::vector<uint64_t>& memo) const {
  // Entry: a (31 bits) | result bit | b (32 bits); ids are below 2^31 (the loader checks).
  const uint64_t key = (static_cast<uint64_t>(a) << 33) | b;
  uint64_t& e = memo[mix64(key) & (kPairMemoSize - 1)];
  if ((e & ~(1ULL << 32)) == key) return (e >> 32) & 1;
  const bool v = valid_pair(a, b);
  e = key | (static_cast<uint64_t>(v) << 32);
  return v;
}

void BpeBacktrack::encode(std::string_view s, std::vector<uint32_t>& out, BpeScratch& scratch) const {
  const char* base = s.data();
  const char* end = base + s.size();
  const size_t n = s.size();
  std::vector<uint64_t>& dead = scratch.dead;
  dead.assign((n + 64) / 64, 0);
  if (scratch.pair_memo.size() != kPairMemoSize) scratch.pair_memo.assign(kPairMemoSize, ~0ULL);
  auto is_dead = [&](size_t p) { return (dead[p >> 6] >> (p & 63)) & 1; };
  std::vector<uint32_t>& stack = scratch.stack;
  stack.clear();
  size_t pos = 0;
  uint32_t cand = longest_match(base, end);
  while (pos < n) {
    bool pushed = false;
    for (uint32_t t = cand; t != kNone; t = next_prefix_[t]) {
      const size_t stop = pos + length_[t];
      if (stop < n && is_dead(stop)) continue;
      if (!stack.empty() && !valid_pair_memo(stack.back(), t, scratch.pair_memo)) continue;
      stack.push_back(t);
      pos = stop;
      pushed = true;
      break;
    }
    if (pushed) {
      if (pos < n) cand = longest_match(base + pos, end);
      continue;
    }
    // Nothing fits after the current prefix: this position is no token boundary. Back up.
    assert(!stack.empty());
    dead[pos >> 6] |= 1ULL << (pos & 63);
    const uint32_t prev = stack.back();
    stack.pop_back();
    pos -= length_[prev];
    cand = next_prefix_[prev];
  }
  out.insert(out.end(), stack.begin(), stack.end());
}

}  // namespace longctx::tokenizer
