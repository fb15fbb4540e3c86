// Token budgets in whole tokens: a request apportioned over domains by their target shares so that
// the budgets sum to the request exactly (docs/formats/plan.md, "Exact budgets"). Private to mix.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "longctx/store/store.h"

namespace longctx::mix {

// Integer budgets summing to `total` exactly, each within one token of total × share (the
// largest-remainder method): the floors, then one token more to the largest remainders, ties to
// the lower domain index. A domain with no share gets nothing.
struct Quota {
  uint64_t floor = 0;
  double remainder = 0;  // in [0, 1)
};
inline std::vector<uint64_t> apportion(uint64_t total, const std::vector<Quota>& q, const std::vector<double>& shares) {
  std::vector<uint64_t> out(q.size());
  uint64_t given = 0;
  for (size_t d = 0; d < q.size(); ++d) given += out[d] = q[d].floor;
  std::vector<size_t> order;
  for (size_t d = 0; d < q.size(); ++d)
    if (shares[d] > 0) order.push_back(d);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return q[a].remainder > q[b].remainder; });
  // One round gives at most one token per domain; the modulo only guards against floors that
  // floating point left short by more than that (shares sum to 1, so they never are).
  for (size_t i = 0; given < total && !order.empty(); ++i, ++given) ++out[order[i % order.size()]];
  return out;
}

// Natural shares in exact integer arithmetic: quota = total × domain tokens / store tokens, so a
// budget is the store's share to the token however large the store and the request.
inline std::vector<uint64_t> natural_budgets(const store::Manifest& m, uint64_t total, const std::vector<double>& shares) {
  __extension__ using u128 = unsigned __int128;  // GCC/Clang: total × tokens needs up to 128 bits
  std::vector<Quota> q(m.domains.size());
  for (size_t d = 0; d < q.size() && m.tokens > 0; ++d) {
    const u128 x = static_cast<u128>(total) * m.domains[d].tokens;
    q[d] = {static_cast<uint64_t>(x / m.tokens), static_cast<double>(static_cast<uint64_t>(x % m.tokens)) / m.tokens};
  }
  return apportion(total, q, shares);
}

// Shares given as numbers (slimpajama, NAME=x, upsample's renormalised weights): quota =
// share × total in double precision, exact to well below a token for any realistic request.
inline std::vector<uint64_t> share_budgets(uint64_t total, const std::vector<double>& shares) {
  std::vector<Quota> q(shares.size());
  for (size_t d = 0; d < q.size(); ++d) {
    const double x = shares[d] * static_cast<double>(total);
    q[d] = {static_cast<uint64_t>(std::floor(x)), x - std::floor(x)};
  }
  return apportion(total, q, shares);
}

}  // namespace longctx::mix
