// Encoding and decoding on a tiny tokenizer whose results are worked out by hand in the comments.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include "longctx/tokenizer/tokenizer.h"
#include "longctx/util/error.h"
#include "tiny_tokenizers.h"

namespace longctx::tokenizer {
namespace {

using Ids = std::vector<uint32_t>;

class TinySentencePiece : public ::testing::Test {
 protected:
  std::shared_ptr<const Tokenizer> t = Tokenizer::from_json(testing::sentencepiece_json(), "tiny.json");
  Ids enc(const std::string& s, EncodeOptions o = {}) { return t->encode(s, o); }
};

TEST_F(TinySentencePiece, MergesLowestRankFirst) {
  // "▁abc": pairs (▁,a)=3 (a,b)=0 (b,c)=1 → "a b" → (ab,c)=2 → "ab c" → ▁ abc
  EXPECT_EQ(enc("abc"), (Ids{1, 5, 11}));
}

TEST_F(TinySentencePiece, LeftmostOnEqualRanks) {
  // "▁aaa": (▁,a)=3 first → ▁a a a → (a,a)=4 → ▁a aa
  EXPECT_EQ(enc("aaa"), (Ids{1, 12, 13}));
  // "▁aa▁a": both (▁,a) pairs have rank 3; the left one goes first, then the right one.
  EXPECT_EQ(enc("aa a"), (Ids{1, 12, 6, 12}));
}

TEST_F(TinySentencePiece, ByteFallbackAndFusedUnknowns) {
  EXPECT_EQ(enc("\xC3\xA9"), (Ids{1, 5, 3, 4}));  // "é" is not in the vocabulary: its bytes are
  EXPECT_EQ(enc("xyz"), (Ids{1, 5, 0}));          // no <0x78>: <unk>, three of them fused
  EXPECT_EQ(enc(""), (Ids{1}));
  EXPECT_EQ(enc("abc", {.add_special_tokens = false}), (Ids{5, 11}));
}

TEST_F(TinySentencePiece, SpecialTokensArePlainTextUnlessAsked) {
  // Plain: "▁a<s>b" → ▁a, then "<", "s", ">" are unknown and fuse into one <unk>, then b.
  EXPECT_EQ(enc("a<s>b"), (Ids{1, 12, 0, 7}));
  // parse_special: "a" | <s> | "b"; the Prepend normalizer applies to each segment: "▁b" → ▁ b.
  EXPECT_EQ(enc("a<s>b", {.parse_special = true}), (Ids{1, 12, 1, 5, 7}));
}

TEST_F(TinySentencePiece, Decode) {
  EXPECT_EQ(t->decode(Ids{1, 5, 11}), "<s> abc");  // Strip removes one leading space of the whole
  EXPECT_EQ(t->decode(Ids{1, 5, 11}, true), "abc");
  EXPECT_EQ(t->decode(Ids{12, 3, 4}), "a\xC3\xA9");
  EXPECT_EQ(t->decode(Ids{3, 3}), "\xEF\xBF\xBD\xEF\xBF\xBD");  // invalid UTF-8: one U+FFFD per byte
  EXPECT_THROW(t->decode(Ids{14}), Error);
  // skip_unknown: an id the tokenizer lacks is left out, as HF's decode filters it (what model
  // outputs with a padded vocabulary need); the same text as without it.
  EXPECT_EQ(t->decode(Ids{1, 14, 5, 11, 1000000}, false, true), t->decode(Ids{1, 5, 11}));
  EXPECT_EQ(t->decode(Ids{14, 12, 3, 14, 4}, true, true), t->decode(Ids{12, 3, 4}, true));
}

// A text past the 32-bit offsets is refused, not encoded with wrapped offsets. The text is 4 GiB
// of untouched zero pages (no memory is used): the check comes before anything reads it.
TEST(Tokenizer, RefusesTextsBeyondThirtyTwoBitOffsets) {
  const auto t = Tokenizer::from_json(testing::sentencepiece_json(), "tiny.json");
  const size_t n = size_t{1} << 32;
  void* p = mmap(nullptr, n, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  Encoder enc(*t);
  Ids ids;
  for (const size_t size : {n, Encoder::kMaxTextBytes + 1}) {
    try {
      enc.encode(std::string_view(static_cast<const char*>(p), size), {}, ids);
      ADD_FAILURE() << "a text of " << size << " bytes was encoded";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(std::to_string(size) + " bytes"), std::string::npos) << e.what();
    }
  }
  EXPECT_TRUE(ids.empty());
  munmap(p, n);
  // The same encoder still works.
  enc.encode("abc", {}, ids);
  EXPECT_EQ(ids, (Ids{1, 5, 11}));
}

TEST(Tokenizer, EncoderReusesItsCacheWithoutChangingResults) {
  const auto t = Tokenizer::load(LONGCTX_SOURCE_DIR "/data/tokenizers/llama2/tokenizer.json");
  Encoder enc(*t);
  Ids first, second;
  enc.encode("Hello world! Hello world!", {}, first);
  enc.encode("Hello world! Hello world!", {}, second);
  EXPECT_EQ(first, second);
  EXPECT_EQ(first, (Ids{1, 15043, 3186, 29991, 15043, 3186, 29991}));  // HF's ids (tests/oracle)
}

}  // namespace
}  // namespace longctx::tokenizer
