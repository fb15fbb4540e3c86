// The load cache (src/tokenizer/tokenizer_cache.h): a tokenizer loaded from it behaves exactly as
// one built from the JSON; a changed file, a damaged cache or an unwritable folder never gives a
// wrong tokenizer.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "longctx/tokenizer/tokenizer.h"
#include "longctx/util/error.h"
#include "longctx/util/file.h"
#include "tiny_tokenizers.h"
#include "tokenizer/tokenizer_cache.h"
#include "tokenizer/tokenizer_impl.h"

namespace longctx::tokenizer {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string t = (fs::temp_directory_path() / "longctx-cache-test-XXXXXX").string();
    if (!::mkdtemp(t.data())) throw std::runtime_error("mkdtemp failed");
    path_ = t;
  }
  ~TempDir() {
    std::error_code ec;
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Sets (or, with nullopt, unsets) an environment variable for the life of the object.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) ::setenv(name, value->c_str(), 1);
    else ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// Every test keeps the user's cache folder out of it and starts with the cache on.
struct CacheEnv {
  explicit CacheEnv(const fs::path& dir)
      : xdg("XDG_CACHE_HOME", (dir / "xdg").string()), off("LONGCTX_NO_TOKENIZER_CACHE", std::nullopt) {}
  ScopedEnv xdg, off;
};

bool from_cache(const Tokenizer& t) { return t.impl().from_cache; }

std::string decode_or_error(const Tokenizer& t, const std::vector<uint32_t>& ids, bool skip) {
  try {
    return t.decode(ids, skip);
  } catch (const Error& e) {
    return std::string("error: ") + e.what();
  }
}

// A few hundred texts: words, numbers, punctuation, whitespace runs, many scripts, emoji,
// combining marks, special-token spellings, decoded vocabulary pieces, and long words (which take
// the backtracking encoder).
std::vector<std::string> varied_texts(const Tokenizer& tok, size_t n) {
  static const char* kPieces[] = {
      "Hello", " world", "The quick brown fox", " jumps", "over", "  ", "   ", "\t", "\n", "\n\n", " \n  ",
      "\r\n", "123", "4567890", "3.14159", "1,000,000", "don't", "I'm", "we'll", "HTTP/1.1", "user@example.com",
      "https://example.org/a?b=c&d=e", ",", ".", "!", "?", "...", "—", "–", "\"", "'", "(", ")", "[", "]", "{",
      "}", "<", ">", "#", "$", "%", "&", "*", "=", "==", "->", "::", "é", "café", "naïve", "Ünïcödé", "straße",
      "ﬁ", "Ａｂｃ", "①②", "Привет", " мир", "日本語", "中文的文本", "한국어", "ภาษาไทย", "العربية", "עברית",
      "हिन्दी", "🎉", "👩‍👩‍👧", "🇫🇷", "e\xCC\x81", "\xE2\x80\x8B", "\xC2\xA0", "▁", "Ġ", "<s>", "</s>", "<unk>",
      "<pad>", "<|endoftext|>", "<|begin_of_text|>", "<|eot_id|>", "<start_of_turn>", "<end_of_turn>", "<bos>",
      "<|im_start|>", "<|im_end|>", "<think>", "<｜begin▁of▁sentence｜>", "<|return|>", "def f(x):\n    return x",
      "    ", "ALLCAPS", "camelCase", "snake_case", "x²", "½", "\xEF\xBB\xBF"};
  const size_t np = sizeof kPieces / sizeof kPieces[0];
  std::mt19937_64 rng(20240601);
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) {
    std::string s;
    const size_t parts = 1 + rng() % 16;
    for (size_t k = 0; k < parts; ++k) {
      switch (rng() % 8) {
        case 0: {  // a decoded vocabulary entry
          const uint32_t id = static_cast<uint32_t>(rng() % tok.vocab_size());
          const std::string d = decode_or_error(tok, {id}, false);
          if (d.rfind("error: ", 0) != 0) s += d;
          break;
        }
        case 1: {  // a long word without spaces
          const std::string p = kPieces[rng() % np];
          const size_t reps = 10 + rng() % 50;
          for (size_t r = 0; r < reps; ++r) s += p == " " ? "x" : p;
          break;
        }
        case 2:
          s += ' ';
          [[fallthrough]];
        default:
          s += kPieces[rng() % np];
      }
    }
    out.push_back(std::move(s));
  }
  out.push_back("");
  out.push_back(" ");
  return out;
}

// Everything observable, and the compiled tables, are the same.
void expect_same(const Tokenizer& json, const Tokenizer& cached, size_t texts) {
  ASSERT_EQ(json.vocab_size(), cached.vocab_size());
  EXPECT_EQ(json.content_hash(), cached.content_hash());
  EXPECT_EQ(json.prefix_ids(), cached.prefix_ids());
  EXPECT_EQ(json.suffix_ids(), cached.suffix_ids());
  for (uint32_t id = 0; id < json.vocab_size(); ++id) {
    ASSERT_EQ(json.id_to_token(id), cached.id_to_token(id)) << id;
    ASSERT_EQ(json.is_special(id), cached.is_special(id)) << id;
  }
  const TokenizerImpl& a = json.impl();
  const TokenizerImpl& b = cached.impl();
  EXPECT_EQ(a.cut_at_metaspace, b.cut_at_metaspace);
  EXPECT_EQ(a.joins.enabled(), b.joins.enabled());
  ASSERT_EQ(a.added.size(), b.added.size());
  for (size_t i = 0; i < a.added.size(); ++i) EXPECT_EQ(a.added[i].id, b.added[i].id);
  const BpeModel& ma = *a.model;
  const BpeModel& mb = *b.model;
  ASSERT_EQ(ma.size(), mb.size());
  for (uint32_t id = 0; id < ma.size(); ++id) ASSERT_EQ(ma.token_bytes(id), mb.token_bytes(id)) << id;
  EXPECT_EQ(ma.options().byte_level, mb.options().byte_level);
  EXPECT_EQ(ma.options().byte_fallback, mb.options().byte_fallback);
  EXPECT_EQ(ma.options().fuse_unk, mb.options().fuse_unk);
  EXPECT_EQ(ma.options().ignore_merges, mb.options().ignore_merges);
  EXPECT_EQ(ma.options().unk_id, mb.options().unk_id);
  EXPECT_EQ(ma.backtrack_usable(), mb.backtrack_usable());
  ASSERT_EQ(ma.merge_count(), mb.merge_count());
  ASSERT_TRUE(std::equal(ma.merge_rules().begin(), ma.merge_rules().end(), mb.merge_rules().begin(),
                         [](const MergeRule& x, const MergeRule& y) {
                           return x.left == y.left && x.right == y.right && x.result == y.result;
                         }));
  for (int byte = 0; byte < 256; ++byte) EXPECT_EQ(ma.byte_id(static_cast<uint8_t>(byte)), mb.byte_id(static_cast<uint8_t>(byte)));
  for (uint32_t id = 0; id < ma.size(); id += 97) {
    const std::string_view t = ma.token_bytes(id);
    if (!t.empty()) {
      ASSERT_EQ(ma.token_id(t), mb.token_id(t)) << id;
    }
  }
  for (const MergeRule& r : ma.merge_rules().first(std::min<size_t>(ma.merge_count(), 5000))) {
    const BpeModel::Merge* x = ma.find_merge(r.left, r.right);
    const BpeModel::Merge* y = mb.find_merge(r.left, r.right);
    ASSERT_TRUE(x && y);
    ASSERT_EQ(x->rank, y->rank);
    ASSERT_EQ(x->result, y->result);
  }

  Encoder ea(json), eb(cached);
  Encoder ra(json), rb(cached);
  ra.set_reference_mode(true);
  rb.set_reference_mode(true);
  const std::vector<std::string> corpus = varied_texts(json, texts);
  size_t i = 0;
  for (const std::string& text : corpus) {
    for (const EncodeOptions opt : {EncodeOptions{true, false}, EncodeOptions{false, true}}) {
      std::vector<uint32_t> x, y;
      ea.encode(text, opt, x);
      eb.encode(text, opt, y);
      ASSERT_EQ(x, y) << "text " << i << ": " << text;
      if (i < 40) {
        std::vector<uint32_t> rx, ry;
        ra.encode(text, opt, rx);
        rb.encode(text, opt, ry);
        ASSERT_EQ(rx, x) << "text " << i;
        ASSERT_EQ(ry, x) << "text " << i;
      }
      ASSERT_EQ(decode_or_error(json, x, false), decode_or_error(cached, x, false)) << i;
      ASSERT_EQ(decode_or_error(json, x, true), decode_or_error(cached, x, true)) << i;
    }
    ++i;
  }
  std::mt19937 rng(7);
  for (int k = 0; k < 200; ++k) {
    std::vector<uint32_t> ids(1 + rng() % 12);
    for (uint32_t& id : ids) id = static_cast<uint32_t>(rng() % (json.vocab_size() + 2));
    ASSERT_EQ(decode_or_error(json, ids, false), decode_or_error(cached, ids, false));
    ASSERT_EQ(decode_or_error(json, ids, true), decode_or_error(cached, ids, true));
  }
}

class InstalledTokenizers : public ::testing::TestWithParam<const char*> {};

TEST_P(InstalledTokenizers, LoadFromCacheEqualsLoadFromJson) {
  const fs::path source = fs::path(LONGCTX_SOURCE_DIR) / "data/tokenizers" / GetParam() / "tokenizer.json";
  if (!fs::exists(source)) GTEST_SKIP() << source << " is not installed";
  TempDir dir;
  CacheEnv env(dir.path());
  const fs::path file = dir.path() / "tokenizer.json";
  fs::create_symlink(source, file);  // the cache goes beside the link, in the temporary folder
  const auto json = Tokenizer::load(file.string());
  ASSERT_FALSE(from_cache(*json));
  ASSERT_TRUE(fs::exists(file.string() + ".longctx-cache"));
  const auto cached = Tokenizer::load(file.string());
  ASSERT_TRUE(from_cache(*cached));
  expect_same(*json, *cached, 300);
}

INSTANTIATE_TEST_SUITE_P(Families, InstalledTokenizers,
                         ::testing::Values("llama2", "mistral", "llama3", "llama3_1", "qwen3", "gemma3", "deepseek_v3",
                                           "gpt4o", "gptoss", "cl100k"),
                         [](const auto& info) { return std::string(info.param); });

void write(const fs::path& p, const std::string& bytes) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(f.good());
}

std::vector<uint32_t> encode(const Tokenizer& t, const std::string& text) { return t.encode(text); }

TEST(TokenizerCache, ChangedFileOfTheSameSizeDoesNotUseTheStaleCache) {
  TempDir dir;
  CacheEnv env(dir.path());
  const fs::path file = dir.path() / "tokenizer.json";
  std::string json = testing::sentencepiece_json();
  write(file, json);
  const auto first = Tokenizer::load(file.string());
  EXPECT_EQ(encode(*first, "é"), (std::vector<uint32_t>{1, 5, 3, 4}));  // byte fallback
  ASSERT_TRUE(from_cache(*Tokenizer::load(file.string())));

  // One byte of one token, in place: same size, same inode, and the old modification time.
  struct stat before;
  ASSERT_EQ(::stat(file.c_str(), &before), 0);
  const size_t at = json.find("\"<0xA9>\"");
  ASSERT_NE(at, std::string::npos);
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(at + 5));
    f.put('8');  // <0xA9> -> <0xA8>
  }
  const timespec times[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, file.c_str(), times, 0), 0);
  struct stat after;
  ASSERT_EQ(::stat(file.c_str(), &after), 0);
  ASSERT_EQ(after.st_size, before.st_size);
  ASSERT_EQ(after.st_ino, before.st_ino);

  const auto changed = Tokenizer::load(file.string());
  EXPECT_FALSE(from_cache(*changed));
  EXPECT_EQ(changed->id_to_token(4), "<0xA8>");
  EXPECT_EQ(encode(*changed, "é"), (std::vector<uint32_t>{1, 5, 0}));  // A9 has no byte token: <unk>
  EXPECT_NE(changed->content_hash(), first->content_hash());
  const auto again = Tokenizer::load(file.string());  // the cache was rewritten for the new bytes
  EXPECT_TRUE(from_cache(*again));
  EXPECT_EQ(again->id_to_token(4), "<0xA8>");
  EXPECT_EQ(encode(*again, "é"), (std::vector<uint32_t>{1, 5, 0}));
}

TEST(TokenizerCache, DamagedCacheIsIgnoredAndRewritten) {
  const fs::path source = fs::path(LONGCTX_SOURCE_DIR) / "data/tokenizers/llama2/tokenizer.json";
  TempDir dir;
  CacheEnv env(dir.path());
  const fs::path file = dir.path() / "tokenizer.json";
  if (fs::exists(source)) fs::copy_file(source, file);
  else write(file, testing::sentencepiece_json());
  const std::string cache = file.string() + ".longctx-cache";
  const auto reference = Tokenizer::load(file.string());
  ASSERT_FALSE(from_cache(*reference));
  const std::string good = read_file(cache);
  ASSERT_GT(good.size(), 4096u);
  const std::string text = "Hello wörld, 日本語 🎉 and   spaces\n\tdone";

  std::vector<std::pair<std::string, std::string>> damaged;
  damaged.emplace_back("empty", "");
  damaged.emplace_back("header only", good.substr(0, 200));
  damaged.emplace_back("truncated", good.substr(0, good.size() / 2));
  damaged.emplace_back("one byte short", good.substr(0, good.size() - 1));
  damaged.emplace_back("one byte more", good + "x");
  for (const size_t at : {size_t{8}, size_t{40}, size_t{120}, size_t{300}, good.size() / 3, good.size() - 1}) {
    std::string d = good;
    d[at] = static_cast<char>(d[at] ^ 0x20);
    damaged.emplace_back("flipped byte " + std::to_string(at), d);
  }
  damaged.emplace_back("garbage", std::string(good.size(), '\x5a'));
  for (const auto& [what, bytes] : damaged) {
    SCOPED_TRACE(what);
    write(cache, bytes);
    const auto t = Tokenizer::load(file.string());
    EXPECT_FALSE(from_cache(*t));
    EXPECT_EQ(t->encode(text), reference->encode(text));
    EXPECT_EQ(read_file(cache), good);  // rewritten
    EXPECT_TRUE(from_cache(*Tokenizer::load(file.string())));
  }
}

TEST(TokenizerCache, UnwritableFolderFallsBackToTheUserCacheOrSkips) {
  TempDir dir;
  CacheEnv env(dir.path());
  const fs::path folder = dir.path() / "models";
  fs::create_directory(folder);
  const fs::path file = folder / "tokenizer.json";
  write(file, testing::sentencepiece_json());
  const std::string beside = file.string() + ".longctx-cache";
  // Unwritable beside the file: a read-only folder, or (as root, who may write anyway) a
  // non-empty directory where the cache file would go, which no rename can replace.
  if (::geteuid() != 0) {
    fs::permissions(folder, fs::perms::owner_read | fs::perms::owner_exec, fs::perm_options::replace);
  } else {
    fs::create_directories(beside + "/blocked");
  }
  const std::vector<std::string> places = tokenizer_cache_paths(file.string());
  ASSERT_EQ(places.size(), 2u);
  EXPECT_EQ(places[0], beside);
  EXPECT_EQ(places[1].rfind((dir.path() / "xdg/longctx/").string(), 0), 0u) << places[1];

  struct Restore {  // lets TempDir remove the folder
    fs::path p;
    ~Restore() {
      std::error_code ec;
      fs::permissions(p, fs::perms::owner_all, fs::perm_options::add, ec);
    }
  } restore{folder};

  const auto cold = Tokenizer::load(file.string());
  EXPECT_FALSE(from_cache(*cold));
  EXPECT_TRUE(fs::is_regular_file(places[1]));
  const auto warm = Tokenizer::load(file.string());
  EXPECT_TRUE(from_cache(*warm));
  EXPECT_EQ(warm->encode("abc aab é"), cold->encode("abc aab é"));

  {  // $HOME/.cache/longctx when XDG_CACHE_HOME is not set
    ScopedEnv no_xdg("XDG_CACHE_HOME", std::nullopt);
    ScopedEnv home("HOME", (dir.path() / "home").string());
    const std::string place = tokenizer_cache_paths(file.string()).at(1);
    EXPECT_EQ(place.rfind((dir.path() / "home/.cache/longctx/").string(), 0), 0u) << place;
    EXPECT_FALSE(from_cache(*Tokenizer::load(file.string())));
    EXPECT_TRUE(fs::is_regular_file(place));
    EXPECT_TRUE(from_cache(*Tokenizer::load(file.string())));
  }
  {  // nowhere to write: loads every time, from the JSON
    write(dir.path() / "not-a-folder", "x");
    ScopedEnv xdg("XDG_CACHE_HOME", (dir.path() / "not-a-folder").string());
    for (int i = 0; i < 2; ++i) {
      const auto t = Tokenizer::load(file.string());
      EXPECT_FALSE(from_cache(*t));
      EXPECT_EQ(t->encode("abc aab é"), cold->encode("abc aab é"));
    }
  }
}

TEST(TokenizerCache, TurnedOffByTheEnvironment) {
  TempDir dir;
  CacheEnv env(dir.path());
  ScopedEnv off("LONGCTX_NO_TOKENIZER_CACHE", "1");
  const fs::path file = dir.path() / "tokenizer.json";
  write(file, testing::sentencepiece_json());
  for (int i = 0; i < 2; ++i) EXPECT_FALSE(from_cache(*Tokenizer::load(file.string())));
  EXPECT_FALSE(fs::exists(file.string() + ".longctx-cache"));
  EXPECT_FALSE(fs::exists(dir.path() / "xdg"));
  {
    ScopedEnv on("LONGCTX_NO_TOKENIZER_CACHE", "0");
    EXPECT_FALSE(from_cache(*Tokenizer::load(file.string())));
    EXPECT_TRUE(from_cache(*Tokenizer::load(file.string())));
  }
}

TEST(TokenizerCache, ErrorsAreTheSameAsWithoutTheCache) {
  TempDir dir;
  CacheEnv env(dir.path());
  try {
    Tokenizer::load((dir.path() / "missing.json").string());
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), (dir.path() / "missing.json").string() + ": cannot read: No such file or directory");
  }
  const fs::path bad = dir.path() / "bad.json";
  std::string json = testing::sentencepiece_json();
  json.replace(json.find("\"merges\":[\"a b\","), 16, "\"merges\":[\"a x\",");
  write(bad, json);
  for (int i = 0; i < 2; ++i) {
    try {
      Tokenizer::load(bad.string());
      FAIL();
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()),
                bad.string() + ": model.merges[0]: \"a x\" uses or makes a token missing from the vocabulary");
    }
  }
  EXPECT_FALSE(fs::exists(bad.string() + ".longctx-cache"));
}

}  // namespace
}  // namespace longctx::tokenizer
