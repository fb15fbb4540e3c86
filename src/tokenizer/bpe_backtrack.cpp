#include "bpe_backtrack.h"

#include <algorithm>
#include <cassert>

#include "longctx/text/utf8.h"

namespace longctx::tokenizer {

namespace {
constexpr uint32_t kInf = ~0u;
}  // namespace

BpeBacktrack::Arrays BpeBacktrack::arrays() const {
  static_assert(sizeof(Node) == 4 * sizeof(uint32_t));
  return Arrays{rank_.span(), left_.span(), right_.span(), length_.span(), next_prefix_.span(),
                std::span<const uint32_t>(reinterpret_cast<const uint32_t*>(nodes_.data()), nodes_.size() * 4), dense_.span(),
                edge_.span()};
}

BpeBacktrack::BpeBacktrack(const BpeModel& model, const Arrays& a, bool* ok) : model_(model) {
  const size_t n = model.size();
  *ok = false;
  if (a.rank.size() != n || a.left.size() != n || a.right.size() != n || a.length.size() != n ||
      a.next_prefix.size() != n || a.nodes.size() % 4 || a.nodes.empty() || a.edge.size() != a.nodes.size() / 4 ||
      a.dense.size() % 256)
    return;
  const size_t nodes = a.nodes.size() / 4, tables = a.dense.size() / 256;
  auto id = [n](uint32_t v) { return v == kNone || v < n; };
  for (size_t t = 0; t < n; ++t)
    if (!id(a.left[t]) || !id(a.right[t]) || !id(a.next_prefix[t]) ||
        (a.length[t] != 0 && a.length[t] != model.token_bytes(static_cast<uint32_t>(t)).size()))
      return;
  for (size_t i = 0; i < nodes; ++i) {
    const uint32_t first = a.nodes[4 * i], count = a.nodes[4 * i + 1], token = a.nodes[4 * i + 2], dense = a.nodes[4 * i + 3];
    if (first > nodes || count > nodes - first || !id(token) || (dense != kNone && dense >= tables)) return;
  }
  for (const uint32_t c : a.dense)
    if (c != kNone && c >= nodes) return;
  rank_.view(a.rank);
  left_.view(a.left);
  right_.view(a.right);
  length_.view(a.length);
  next_prefix_.view(a.next_prefix);
  nodes_.view(std::span<const Node>(reinterpret_cast<const Node*>(a.nodes.data()), nodes));  // four uint32 each
  edge_.view(a.edge);
  dense_.view(a.dense);
  *ok = true;
}

// Every token's own merge tree, without re-running BPE on each token: a base symbol (one byte, or
// one character for SentencePiece-style models) encodes to itself; a longer token t does iff
// some merge (a, b) -> t, with a and b reachable, is reached without a merge crossing the a|b
// boundary first (spine_walk with the final merge allowed). Shorter tokens are settled first.
BpeBacktrack::BpeBacktrack(const BpeModel& model) : model_(model) {
  const size_t n = model.size();
  rank_.assign(n, kInf);
  left_.assign(n, kNone);
  right_.assign(n, kNone);
  length_.assign(n, 0);
  next_prefix_.assign(n, kNone);
  std::vector<uint8_t> reachable(n, 0);

  // Rules grouped by result (CSR), each group in rank order.
  const std::span<const MergeRule> rules = model.merge_rules();
  std::vector<uint32_t> first(n + 1, 0), by_result(rules.size());
  for (const MergeRule& r : rules) ++first[r.result + 1];
  for (size_t t = 0; t < n; ++t) first[t + 1] += first[t];
  {
    std::vector<uint32_t> fill(first.begin(), first.end() - 1);
    for (uint32_t rank = 0; rank < rules.size(); ++rank) by_result[fill[rules[rank].result]++] = rank;
  }

  // Tokens by byte length (counting sort), so that parts come before wholes.
  size_t max_len = 0;
  for (uint32_t t = 0; t < n; ++t) max_len = std::max(max_len, model.token_bytes(t).size());
  std::vector<uint32_t> start(max_len + 2, 0), order(n);
  for (uint32_t t = 0; t < n; ++t) ++start[model.token_bytes(t).size() + 1];
  for (size_t l = 0; l <= max_len; ++l) start[l + 1] += start[l];
  for (uint32_t t = 0; t < n; ++t) order[start[model.token_bytes(t).size()]++] = t;

  PairCache cache;
  for (const uint32_t t : order) {
    const std::string_view b = model.token_bytes(t);
    if (b.empty()) continue;
    const int char_len = model.options().byte_level ? 1 : text::utf8_len(static_cast<uint8_t>(b[0]));
    if (static_cast<size_t>(char_len) == b.size()) {
      reachable[t] = 1;  // a base symbol
    } else {
      for (uint32_t k = first[t]; k < first[t + 1]; ++k) {
        const uint32_t rank = by_result[k];
        const MergeRule& r = rules[rank];
        if (!reachable[r.left] || !reachable[r.right]) continue;
        const BpeModel::Merge* m = model.find_merge(r.left, r.right);
        if (!m || m->rank != rank) continue;  // a repeated pair: HF keeps the first
        if (!spine_walk(r.left, r.right, /*allow_top=*/true, cache)) continue;
        reachable[t] = 1;
        rank_.mutable_data()[t] = rank;  // spine_walk reads these as the tokens are settled
        left_.mutable_data()[t] = r.left;
        right_.mutable_data()[t] = r.right;
        break;
      }
    }
    if (reachable[t]) length_.mutable_data()[t] = static_cast<uint32_t>(b.size());
  }
  std::vector<uint32_t> tokens;
  for (uint32_t t = 0; t < n; ++t)
    if (reachable[t]) tokens.push_back(t);
  build_trie(tokens);
  for (const uint32_t t : tokens) {
    const std::string_view b = model.token_bytes(t);
    uint32_t node = 0, best = kNone;
    for (size_t i = 0; i + 1 < b.size(); ++i) {
      node = child(node, static_cast<uint8_t>(b[i]));
      if (nodes_[node].token != kNone) best = nodes_[node].token;
    }
    next_prefix_.mutable_data()[t] = best;
  }
}

void BpeBacktrack::build_trie(const std::vector<uint32_t>& reachable_tokens) {
  // Sort by bytes; comparing the first 8 bytes as one big-endian integer settles most pairs.
  struct Key {
    uint64_t prefix;
    uint32_t id;
  };
  std::vector<Key> keys;
  keys.reserve(reachable_tokens.size());
  for (const uint32_t t : reachable_tokens) {
    const std::string_view b = model_.token_bytes(t);
    uint64_t prefix = 0;
    for (size_t i = 0; i < 8; ++i) prefix = (prefix << 8) | (i < b.size() ? static_cast<uint8_t>(b[i]) : 0);
    keys.push_back(Key{prefix, t});
  }
  std::sort(keys.begin(), keys.end(), [&](const Key& a, const Key& b) {
    if (a.prefix != b.prefix) return a.prefix < b.prefix;
    return model_.token_bytes(a.id) < model_.token_bytes(b.id);
  });
  std::vector<uint32_t> order;
  order.reserve(keys.size());
  for (const Key& k : keys) order.push_back(k.id);
  // Breadth-first: each queued node covers the sorted tokens [lo, hi) that share its `depth`-byte
  // prefix; the shortest of them (first in order) may end exactly at the node.
  struct Pending {
    uint32_t node, lo, hi, depth;
  };
  std::vector<Node> nodes(1);
  std::vector<uint8_t> edge(1, 0);
  std::vector<uint32_t> dense;
  std::vector<Pending> queue{{0, 0, static_cast<uint32_t>(order.size()), 0}};
  for (size_t q = 0; q < queue.size(); ++q) {
    const Pending p = queue[q];
    uint32_t lo = p.lo;
    if (lo < p.hi && model_.token_bytes(order[lo]).size() == p.depth) nodes[p.node].token = order[lo++];
    nodes[p.node].first_child = static_cast<uint32_t>(nodes.size());
    while (lo < p.hi) {
      const auto byte = static_cast<uint8_t>(model_.token_bytes(order[lo])[p.depth]);
      uint32_t hi = lo + 1;
      while (hi < p.hi && static_cast<uint8_t>(model_.token_bytes(order[hi])[p.depth]) == byte) ++hi;
      const auto child_index = static_cast<uint32_t>(nodes.size());
      nodes.push_back(Node{});
      edge.push_back(byte);
      ++nodes[p.node].children;
      queue.push_back(Pending{child_index, lo, hi, p.depth + 1});
      lo = hi;
    }
  }
  for (Node& node : nodes) {
    if (node.children < kDenseFrom) continue;
    node.dense = static_cast<uint32_t>(dense.size() / 256);
    dense.resize(dense.size() + 256, kNone);
    for (uint32_t c = node.first_child; c < node.first_child + node.children; ++c) dense[node.dense * 256 + edge[c]] = c;
  }
  nodes_.adopt(std::move(nodes));
  edge_.adopt(std::move(edge));
  dense_.adopt(std::move(dense));
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
bool BpeBacktrack::valid_pair(uint32_t a, uint32_t b, PairCache& cache) const {
  return spine_walk(a, b, /*allow_top=*/false, cache);
}

bool BpeBacktrack::spine_walk(uint32_t a, uint32_t b, bool allow_top, PairCache& cache) const {
  uint32_t ls[64], rs[64];  // spines top-down; tokens are far shorter than 64 symbols deep
  int nl = 0, nr = 0;
  for (uint32_t t = a; t != kNone && nl < 64; t = right_[t]) ls[nl++] = t;
  for (uint32_t t = b; t != kNone && nr < 64; t = left_[t]) rs[nr++] = t;
  int i = nl - 1, j = nr - 1;  // bottom of each spine
  while (true) {
    const uint32_t rho = model_.lookup(ls[i], rs[j], cache).rank;
    const uint32_t next_l = i > 0 ? rank_[ls[i - 1]] : kInf;
    const uint32_t next_r = j > 0 ? rank_[rs[j - 1]] : kInf;
    if (next_l == kInf && next_r == kInf) return allow_top || rho == kInf;
    if (rho != kInf && rho < next_l && rho <= next_r) return false;
    if (next_l <= next_r) {
      --i;
    } else {
      --j;
    }
  }
}

bool BpeBacktrack::valid_pair_memo(uint32_t a, uint32_t b, BpeScratch& scratch) const {
  std::vector<uint64_t>& memo = scratch.pair_memo;
  // Entry: a (31 bits) | result bit | b (32 bits); ids are below 2^31 (the loader checks).
  const uint64_t key = (static_cast<uint64_t>(a) << 33) | b;
  uint64_t& e = memo[mix64(key) & (kPairMemoSize - 1)];
  if ((e & ~(1ULL << 32)) == key) return (e >> 32) & 1;
  const bool v = valid_pair(a, b, scratch.pairs);
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
      if (!stack.empty() && !valid_pair_memo(stack.back(), t, scratch)) continue;
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
