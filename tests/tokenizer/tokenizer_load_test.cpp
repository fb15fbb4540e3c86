// Loading tokenizer.json: what is refused, and how. Every refusal is one line naming the file and
// the part of the file at fault.
#include <gtest/gtest.h>

#include <string>

#include "longctx/tokenizer/tokenizer.h"
#include "longctx/util/error.h"
#include "tiny_tokenizers.h"

namespace longctx::tokenizer {
namespace {

std::string load_error(const std::string& json) {
  try {
    Tokenizer::from_json(json, "t.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

void replace(std::string& s, const std::string& from, const std::string& to) {
  const size_t k = s.find(from);
  ASSERT_NE(k, std::string::npos) << from;
  s.replace(k, from.size(), to);
}

TEST(TokenizerLoad, TinyTokenizerLoads) {
  const auto t = Tokenizer::from_json(testing::sentencepiece_json(), "t.json");
  EXPECT_EQ(t->vocab_size(), 14u);
  EXPECT_EQ(t->prefix_ids(), std::vector<uint32_t>{1});
  EXPECT_TRUE(t->is_special(1));
  EXPECT_EQ(t->id_to_token(11), "abc");
  EXPECT_EQ(t->content_hash().size(), 16u);
}

TEST(TokenizerLoad, MissingFile) {
  try {
    Tokenizer::load("/nonexistent/tokenizer.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "/nonexistent/tokenizer.json: cannot read: No such file or directory");
  }
}

TEST(TokenizerLoad, MalformedJson) {
  EXPECT_EQ(load_error("{\"model\": ").rfind("t.json: not valid JSON: ", 0), 0u);
}

TEST(TokenizerLoad, RefusesOtherModels) {
  for (const char* type : {"WordPiece", "Unigram", "WordLevel"}) {
    std::string j = testing::sentencepiece_json();
    replace(j, R"("model":{"type":"BPE")", std::string(R"("model":{"type":")") + type + "\"");
    EXPECT_EQ(load_error(j), std::string("t.json: model: type \"") + type + "\" is not supported (supported: BPE)");
  }
}

TEST(TokenizerLoad, RefusesUnknownNormalizer) {
  const std::string j = testing::sentencepiece_json("", R"({"type":"Precompiled","precompiled_charsmap":"AAAA"})");
  EXPECT_EQ(load_error(j),
            "t.json: normalizer: type \"Precompiled\" is not supported (supported: Sequence, Prepend, Replace, NFC, NFD, "
            "NFKC, NFKD, Lowercase, Strip, StripAccents)");
}

TEST(TokenizerLoad, RefusesRegexOnigurumaCannotCompile) {
  std::string j = testing::sentencepiece_json();
  replace(j, R"("pre_tokenizer":null)",
          R"("pre_tokenizer":{"type":"Split","pattern":{"Regex":"(ab"},"behavior":"Isolated","invert":false})");
  EXPECT_EQ(load_error(j), "t.json: pre_tokenizer.pattern: cannot compile regex: end pattern with unmatched parenthesis");
}

TEST(TokenizerLoad, RefusesUnknownSplitBehavior) {
  std::string j = testing::sentencepiece_json();
  replace(j, R"("pre_tokenizer":null)",
          R"("pre_tokenizer":{"type":"Split","pattern":{"Regex":"\\w+"},"behavior":"Dropped","invert":false})");
  EXPECT_EQ(load_error(j),
            "t.json: pre_tokenizer.behavior: expected Removed, Isolated, MergedWithPrevious, MergedWithNext or "
            "Contiguous, found \"Dropped\"");
}

TEST(TokenizerLoad, RefusesPreTokenizerAfterByteLevel) {
  std::string j = testing::sentencepiece_json();
  replace(j, R"("pre_tokenizer":null)",
          R"("pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"ByteLevel","add_prefix_space":false,"use_regex":false},)"
          R"({"type":"Digits","individual_digits":true}]})");
  EXPECT_EQ(load_error(j),
            "t.json: pre_tokenizer.pretokenizers[1]: a pre-tokenizer after ByteLevel is not supported (it would see GPT-2 "
            "byte characters)");
}

TEST(TokenizerLoad, RefusesDropout) {
  EXPECT_EQ(load_error(testing::sentencepiece_json(R"(,"dropout":0.1)")),
            "t.json: model.dropout: BPE dropout is random; only null is supported");
}

TEST(TokenizerLoad, RefusesMergeOutsideVocabulary) {
  std::string j = testing::sentencepiece_json();
  replace(j, R"("merges":["a b",)", R"("merges":["a x",)");
  EXPECT_EQ(load_error(j), "t.json: model.merges[0]: \"a x\" uses or makes a token missing from the vocabulary");
}

TEST(TokenizerLoad, RefusesUnknownDecoderAndPostProcessor) {
  std::string j = testing::sentencepiece_json();
  replace(j, R"({"type":"ByteFallback"})", R"({"type":"CTC"})");
  EXPECT_EQ(load_error(j).substr(0, 52), "t.json: decoder.decoders[1]: type \"CTC\" is not suppo");
  j = testing::sentencepiece_json();
  replace(j, R"("post_processor":{"type":"TemplateProcessing")", R"("post_processor":{"type":"BertProcessing")");
  EXPECT_EQ(load_error(j), "t.json: post_processor: missing \"cls\"");
  j = testing::sentencepiece_json();
  replace(j, R"("post_processor":{"type":"TemplateProcessing")", R"("post_processor":{"type":"Annotate")");
  EXPECT_EQ(load_error(j).substr(0, 52), "t.json: post_processor: type \"Annotate\" is not suppo");
}

}  // namespace
}  // namespace longctx::tokenizer
