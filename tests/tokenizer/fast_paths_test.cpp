// The 2026-12-02 fast paths against their references on random input: the SWAR one-byte Replace
// (replace_byte) against replace_byte_reference, and the JSON id writer against std::to_string.
// The oracle tests cover them through real tokenizers; these reach the edges (8-byte boundaries,
// empty and multi-byte replacements, every digit count) directly.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "longctx/text/ids_json.h"
#include "tokenizer/replace.h"

namespace {

TEST(FastPaths, ReplaceByteEqualsReference) {
  std::mt19937_64 rng(7);
  std::string tmp1, tmp2;
  for (int trial = 0; trial < 20000; ++trial) {
    const size_t n = rng() % 70;  // across several 8-byte words and their tails
    std::string s(n, '\0');
    const char from = static_cast<char>(rng() % 4 == 0 ? 0x80 + rng() % 128 : 'a' + rng() % 4);
    for (auto& c : s) c = rng() % 3 == 0 ? from : static_cast<char>(rng() % 4 == 0 ? rng() % 256 : 'a' + rng() % 6);
    std::string to(rng() % 11, '\0');  // 0 to 10 bytes, as the harness the review asked for
    for (auto& c : to) c = static_cast<char>(rng() % 256);
    std::string a = s, b = s;
    longctx::tokenizer::replace_byte(a, from, to, tmp1);
    longctx::tokenizer::replace_byte_reference(b, from, to, tmp2);
    ASSERT_EQ(a, b) << "trial " << trial << ", length " << n << ", replacement of " << to.size() << " bytes";
  }
}

TEST(FastPaths, IdsJsonEqualsToString) {
  std::mt19937_64 rng(11);
  std::vector<uint32_t> ids = {0, 9, 10, 99, 100, 999, 1000, 9999, 10000, 99999, 100000, 999999, 1000000, 9999999,
                               10000000, 99999999, 100000000, 999999999, 1000000000, 4294967295u};
  for (int i = 0; i < 200000; ++i) ids.push_back(static_cast<uint32_t>(rng() >> (rng() % 32)));
  std::string want = "[";
  for (size_t i = 0; i < ids.size(); ++i) want += (i ? "," : "") + std::to_string(ids[i]);
  want += "]";
  std::string got = "prefix";
  longctx::text::append_ids_json(got, ids);
  EXPECT_EQ(got, "prefix" + want);
  std::string empty;
  longctx::text::append_ids_json(empty, {});
  EXPECT_EQ(empty, "[]");
}

}  // namespace
