// The tiled attention (attention.cpp) against plain loops: the forward against attention_reference
// (float, the engine's --reference path), the backward against gradients derived here in double,
// over causal / sliding-window / document masks, soft-capping, GQA, a KV cache (p0 > 0) and tile
// sizes that do and do not divide the lengths.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "longctx/model/attention.h"

namespace longctx::model {
namespace {

constexpr uint64_t kH = 4, kKV = 2, kHd = 16;
// q and k this large make scale * q.k spread over about +-15, so a cap of 2 changes almost every
// score and the softmax is peaked (the hard case for an online softmax).
constexpr float kQKAmp = 4.0f;

struct Case {
  uint64_t T, p0, window;
  float softcap;
  bool docs;
  uint64_t bq, bk;
};

std::string describe(const Case& c) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "T=%llu p0=%llu window=%llu softcap=%g docs=%d bq=%llu bk=%llu", (unsigned long long)c.T,
                (unsigned long long)c.p0, (unsigned long long)c.window, c.softcap, c.docs ? 1 : 0, (unsigned long long)c.bq,
                (unsigned long long)c.bk);
  return buf;
}

std::vector<float> uniform(uint64_t n, float amp, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-amp, amp);
  std::vector<float> x(n);
  for (auto& e : x) e = u(rng);
  return x;
}

// doc_start[r] for query rows r (position p0 + r): several documents of random lengths (some of one
// token) over positions [0, p0 + T), so boundaries fall inside tiles, on them, and before p0.
std::vector<uint32_t> make_docs(uint64_t p0, uint64_t T, std::mt19937& rng) {
  const uint64_t n = p0 + T;
  std::vector<uint32_t> start_of(n, 0);
  std::uniform_int_distribution<uint64_t> len(1, std::max<uint64_t>(1, n / 4));
  uint64_t s = 0, next = 0;
  for (uint64_t p = 0; p < n; ++p) {
    if (p == next) {
      s = p;
      next = p + (p % 7 == 3 ? 1 : len(rng));  // an occasional one-token document
    }
    start_of[p] = static_cast<uint32_t>(s);
  }
  return std::vector<uint32_t>(start_of.begin() + static_cast<long>(p0), start_of.end());
}

std::vector<Case> grid(const std::vector<uint64_t>& Ts, const std::vector<uint64_t>& p0s) {
  std::vector<Case> cases;
  for (uint64_t T : Ts)
    for (uint64_t p0 : p0s)
      for (uint64_t w : {0, 1, 5, 64, 300, 1000})
        for (float cap : {0.0f, 2.0f})
          for (bool docs : {false, true})
            for (auto [bq, bk] : {std::pair<uint64_t, uint64_t>{16, 32}, std::pair<uint64_t, uint64_t>{64, 256}})
              cases.push_back({T, p0, w, cap, docs, bq, bk});
  return cases;
}

AttnShape shape_of(const Case& c) {
  AttnShape a{c.T, kH, kKV, kHd, 1.0f / std::sqrt(static_cast<float>(kHd))};
  a.p0 = c.p0;
  a.bq = c.bq;
  a.bk = c.bk;
  a.window = c.window;
  a.softcap = c.softcap;
  return a;
}

TEST(Attention, ScoresAreLargeEnoughForTheCapToClip) {
  std::mt19937 rng(1);
  const auto q = uniform(64 * kH * kHd, kQKAmp, rng), k = uniform(64 * kKV * kHd, kQKAmp, rng);
  float mx = 0;
  for (uint64_t r = 0; r < 64; ++r)
    for (uint64_t j = 0; j < 64; ++j) {
      float dot = 0;
      for (uint64_t i = 0; i < kHd; ++i) dot += q[r * kH * kHd + i] * k[j * kKV * kHd + i];
      mx = std::max(mx, std::fabs(dot) / std::sqrt(static_cast<float>(kHd)));
    }
  EXPECT_GT(mx, 10.0f);
}

TEST(Attention, ForwardMatchesReference) {
  double worst_o = 0, worst_lse = 0;
  AttnScratch scratch;  // shared across cases on purpose: stale contents must not leak in
  for (const Case& c : grid({1, 63, 300, 600}, {0, 37})) {
    SCOPED_TRACE(describe(c));
    std::mt19937 rng(static_cast<uint32_t>(c.T * 131 + c.p0 * 7 + c.window));
    const uint64_t n = c.p0 + c.T;
    const auto q = uniform(c.T * kH * kHd, kQKAmp, rng), k = uniform(n * kKV * kHd, kQKAmp, rng), v = uniform(n * kKV * kHd, 1.0f, rng);
    const auto docs = make_docs(c.p0, c.T, rng);
    const uint32_t* ds = c.docs ? docs.data() : nullptr;
    const AttnShape a = shape_of(c);
    std::vector<float> o(c.T * kH * kHd, NAN), o_ref(c.T * kH * kHd, NAN), lse(c.T), lse_ref(c.T);
    for (uint64_t h = 0; h < kH; ++h) {
      attention_forward(q.data(), k.data(), v.data(), o.data(), lse.data(), ds, a, h, scratch);
      attention_reference(q.data(), k.data(), v.data(), o_ref.data(), lse_ref.data(), ds, a, h);
      double err_o = 0, err_lse = 0;
      for (uint64_t r = 0; r < c.T; ++r) {
        for (uint64_t i = 0; i < kHd; ++i) {
          const uint64_t at = r * kH * kHd + h * kHd + i;
          ASSERT_TRUE(std::isfinite(o[at])) << "row " << r << " head " << h;
          err_o = std::max(err_o, static_cast<double>(std::fabs(o[at] - o_ref[at])));
        }
        err_lse = std::max(err_lse, std::fabs(lse[r] - lse_ref[r]) / std::max(1.0, std::fabs(double(lse_ref[r]))));
      }
      EXPECT_LE(err_o, 1e-5) << "head " << h;
      EXPECT_LE(err_lse, 1e-5) << "head " << h;
      worst_o = std::max(worst_o, err_o);
      worst_lse = std::max(worst_lse, err_lse);
    }
  }
  std::printf("forward: max |o - ref| = %.3g, max lse error (relative beyond 1) = %.3g\n", worst_o, worst_lse);
}

// Gradients of sum(dO * O) in double, straight from the definition, one head at a time; dk and dv
// sum the heads of each KV group. The tiled backward is given the tiled forward's o and lse, as in
// training, so this also checks that what the forward saves is what the backward needs.
void reference_backward(const std::vector<float>& q, const std::vector<float>& k, const std::vector<float>& v,
                        const std::vector<float>& dout, const uint32_t* ds, const AttnShape& a, std::vector<double>& dq,
                        std::vector<double>& dk, std::vector<double>& dv) {
  const uint64_t T = a.T, hd = a.hd, ldq = a.H * hd, ldk = a.KV * hd;
  dq.assign(T * ldq, 0.0);
  dk.assign(T * ldk, 0.0);
  dv.assign(T * ldk, 0.0);
  std::vector<double> S(T * T), P(T * T), O(T * hd);
  std::vector<char> mask(T * T);
  for (uint64_t h = 0; h < a.H; ++h) {
    const uint64_t g = h / (a.H / a.KV);
    for (uint64_t r = 0; r < T; ++r) {
      double mx = -std::numeric_limits<double>::infinity();
      for (uint64_t j = 0; j < T; ++j) {
        const bool vis = j <= r && (a.window == 0 || j + a.window > r) && (!ds || j >= ds[r]);
        mask[r * T + j] = vis;
        if (!vis) continue;
        double dot = 0;
        for (uint64_t i = 0; i < hd; ++i) dot += double(q[r * ldq + h * hd + i]) * double(k[j * ldk + g * hd + i]);
        double s = dot * double(a.scale);
        if (a.softcap > 0) s = a.softcap * std::tanh(s / a.softcap);
        S[r * T + j] = s;
        mx = std::max(mx, s);
      }
      double sum = 0;
      for (uint64_t j = 0; j < T; ++j) sum += P[r * T + j] = mask[r * T + j] ? std::exp(S[r * T + j] - mx) : 0.0;
      for (uint64_t j = 0; j < T; ++j) P[r * T + j] /= sum;
      for (uint64_t i = 0; i < hd; ++i) {
        double acc = 0;
        for (uint64_t j = 0; j < T; ++j) acc += P[r * T + j] * v[j * ldk + g * hd + i];
        O[r * hd + i] = acc;
      }
    }
    for (uint64_t r = 0; r < T; ++r) {
      const float* dO = &dout[r * ldq + h * hd];
      double D = 0;
      for (uint64_t i = 0; i < hd; ++i) D += dO[i] * O[r * hd + i];
      for (uint64_t j = 0; j < T; ++j) {
        if (!mask[r * T + j]) continue;
        const double p = P[r * T + j];
        double dp = 0;
        for (uint64_t i = 0; i < hd; ++i) {
          dp += double(dO[i]) * v[j * ldk + g * hd + i];
          dv[j * ldk + g * hd + i] += p * dO[i];
        }
        double dsc = p * (dp - D);
        if (a.softcap > 0) {
          const double t = S[r * T + j] / a.softcap;
          dsc *= 1 - t * t;
        }
        dsc *= a.scale;
        for (uint64_t i = 0; i < hd; ++i) {
          dq[r * ldq + h * hd + i] += dsc * k[j * ldk + g * hd + i];
          dk[j * ldk + g * hd + i] += dsc * q[r * ldq + h * hd + i];
        }
      }
    }
  }
}

// max |got - want| over max |want|. Where every row sees a single key (T = 1, window = 1) the
// exact dq and dk are zero (dS = P (dP - D) with P = 1, dP = D), and all that is left is rounding:
// those cases are measured against 1 (the size of the inputs) instead, not as an infinite relative error.
double rel_err(const std::vector<float>& got, const std::vector<double>& want, double floor) {
  double mx = 0, err = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    mx = std::max(mx, std::fabs(want[i]));
    err = std::max(err, std::fabs(got[i] - want[i]));
  }
  return err / std::max(mx, floor);
}

// The tiled forward (o, lse with the [H, T] layout the backward reads) and backward over all groups.
void tiled_grads(const std::vector<float>& q, const std::vector<float>& k, const std::vector<float>& v, const std::vector<float>& dout,
                 const uint32_t* ds, const AttnShape& a, AttnScratch& scratch, std::vector<float>& dq, std::vector<float>& dk,
                 std::vector<float>& dv, bool groups_backwards = false) {
  std::vector<float> o(a.T * a.H * a.hd), lse(a.H * a.T);
  for (uint64_t h = 0; h < a.H; ++h) attention_forward(q.data(), k.data(), v.data(), o.data(), lse.data() + h * a.T, ds, a, h, scratch);
  dq.assign(q.size(), 0.0f);
  dk.assign(k.size(), 0.0f);
  dv.assign(v.size(), 0.0f);
  for (uint64_t i = 0; i < a.KV; ++i) {
    const uint64_t g = groups_backwards ? a.KV - 1 - i : i;
    attention_backward(q.data(), k.data(), v.data(), o.data(), dout.data(), lse.data(), dq.data(), dk.data(), dv.data(), ds, a, g, scratch);
  }
}

TEST(Attention, BackwardMatchesDoubleReference) {
  double worst[3] = {0, 0, 0};
  AttnScratch scratch;
  for (const Case& c : grid({1, 63, 200}, {0})) {
    SCOPED_TRACE(describe(c));
    std::mt19937 rng(static_cast<uint32_t>(c.T * 977 + c.window * 3 + (c.docs ? 1 : 0)));
    const auto q = uniform(c.T * kH * kHd, kQKAmp, rng), k = uniform(c.T * kKV * kHd, kQKAmp, rng), v = uniform(c.T * kKV * kHd, 1.0f, rng);
    const auto dout = uniform(c.T * kH * kHd, 1.0f, rng);
    const auto docs = make_docs(0, c.T, rng);
    const uint32_t* ds = c.docs ? docs.data() : nullptr;
    const AttnShape a = shape_of(c);
    std::vector<float> dq, dk, dv;
    tiled_grads(q, k, v, dout, ds, a, scratch, dq, dk, dv);
    std::vector<double> rq, rk, rv;
    reference_backward(q, k, v, dout, ds, a, rq, rk, rv);
    const double floor = c.T == 1 || c.window == 1 ? 1.0 : 0.0;
    const double e[3] = {rel_err(dq, rq, floor), rel_err(dk, rk, floor), rel_err(dv, rv, floor)};
    EXPECT_LE(e[0], 1e-4) << "dq";
    EXPECT_LE(e[1], 1e-4) << "dk";
    EXPECT_LE(e[2], 1e-4) << "dv";
    for (int i = 0; i < 3; ++i) worst[i] = std::max(worst[i], e[i]);
  }
  std::printf("backward: max error / max |grad|: dq %.3g, dk %.3g, dv %.3g\n", worst[0], worst[1], worst[2]);
}

// Every window length from 1 to beyond three key tiles, so that some query tile's first visible key
// falls on each offset within a key tile (an off-by-one in which tiles are skipped shows only when
// the first key sits right at a tile's edge, which the grid above may never produce).
TEST(Attention, EveryWindowLengthAtSmallTiles) {
  AttnScratch scratch;
  for (uint64_t p0 : {0, 37})
    for (uint64_t w = 1; w <= 100; ++w) {
      const Case c{130, p0, w, 0.0f, false, 16, 32};
      SCOPED_TRACE(describe(c));
      std::mt19937 rng(static_cast<uint32_t>(w));
      const uint64_t n = c.p0 + c.T;
      const auto q = uniform(c.T * kH * kHd, kQKAmp, rng), k = uniform(n * kKV * kHd, kQKAmp, rng), v = uniform(n * kKV * kHd, 1.0f, rng);
      const AttnShape a = shape_of(c);
      std::vector<float> o(c.T * kH * kHd), o_ref(c.T * kH * kHd);
      double err = 0;
      for (uint64_t h = 0; h < kH; ++h) {
        attention_forward(q.data(), k.data(), v.data(), o.data(), nullptr, nullptr, a, h, scratch);
        attention_reference(q.data(), k.data(), v.data(), o_ref.data(), nullptr, nullptr, a, h);
      }
      for (size_t i = 0; i < o.size(); ++i) err = std::max(err, static_cast<double>(std::fabs(o[i] - o_ref[i])));
      EXPECT_LE(err, 1e-5);
      if (p0 != 0) continue;
      const auto dout = uniform(c.T * kH * kHd, 1.0f, rng);
      std::vector<float> dq, dk, dv;
      tiled_grads(q, k, v, dout, nullptr, a, scratch, dq, dk, dv);
      std::vector<double> rq, rk, rv;
      reference_backward(q, k, v, dout, nullptr, a, rq, rk, rv);
      const double floor = w == 1 ? 1.0 : 0.0;
      EXPECT_LE(rel_err(dq, rq, floor), 1e-4) << "dq";
      EXPECT_LE(rel_err(dk, rk, floor), 1e-4) << "dk";
      EXPECT_LE(rel_err(dv, rv, floor), 1e-4) << "dv";
    }
}

// A window at least as long as the context is no window: same tiles, same bits.
TEST(Attention, LongWindowIsBitIdenticalToNone) {
  std::mt19937 rng(5);
  const uint64_t T = 300, p0 = 37, n = p0 + T;
  const auto q = uniform(T * kH * kHd, kQKAmp, rng), k = uniform(n * kKV * kHd, kQKAmp, rng), v = uniform(n * kKV * kHd, 1.0f, rng);
  AttnScratch scratch;
  AttnShape a = shape_of({T, p0, 0, 0.0f, false, 16, 32});
  std::vector<float> o0(T * kH * kHd), o1(T * kH * kHd);
  for (uint64_t h = 0; h < kH; ++h) attention_forward(q.data(), k.data(), v.data(), o0.data(), nullptr, nullptr, a, h, scratch);
  a.window = n;
  for (uint64_t h = 0; h < kH; ++h) attention_forward(q.data(), k.data(), v.data(), o1.data(), nullptr, nullptr, a, h, scratch);
  EXPECT_EQ(0, std::memcmp(o0.data(), o1.data(), o0.size() * sizeof(float)));
}

// Same inputs, same bits: whatever the scratch held before and in whatever order the work items
// (KV groups) run, since the trainer hands them to threads.
TEST(Attention, DeterministicAcrossScratchAndOrder) {
  std::mt19937 rng(9);
  const Case c{200, 0, 64, 2.0f, true, 16, 32};
  const auto q = uniform(c.T * kH * kHd, kQKAmp, rng), k = uniform(c.T * kKV * kHd, kQKAmp, rng), v = uniform(c.T * kKV * kHd, 1.0f, rng);
  const auto dout = uniform(c.T * kH * kHd, 1.0f, rng);
  const auto docs = make_docs(0, c.T, rng);
  const AttnShape a = shape_of(c);
  AttnScratch fresh, used;
  {
    // Leave `used` holding another shape's state.
    const Case big{600, 0, 0, 0.0f, false, 64, 256};
    std::vector<float> dq, dk, dv;
    const auto q2 = uniform(big.T * kH * kHd, kQKAmp, rng), k2 = uniform(big.T * kKV * kHd, kQKAmp, rng),
               v2 = uniform(big.T * kKV * kHd, 1.0f, rng), d2 = uniform(big.T * kH * kHd, 1.0f, rng);
    tiled_grads(q2, k2, v2, d2, nullptr, shape_of(big), used, dq, dk, dv);
  }
  std::vector<float> q1, k1, v1, q2, k2, v2;
  tiled_grads(q, k, v, dout, docs.data(), a, fresh, q1, k1, v1);
  tiled_grads(q, k, v, dout, docs.data(), a, used, q2, k2, v2, true);
  EXPECT_EQ(0, std::memcmp(q1.data(), q2.data(), q1.size() * sizeof(float)));
  EXPECT_EQ(0, std::memcmp(k1.data(), k2.data(), k1.size() * sizeof(float)));
  EXPECT_EQ(0, std::memcmp(v1.data(), v2.data(), v1.size() * sizeof(float)));
}

// A sliding layer must not touch key tiles wholly before every window of a query tile (that is
// what makes it O(T * window)). A NaN key/value row poisons every query tile whose GEMMs read it
// (0 * NaN), so rows far enough past it stay finite only if those tiles are skipped.
TEST(Attention, WindowSkipsTilesBeforeIt) {
  std::mt19937 rng(11);
  const uint64_t T = 600, W = 5, bq = 16, bk = 32, bad = 100;
  auto q = uniform(T * kH * kHd, kQKAmp, rng), k = uniform(T * kKV * kHd, kQKAmp, rng), v = uniform(T * kKV * kHd, 1.0f, rng);
  const auto dout = uniform(T * kH * kHd, 1.0f, rng);
  for (uint64_t i = 0; i < kKV * kHd; ++i) k[bad * kKV * kHd + i] = v[bad * kKV * kHd + i] = NAN;
  const AttnShape a = shape_of({T, 0, W, 0.0f, false, bq, bk});
  AttnScratch scratch;
  std::vector<float> dq, dk, dv;
  tiled_grads(q, k, v, dout, nullptr, a, scratch, dq, dk, dv);
  // A query tile starting at qa begins at a key tile at or after qa + 1 - W - (bk - 1).
  const uint64_t clean_from = bad + W + bk + bq;
  for (uint64_t r = clean_from; r < T; ++r)
    for (uint64_t i = 0; i < kH * kHd; ++i) ASSERT_TRUE(std::isfinite(dq[r * kH * kHd + i])) << "row " << r;
  for (uint64_t r = clean_from; r < T; ++r)
    for (uint64_t i = 0; i < kKV * kHd; ++i) ASSERT_TRUE(std::isfinite(dk[r * kKV * kHd + i]) && std::isfinite(dv[r * kKV * kHd + i])) << "row " << r;
}

}  // namespace
}  // namespace longctx::model
