// tokenizer.json → TokenizerImpl. Validates everything it reads; refuses, with one line naming the
// file and the part, any component whose behaviour we do not reproduce exactly.
#include <simdjson.h>


#include "byte_level.h"
#include "normalizer.h"
#include "pre_tokenizer.h"
#include "regex.h"
#include "longctx/text/utf8.h"
#include "longctx/util/error.h"
#include "tokenizer_impl.h"

namespace longctx::tokenizer {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;


class Loader {
 public:
  explicit Loader(const std::string& origin) : origin_(origin) {}

  [[noreturn]] void fail(const std::string& part, const std::string& what) const {
    throw Error(origin_ + ": " + part + ": " + what);
  }

  object obj(element e, const std::string& part) const {
    object o;
    if (e.get(o)) fail(part, "expected an object");
    return o;
  }
  array arr(element e, const std::string& part) const {
    array a;
    if (e.get(a)) fail(part, "expected an array");
    return a;
  }
  std::string_view str(element e, const std::string& part) const {
    std::string_view s;
    if (e.get(s)) fail(part, "expected a string");
    return s;
  }
  // Optional member: nullopt when absent or null.
  static std::optional<element> member(object o, std::string_view key) {
    element e;
    if (o.at_key(key).get(e) || e.is_null()) return std::nullopt;
    return e;
  }
  element need(object o, std::string_view key, const std::string& part) const {
    auto e = member(o, key);
    if (!e) fail(part, "missing \"" + std::string(key) + "\"");
    return *e;
  }
  bool flag(object o, std::string_view key, bool dflt, const std::string& part) const {
    auto e = member(o, key);
    if (!e) return dflt;
    bool b;
    if (e->get(b)) fail(part + "." + std::string(key), "expected true or false");
    return b;
  }
  uint64_t uint(element e, const std::string& part) const {
    uint64_t v;
    if (e.get(v)) {
      int64_t s;
      if (e.get(s) || s < 0) fail(part, "expected a non-negative integer");
      v = static_cast<uint64_t>(s);
    }
    return v;
  }
  std::string type_of(object o, const std::string& part) const { return std::string(str(need(o, "type", part), part + ".type")); }

  // Calls f(element, part) for each element of the array o[key] (the members of a Sequence).
  template <class F>
  void each(object o, const char* key, const std::string& part, F&& f) const {
    size_t i = 0;
    const std::string list = part + "." + key;
    for (element x : arr(need(o, key, part), list)) f(x, list + "[" + std::to_string(i++) + "]");
  }
  // The string of a {"String": "..."} pattern (regex patterns are refused).
  std::string string_pattern(object o, const std::string& part) const {
    object pat = obj(need(o, "pattern", part), part + ".pattern");
    auto s = member(pat, "String");
    if (!s) fail(part + ".pattern", "only {\"String\": ...} patterns are supported");
    return std::string(str(*s, part + ".pattern.String"));
  }

  [[noreturn]] void unsupported(const std::string& part, const std::string& type, const char* supported) const {
    fail(part, "type \"" + type + "\" is not supported (supported: " + supported + ")");
  }

  void added_tokens(object root, TokenizerImpl& t) const {
    auto e = member(root, "added_tokens");
    if (!e) return;
    size_t i = 0;
    for (element x : arr(*e, "added_tokens")) {
      const std::string part = "added_tokens[" + std::to_string(i++) + "]";
      object o = obj(x, part);
      AddedToken a;
      a.id = static_cast<uint32_t>(uint(need(o, "id", part), part + ".id"));
      a.content = std::string(str(need(o, "content", part), part + ".content"));
      a.special = flag(o, "special", false, part);
      a.single_word = flag(o, "single_word", false, part);
      a.lstrip = flag(o, "lstrip", false, part);
      a.rstrip = flag(o, "rstrip", false, part);
      a.normalized = flag(o, "normalized", !a.special, part);
      t.added.push_back(std::move(a));
    }
  }

  // A {"String": ...} or {"Regex": ...} pattern. String patterns are literals (HF escapes them);
  // an empty String is compiled like HF's escape("") = "", which matches everywhere.
  std::shared_ptr<const Regex> pattern(object o, const std::string& part, std::string* literal = nullptr) const {
    const std::string pp = part + ".pattern";
    object pat = obj(need(o, "pattern", part), pp);
    try {
      if (auto s = member(pat, "String")) {
        const std::string_view text = str(*s, pp + ".String");
        if (literal) *literal = std::string(text);
        return std::make_shared<const Regex>(Regex::literal(text));
      }
      if (auto r = member(pat, "Regex")) return std::make_shared<const Regex>(std::string(str(*r, pp + ".Regex")));
    } catch (const Error& e) {
      fail(pp, e.what());
    }
    fail(pp, "expected {\"String\": ...} or {\"Regex\": ...}");
  }

  void normalizer(element e, TokenizerImpl& t, const std::string& part) const {
    object o = obj(e, part);
    const std::string type = type_of(o, part);
    using K = NormalizerStep::Kind;
    if (type == "Sequence") {
      each(o, "normalizers", part, [&](element x, const std::string& p) { normalizer(x, t, p); });
    } else if (type == "Prepend") {
      t.normalizer.push_back({K::kPrepend, std::string(str(need(o, "prepend", part), part + ".prepend")), "", nullptr});
    } else if (type == "Replace") {
      NormalizerStep n{K::kReplace, "", std::string(str(need(o, "content", part), part + ".content")), nullptr};
      std::string literal;
      auto re = pattern(o, part, &literal);
      if (literal.empty()) n.regex = std::move(re);  // a Regex pattern, or the empty String
      else n.text = literal;
      t.normalizer.push_back(std::move(n));
    } else if (type == "NFC" || type == "NFD" || type == "NFKC" || type == "NFKD") {
      const K k = type == "NFC" ? K::kNfc : type == "NFD" ? K::kNfd : type == "NFKC" ? K::kNfkc : K::kNfkd;
      t.normalizer.push_back({k, "", "", nullptr});
    } else if (type == "Lowercase") {
      t.normalizer.push_back({K::kLowercase, "", "", nullptr});
    } else if (type == "Strip") {
      NormalizerStep n{K::kStrip, "", "", nullptr};
      n.left = flag(o, "strip_left", true, part);
      n.right = flag(o, "strip_right", true, part);
      t.normalizer.push_back(std::move(n));
    } else if (type == "StripAccents") {
      t.normalizer.push_back({K::kStripAccents, "", "", nullptr});
    } else {
      unsupported(part, type, "Sequence, Prepend, Replace, NFC, NFD, NFKC, NFKD, Lowercase, Strip, StripAccents");
    }
  }

  SplitBehavior behavior(object o, const std::string& part, const char* key = "behavior") const {
    const std::string_view b = str(need(o, key, part), part + "." + key);
    if (b == "Removed") return SplitBehavior::kRemoved;
    if (b == "Isolated") return SplitBehavior::kIsolated;
    if (b == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
    if (b == "MergedWithNext") return SplitBehavior::kMergedWithNext;
    if (b == "Contiguous") return SplitBehavior::kContiguous;
    fail(part + "." + key, "expected Removed, Isolated, MergedWithPrevious, MergedWithNext or Contiguous, found \"" +
                               std::string(b) + "\"");
  }

  // Collects pre-tokenizer steps in order (Sequences flattened); regex texts go to `regexes`
  // (empty for non-regex steps), for recognising the hand-written scanners.
  void pre_tokenizer_steps(element e, TokenizerImpl& t, const std::string& part, std::vector<std::string>& regexes) const {
    object o = obj(e, part);
    const std::string type = type_of(o, part);
    using K = PreTokenizerStep::Kind;
    if (!t.pre.empty() && t.pre.back().kind == K::kByteLevel && type != "Sequence")
      fail(part, "a pre-tokenizer after ByteLevel is not supported (it would see GPT-2 byte characters)");
    PreTokenizerStep st{};
    std::string regex_text;
    if (type == "Sequence") {
      each(o, "pretokenizers", part, [&](element x, const std::string& p) { pre_tokenizer_steps(x, t, p, regexes); });
      return;
    } else if (type == "Split") {
      st.kind = K::kSplit;
      object pat = obj(need(o, "pattern", part), part + ".pattern");
      if (auto r = member(pat, "Regex")) regex_text = std::string(str(*r, part + ".pattern.Regex"));
      st.regex = pattern(o, part);
      st.behavior = behavior(o, part);
      st.invert = flag(o, "invert", false, part);
    } else if (type == "ByteLevel") {
      st.kind = K::kByteLevel;
      st.add_prefix_space = flag(o, "add_prefix_space", true, part);
      st.use_regex = flag(o, "use_regex", true, part);
      t.byte_level = true;
    } else if (type == "Metaspace") {
      st.kind = K::kMetaspace;
      MetaspaceSpec& m = st.metaspace;
      if (auto r = member(o, "replacement")) m.replacement = std::string(str(*r, part + ".replacement"));
      if (m.replacement.empty() || static_cast<size_t>(text::utf8_len(static_cast<uint8_t>(m.replacement[0]))) != m.replacement.size())
        fail(part + ".replacement", "expected one character");
      if (auto s = member(o, "prepend_scheme")) {
        const std::string_view v = str(*s, part + ".prepend_scheme");
        if (v == "always") m.scheme = MetaspaceSpec::Scheme::kAlways;
        else if (v == "first") m.scheme = MetaspaceSpec::Scheme::kFirst;
        else if (v == "never") m.scheme = MetaspaceSpec::Scheme::kNever;
        else fail(part + ".prepend_scheme", "expected always, first or never, found \"" + std::string(v) + "\"");
        if (!flag(o, "add_prefix_space", true, part) && m.scheme != MetaspaceSpec::Scheme::kNever)
          fail(part + ".add_prefix_space", "false does not match prepend_scheme (HF refuses this file too)");
      } else {
        m.scheme = flag(o, "add_prefix_space", true, part) ? MetaspaceSpec::Scheme::kAlways : MetaspaceSpec::Scheme::kNever;
      }
      m.split = flag(o, "split", true, part);
    } else if (type == "Digits") {
      st.kind = K::kDigits;
      st.behavior = flag(o, "individual_digits", false, part) ? SplitBehavior::kIsolated : SplitBehavior::kContiguous;
    } else if (type == "Punctuation") {
      st.kind = K::kPunctuation;
      st.behavior = member(o, "behavior") ? behavior(o, part) : SplitBehavior::kIsolated;
    } else if (type == "Whitespace") {
      st.kind = K::kWhitespace;
      st.behavior = SplitBehavior::kRemoved;
      st.invert = true;  // the matches are the pieces; the gaps (whitespace) are removed
    } else if (type == "WhitespaceSplit") {
      st.kind = K::kWhitespaceSplit;
      st.behavior = SplitBehavior::kRemoved;
    } else if (type == "CharDelimiterSplit") {
      st.kind = K::kCharDelimiter;
      st.behavior = SplitBehavior::kRemoved;
      const std::string_view d = str(need(o, "delimiter", part), part + ".delimiter");
      int n = 0;
      if (!d.empty()) st.delimiter = text::utf8_decode(d.data(), d.data() + d.size(), &n);
      if (d.empty() || static_cast<size_t>(n) != d.size()) fail(part + ".delimiter", "expected one character");
    } else {
      unsupported(part, type, "Sequence, Split, ByteLevel, Metaspace, Digits, Punctuation, Whitespace, WhitespaceSplit, CharDelimiterSplit");
    }
    t.pre.push_back(std::move(st));
    regexes.push_back(std::move(regex_text));
  }

  // Drops a String Split that cannot match: its literal is one character that the last normalizer
  // step replaced everywhere by text without it (Gemma: Replace " " -> "▁", then Split on " ").
  static void drop_dead_splits(TokenizerImpl& t, std::vector<std::string>& regexes) {
    if (t.normalizer.empty()) return;
    const NormalizerStep& last = t.normalizer.back();
    if (last.kind != NormalizerStep::Kind::kReplace || last.regex || last.text.empty()) return;
    int n;
    text::utf8_decode(last.text.data(), last.text.data() + last.text.size(), &n);
    if (static_cast<size_t>(n) != last.text.size() || last.content.find(last.text) != std::string::npos) return;
    for (size_t i = 0; i < t.pre.size(); ++i) {
      const PreTokenizerStep& st = t.pre[i];
      if (st.kind != PreTokenizerStep::Kind::kSplit || !regexes[i].empty() || st.regex->compiled_pattern() != last.text) break;
      // No match anywhere: one gap, which every behaviour keeps whole (and invert would remove it).
      if (st.invert) break;
      t.pre.erase(t.pre.begin() + static_cast<long>(i));
      regexes.erase(regexes.begin() + static_cast<long>(i));
      --i;
    }
  }

  // Chooses the fast shape that is exactly equivalent to t.pre, or the general path.
  static void plan_pre_tokenizer(TokenizerImpl& t, const std::vector<std::string>& regexes) {
    using K = PreTokenizerStep::Kind;
    auto& pre = t.pre;
    if (pre.empty()) return;
    if (pre.size() == 1 && pre[0].kind == K::kMetaspace) {
      t.metaspace = pre[0].metaspace;
      return;
    }
    if (pre.size() == 1 && pre[0].kind == K::kByteLevel) {
      t.byte_level_prefix_space = pre[0].add_prefix_space;  // the whole run is the one piece
      if (pre[0].use_regex) t.splits.push_back(SplitPattern::kGpt2);
      return;
    }
    // Isolated Split regexes with a scanner, then ByteLevel without a prefix space.
    const size_t n = pre.size();
    if (pre[n - 1].kind == K::kByteLevel && !pre[n - 1].add_prefix_space) {
      std::vector<SplitPattern> scanners;
      bool ok = true;
      std::vector<std::string> isolated;
      for (size_t i = 0; i + 1 < n && ok; ++i) {
        const PreTokenizerStep& st = pre[i];
        if (st.kind != K::kSplit || regexes[i].empty()) ok = false;
        else if (st.behavior == SplitBehavior::kIsolated && !st.invert) isolated.push_back(regexes[i]);
        // Removed + invert keeps exactly the matches: the same pieces as Isolated when the
        // pattern matches every character, which each scanner's pattern does.
        else if (st.behavior == SplitBehavior::kRemoved && st.invert && recognise_split_pattern(regexes[i])) isolated.push_back(regexes[i]);
        else ok = false;
      }
      if (ok && isolated.size() > 1) {
        if (auto seq = recognise_split_sequence(isolated)) scanners.push_back(*seq);
        else ok = false;
      } else if (ok && isolated.size() == 1) {
        if (auto one = recognise_split_pattern(isolated[0])) scanners.push_back(*one);
        else ok = false;
      }
      if (ok) {
        if (pre[n - 1].use_regex) scanners.push_back(SplitPattern::kGpt2);
        t.splits = std::move(scanners);
        return;
      }
    }
    // Anything else runs step by step; recognised regexes still use their scanner.
    t.general_pre = true;
    for (size_t i = 0; i < n; ++i) {
      PreTokenizerStep& st = pre[i];
      if (st.kind == K::kSplit && !regexes[i].empty() && st.behavior == SplitBehavior::kIsolated && !st.invert)
        if (auto one = recognise_split_pattern(regexes[i])) {
          st.kind = K::kScanner;
          st.scanner = *one;
        }
    }
  }

  void pre_tokenizer(element e, TokenizerImpl& t) const {
    std::vector<std::string> regexes;
    pre_tokenizer_steps(e, t, "pre_tokenizer", regexes);
    drop_dead_splits(t, regexes);
    plan_pre_tokenizer(t, regexes);
  }

  // What model() leaves for build_tokenizer, which finishes id_to_token with the added tokens:
  // the vocabulary's strings (views into the parsed document) and an index of them.
  struct Vocab {
    std::vector<std::string_view> names;  // id → token as the file spells it; "" for none
    // Byte-level models only: the index of names (the model's own index is of token bytes; for
    // other models the two are the same, and the model's answers).
    StringTable names_table;
    StringIdMap by_names;
    uint32_t find(std::string_view name, const BpeModel& model, bool byte_level) const {
      return byte_level ? by_names.find(name) : model.token_id(name);
    }
  };

  void model(object root, TokenizerImpl& t, Vocab& v, CompiledVocabulary* compiled) const {
    const std::string part = "model";
    object o = obj(need(root, "model", "tokenizer.json"), part);
    if (auto ty = member(o, "type")) {
      const std::string type(str(*ty, "model.type"));
      if (type != "BPE") unsupported(part, type, "BPE");
    }
    if (auto d = member(o, "dropout")) {
      double p;
      if (d->get(p) || p != 0.0) fail("model.dropout", "BPE dropout is random; only null is supported");
    }
    // An empty prefix or suffix changes nothing (cl100k and o200k files write "").
    for (const char* k : {"continuing_subword_prefix", "end_of_word_suffix"}) {
      if (auto x = member(o, k); x && !str(*x, std::string("model.") + k).empty())
        fail(std::string("model.") + k, "is not supported (expected null or \"\")");
    }
    if (compiled) {  // from the cache: what the rest of this function made from the whole file
      t.model = std::move(compiled->model);
      t.joins = std::move(compiled->joins);
      t.cut_at_metaspace = compiled->cut_at_metaspace;
      return;
    }
    object vocab = obj(need(o, "vocab", part), "model.vocab");
    std::vector<std::pair<std::string_view, uint32_t>> entries;
    entries.reserve(vocab.size());
    size_t vocab_size = 0;
    for (auto [key, value] : vocab) {
      uint64_t id;
      if (value.get(id) || id >= (1u << 31))
        fail("model.vocab[\"" + std::string(key) + "\"]", "expected an id below 2^31");
      entries.emplace_back(key, static_cast<uint32_t>(id));
      vocab_size = std::max<size_t>(vocab_size, id + 1);
    }
    for (const auto& a : t.added) vocab_size = std::max<size_t>(vocab_size, size_t{a.id} + 1);
    v.names.assign(vocab_size, std::string_view());
    for (const auto& [tok, id] : entries) {
      if (!v.names[id].empty()) fail("model.vocab", "id " + std::to_string(id) + " is used twice");
      v.names[id] = tok;
    }
    StringTable names(v.names);
    StringIdMap by_token;  // first id kept where a token repeats
    const uint32_t repeated = by_token.build(names);
    StringTable token_bytes;  // byte-level: the tokens as bytes (other models: names itself)
    if (t.byte_level) {
      std::string blob;
      std::vector<size_t> ends(vocab_size);
      for (uint32_t id = 0; id < vocab_size; ++id) {
        if (!v.names[id].empty()) {
          bool exact;
          std::string bytes = byte_level_to_bytes(v.names[id], &exact);
          if (exact) blob += bytes;  // other tokens cannot come out of byte-level BPE
        }
        ends[id] = blob.size();
      }
      std::vector<std::string_view> views(vocab_size);
      for (uint32_t id = 0; id < vocab_size; ++id) {
        const size_t begin = id ? ends[id - 1] : 0;
        views[id] = std::string_view(blob).substr(begin, ends[id] - begin);
      }
      token_bytes = StringTable(views);
    }

    BpeOptions opt;
    opt.byte_level = t.byte_level;
    opt.byte_fallback = flag(o, "byte_fallback", false, part);
    opt.fuse_unk = flag(o, "fuse_unk", false, part);
    opt.ignore_merges = flag(o, "ignore_merges", false, part);
    if (auto u = member(o, "unk_token")) {
      const std::string_view unk = str(*u, "model.unk_token");
      opt.unk_id = by_token.find(unk);
      if (opt.unk_id == StringIdMap::kNone) fail("model.unk_token", "\"" + std::string(unk) + "\" is not in the vocabulary");
    }

    std::vector<MergeRule> merges;
    bool cut_ok = !t.byte_level;
    // Join table: exact only if unknown characters cannot interact across a cut.
    bool full_fallback = opt.byte_fallback;
    for (int b = 0; b < 256 && full_fallback; ++b) {
      char name[8];
      std::snprintf(name, sizeof name, "<0x%02X>", b);
      full_fallback = by_token.find(name) != StringIdMap::kNone;
    }
    bool joins_ok = !t.byte_level && (full_fallback || !opt.fuse_unk || opt.unk_id == StringIdMap::kNone);
    auto is_special_symbol = [&](std::string_view tok) {
      return (tok.size() == 6 && tok.substr(0, 3) == "<0x" && tok[5] == '>') ||
             (opt.unk_id != StringIdMap::kNone && tok == v.names[opt.unk_id]);
    };
    size_t i = 0;  // merges checked
    auto mp = [&] { return "model.merges[" + std::to_string(i) + "]"; };
    array merge_list = arr(need(o, "merges", part), "model.merges");
    merges.reserve(merge_list.size());
    // In blocks: parse a block and prefetch the index slots of its three lookups per merge, then
    // look up and check in order (a large vocabulary's index misses the caches on every probe;
    // this overlaps the misses).
    struct Pending {
      std::string_view left, right;
      uint64_t hl, hr, hj;
      size_t joined_at;
    };
    constexpr size_t kBlock = 32;
    Pending block[kBlock];
    size_t pending = 0;
    std::string joined;  // the block's concatenations, back to back
    auto check_block = [&] {
      for (size_t k = 0; k < pending; ++k, ++i) {
        const Pending& q = block[k];
        const std::string_view left = q.left, right = q.right;
        const std::string_view both(joined.data() + q.joined_at, left.size() + right.size());
        const uint32_t l = by_token.find(left, q.hl), r = by_token.find(right, q.hr), res = by_token.find(both, q.hj);
        if (l == StringIdMap::kNone || r == StringIdMap::kNone || res == StringIdMap::kNone)
          fail(mp(), "\"" + std::string(left) + " " + std::string(right) + "\" uses or makes a token missing from the vocabulary");
        merges.push_back(MergeRule{l, r, res});
        if (joins_ok) {
          if (is_special_symbol(left) || is_special_symbol(right)) {
            joins_ok = false;
          } else {
            int len;
            const size_t last = text::utf8_last_char_start(left);
            const uint32_t x = text::utf8_decode(left.data() + last, left.data() + left.size(), &len);
            const uint32_t y = text::utf8_decode(right.data(), right.data() + right.size(), &len);
            t.joins.add(x, y);
          }
        }
        // A merge that glues a non-"▁" character to a following "▁" forbids cutting there.
        if (cut_ok && right.substr(0, kMetaspace.size()) == kMetaspace &&
            !(left.size() >= kMetaspace.size() && left.substr(left.size() - kMetaspace.size()) == kMetaspace))
          cut_ok = false;
      }
      pending = 0;
      joined.clear();
    };
    for (element m : merge_list) {
      std::string_view left, right;
      std::string_view s;
      if (!m.get(s)) {
        const size_t sp = s.find(' ');
        if (sp == std::string_view::npos || s.find(' ', sp + 1) != std::string_view::npos) {
          check_block();  // earlier merges are reported first
          fail(mp(), "expected \"LEFT RIGHT\", found \"" + std::string(s) + "\"");
        }
        left = s.substr(0, sp);
        right = s.substr(sp + 1);
      } else {
        array pair;
        if (m.get(pair) || pair.size() != 2 || pair.at(0).get(left) || pair.at(1).get(right)) {
          check_block();
          fail(mp(), "expected \"LEFT RIGHT\" or [\"LEFT\", \"RIGHT\"]");
        }
      }
      Pending& q = block[pending++];
      q.left = left;
      q.right = right;
      q.joined_at = joined.size();
      joined.append(left).append(right);
      q.hl = hash_bytes(left);
      q.hr = hash_bytes(right);
      q.hj = hash_bytes(std::string_view(joined).substr(q.joined_at));
      by_token.prefetch(q.hl);
      by_token.prefetch(q.hr);
      by_token.prefetch(q.hj);
      if (pending == kBlock) check_block();
    }
    check_block();
    if (joins_ok && !opt.ignore_merges) t.joins.enable();
    // Cutting is exact only where the whole segment would otherwise be one word.
    t.cut_at_metaspace = cut_ok && !opt.ignore_merges && !t.general_pre && t.splits.empty() && (!t.metaspace || !t.metaspace->split);
    if (t.byte_level) {
      t.model = std::make_unique<BpeModel>(std::move(token_bytes), std::move(merges), opt, origin_);
      v.names_table = std::move(names);
      v.by_names = std::move(by_token);  // its keys are in names_table, moved with it
    } else {
      t.model = std::make_unique<BpeModel>(std::move(names), std::move(merges), opt, origin_, &by_token, repeated);
    }
  }

  void post_processor(element e, TokenizerImpl& t, const std::string& part) const {
    object o = obj(e, part);
    const std::string type = type_of(o, part);
    if (type == "Sequence") {
      each(o, "processors", part, [&](element x, const std::string& p) { post_processor(x, t, p); });
    } else if (type == "ByteLevel") {
      // Adjusts offsets only; ids are unchanged.
    } else if (type == "TemplateProcessing") {
      object specials = obj(need(o, "special_tokens", part), part + ".special_tokens");
      bool seen_sequence = false;
      size_t i = 0;
      for (element x : arr(need(o, "single", part), part + ".single")) {
        const std::string ip = part + ".single[" + std::to_string(i++) + "]";
        object item = obj(x, ip);
        if (auto seq = member(item, "Sequence")) {
          seen_sequence = true;
          continue;
        }
        auto sp = member(item, "SpecialToken");
        if (!sp) fail(ip, "expected Sequence or SpecialToken");
        const std::string_view name = str(need(obj(*sp, ip), "id", ip), ip + ".SpecialToken.id");
        element def;
        if (specials.at_key(name).get(def)) fail(ip, "special token \"" + std::string(name) + "\" is not defined in special_tokens");
        for (element id : arr(need(obj(def, ip), "ids", ip), ip + ".ids")) {
          const uint64_t v = uint(id, ip + ".ids");
          if (v >= t.id_to_token.size()) fail(ip, "id " + std::to_string(v) + " is outside the vocabulary");
          (seen_sequence ? t.suffix_ids : t.prefix_ids).push_back(static_cast<uint32_t>(v));
        }
      }
    } else if (type == "BertProcessing" || type == "RobertaProcessing") {
      // single: [cls] A [sep]; each given as ["token", id].
      for (const char* key : {"cls", "sep"}) {
        const std::string kp = part + "." + key;
        array pair = arr(need(o, key, part), kp);
        if (pair.size() != 2) fail(kp, "expected [\"TOKEN\", ID]");
        const uint64_t v = uint(pair.at(1).value_unsafe(), kp + "[1]");
        if (v >= t.id_to_token.size()) fail(kp, "id " + std::to_string(v) + " is outside the vocabulary");
        (std::string_view(key) == "cls" ? t.prefix_ids : t.suffix_ids).push_back(static_cast<uint32_t>(v));
      }
    } else {
      unsupported(part, type, "TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel, Sequence");
    }
  }

  void decoder(element e, TokenizerImpl& t, const std::string& part) const {
    object o = obj(e, part);
    const std::string type = type_of(o, part);
    using K = DecoderStep::Kind;
    if (type == "Sequence") {
      each(o, "decoders", part, [&](element x, const std::string& p) { decoder(x, t, p); });
    } else if (type == "ByteLevel") {
      t.decoder.push_back({K::kByteLevel, "", "", 0, 0, true});
    } else if (type == "ByteFallback") {
      t.decoder.push_back({K::kByteFallback, "", "", 0, 0, true});
    } else if (type == "Fuse") {
      t.decoder.push_back({K::kFuse, "", "", 0, 0, true});
    } else if (type == "Replace") {
      t.decoder.push_back({K::kReplace, string_pattern(o, part),
                           std::string(str(need(o, "content", part), part + ".content")), 0, 0, true});
    } else if (type == "Strip") {
      t.decoder.push_back({K::kStrip, "", std::string(str(need(o, "content", part), part + ".content")),
                           uint(need(o, "start", part), part + ".start"), uint(need(o, "stop", part), part + ".stop"), true});
    } else if (type == "Metaspace") {
      DecoderStep d{K::kMetaspace, "", std::string(kMetaspace), 0, 0, true};
      if (auto r = member(o, "replacement")) d.content = std::string(str(*r, part + ".replacement"));
      if (auto s = member(o, "prepend_scheme")) d.prepend = str(*s, part + ".prepend_scheme") != "never";
      else d.prepend = flag(o, "add_prefix_space", true, part);
      t.decoder.push_back(d);
    } else {
      unsupported(part, type, "Sequence, ByteLevel, ByteFallback, Fuse, Replace, Strip, Metaspace");
    }
  }

 private:
  const std::string& origin_;
};

// Names the tokenizer file in manifests. Not cryptographic: 64 bits of hash_bytes (8 bytes a
// step; a byte-at-a-time hash costs more than parsing the 9 MB LLaMA-3 file).
std::string content_hash_hex(std::string_view data) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(hash_bytes(data)));
  return buf;
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
}

// The document with the values of model.vocab and model.merges written as {} and [], every other
// member as the same JSON value (minified): what the load cache keeps for the Loader to read
// again, a small fraction of the file.
std::string config_without_vocabulary(object root) {
  std::string out = "{";
  for (auto [key, value] : root) {
    if (out.size() > 1) out += ',';
    append_json_string(out, key);
    out += ':';
    object model;
    if (key != "model" || value.get(model)) {
      out += simdjson::minify(value);
      continue;
    }
    out += '{';
    bool first = true;
    for (auto [k, v] : model) {
      if (!first) out += ',';
      first = false;
      append_json_string(out, k);
      out += ':';
      if (k == "vocab" && v.is_object()) out += "{}";
      else if (k == "merges" && v.is_array()) out += "[]";
      else out += simdjson::minify(v);
    }
    out += '}';
  }
  return out + "}";
}

}  // namespace

std::unique_ptr<TokenizerImpl> build_tokenizer(std::string_view json, const std::string& origin,
                                               const BuildOptions& options) {
  CompiledVocabulary* const compiled = options.compiled;
  auto t = std::make_unique<TokenizerImpl>();
  t->origin = origin;
  t->hash = compiled ? compiled->hash : content_hash_hex(json);
  Loader ld(origin);
  simdjson::dom::parser parser;
  element root_el;
  if (auto err = parser.parse(json.data(), json.size(), !options.padded).get(root_el))
    throw Error(origin + ": not valid JSON: " + simdjson::error_message(err));
  object root = ld.obj(root_el, "tokenizer.json");
  if (options.config) *options.config = config_without_vocabulary(root);

  ld.added_tokens(root, *t);
  if (auto n = Loader::member(root, "normalizer")) ld.normalizer(*n, *t, "normalizer");
  if (auto p = Loader::member(root, "pre_tokenizer")) ld.pre_tokenizer(*p, *t);
  Loader::Vocab v;  // views into the parsed document: used before `parser` goes
  ld.model(root, *t, v, compiled);
  if (compiled) {
    if (compiled->added_ids.size() != t->added.size() || compiled->special.size() != compiled->id_to_token.size())
      throw Error(origin + ": the cached vocabulary does not fit the file");
    for (size_t i = 0; i < t->added.size(); ++i) {
      t->added[i].id = compiled->added_ids[i];
      if (t->added[i].id >= compiled->id_to_token.size()) throw Error(origin + ": the cached vocabulary does not fit the file");
    }
    t->id_to_token = std::move(compiled->id_to_token);
    t->special = std::move(compiled->special);
  } else {
    // HF gives an added token whose text is in the model's vocabulary the model's id, whatever
    // the file says.
    for (AddedToken& a : t->added)
      if (const uint32_t id = v.find(a.content, *t->model, t->byte_level); id != StringIdMap::kNone) a.id = id;
    t->special.assign(v.names.size(), 0);
    for (const AddedToken& a : t->added) {
      v.names[a.id] = a.content;
      t->special[a.id] = a.special;
    }
    t->id_to_token = StringTable(v.names);
  }
  std::vector<AddedToken> raw, normalized;
  std::string norm, tmp;
  for (const AddedToken& a : t->added) {
    if (!a.normalized) {
      raw.push_back(a);
      continue;
    }
    // HF matches a normalized token by its normalized content, in normalized text.
    AddedToken n = a;
    if (!t->normalizer.empty()) {
      normalize(t->normalizer, a.content, norm, tmp);
      n.content = norm;
    }
    normalized.push_back(std::move(n));
  }
  t->matcher = std::make_unique<AddedTokenMatcher>(raw);
  if (!normalized.empty()) t->normalized_matcher = std::make_unique<AddedTokenMatcher>(normalized);
  t->raw_spaces = spaces_stand_for_metaspace(*t);
  if (auto p = Loader::member(root, "post_processor")) ld.post_processor(*p, *t, "post_processor");
  if (auto d = Loader::member(root, "decoder")) ld.decoder(*d, *t, "decoder");
  return t;
}

// SentencePiece-style tokenizers (LLaMA-2, Mistral, Gemma 3) whose normalizer only turns " " into
// "▁" (after an optional Prepend("▁")) and whose words are cut at joins: the encoder can cut the
// raw text itself, reading " " as "▁" (EncoderState::raw_segment). Added tokens matched in
// normalized text would need the normalized text: not then.
bool spaces_stand_for_metaspace(const TokenizerImpl& t) {
  using K = NormalizerStep::Kind;
  const auto& n = t.normalizer;
  auto replace_space = [](const NormalizerStep& s) {
    return s.kind == K::kReplace && !s.regex && s.text == " " && s.content == kMetaspace;
  };
  const bool shape = (n.size() == 1 && replace_space(n[0])) ||
                     (n.size() == 2 && n[0].kind == K::kPrepend && n[0].text == kMetaspace && replace_space(n[1]));
  return shape && !t.normalized_matcher && !t.general_pre && !t.metaspace && !t.byte_level_prefix_space &&
         t.splits.empty() && t.joins.enabled();
}

}  // namespace longctx::tokenizer
