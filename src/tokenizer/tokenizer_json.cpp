// tokenizer.json → TokenizerImpl. Validates everything it reads; refuses, with one line naming the
// file and the part, any component whose behaviour we do not reproduce exactly.
#include <simdjson.h>


#include "byte_level.h"
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

  void normalizer(element e, TokenizerImpl& t, const std::string& part) const {
    object o = obj(e, part);
    const std::string type = type_of(o, part);
    if (type == "Sequence") {
      each(o, "normalizers", part, [&](element x, const std::string& p) { normalizer(x, t, p); });
    } else if (type == "Prepend") {
      t.normalizer.push_back({NormalizerStep::Kind::kPrepend, std::string(str(need(o, "prepend", part), part + ".prepend")), ""});
    } else if (type == "Replace") {
      t.normalizer.push_back({NormalizerStep::Kind::kReplace, string_pattern(o, part),
                              std::string(str(need(o, "content", part), part + ".content"))});
    } else {
      unsupported(part, type, "Sequence, Prepend, Replace");
    }
  }

  // Collects pre-tokenizer steps in order; validated by pre_tokenizer().
  void pre_tokenizer_steps(element e, TokenizerImpl& t, const std::string& part, std::vector<std::string>& kinds) const {
    object o = obj(e, part);
    const std::string type = type_of(o, part);
    if (type == "Sequence") {
      each(o, "pretokenizers", part, [&](element x, const std::string& p) { pre_tokenizer_steps(x, t, p, kinds); });
    } else if (type == "Split") {
      object pat = obj(need(o, "pattern", part), part + ".pattern");
      auto re = member(pat, "Regex");
      if (!re) fail(part + ".pattern", "only {\"Regex\": ...} patterns are supported");
      const std::string_view regex = str(*re, part + ".pattern.Regex");
      const auto known = recognise_split_pattern(regex);
      if (!known)
        fail(part + ".pattern.Regex", "no exact scanner for this regex (supported: the LLaMA-3/cl100k, Qwen2 and GPT-2 patterns)");
      const std::string_view behavior = str(need(o, "behavior", part), part + ".behavior");
      if (behavior != "Isolated") fail(part + ".behavior", "\"" + std::string(behavior) + "\" is not supported (supported: Isolated)");
      if (flag(o, "invert", false, part)) fail(part + ".invert", "true is not supported");
      if (t.byte_level) fail(part, "a Split after ByteLevel is not supported");
      t.splits.push_back(*known);
      kinds.push_back("Split");
    } else if (type == "ByteLevel") {
      if (t.byte_level) fail(part, "two ByteLevel pre-tokenizers");
      t.byte_level = true;
      t.byte_level_prefix_space = flag(o, "add_prefix_space", true, part);
      if (t.byte_level_prefix_space && !t.splits.empty())
        fail(part + ".add_prefix_space", "true after a Split is not supported");
      if (flag(o, "use_regex", true, part)) t.splits.push_back(SplitPattern::kGpt2);
      kinds.push_back("ByteLevel");
    } else if (type == "Metaspace") {
      MetaspaceSpec m;
      if (auto r = member(o, "replacement")) m.replacement = std::string(str(*r, part + ".replacement"));
      if (auto s = member(o, "prepend_scheme")) {
        const std::string_view v = str(*s, part + ".prepend_scheme");
        if (v == "always") m.scheme = MetaspaceSpec::Scheme::kAlways;
        else if (v == "first") m.scheme = MetaspaceSpec::Scheme::kFirst;
        else if (v == "never") m.scheme = MetaspaceSpec::Scheme::kNever;
        else fail(part + ".prepend_scheme", "expected always, first or never, found \"" + std::string(v) + "\"");
      } else {
        m.scheme = flag(o, "add_prefix_space", true, part) ? MetaspaceSpec::Scheme::kAlways : MetaspaceSpec::Scheme::kNever;
      }
      m.split = flag(o, "split", true, part);
      t.metaspace = m;
      kinds.push_back("Metaspace");
    } else {
      unsupported(part, type, "Sequence, Split, ByteLevel, Metaspace");
    }
  }

  void pre_tokenizer(element e, TokenizerImpl& t) const {
    std::vector<std::string> kinds;
    pre_tokenizer_steps(e, t, "pre_tokenizer", kinds);
    if (t.metaspace && kinds.size() != 1)
      fail("pre_tokenizer", "Metaspace combined with other pre-tokenizers is not supported");
    if (!t.splits.empty() && !t.byte_level)
      fail("pre_tokenizer", "a Split without ByteLevel is not supported");
  }

  void model(object root, TokenizerImpl& t, size_t& vocab_size, StringIdMap& by_token) const {
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
    for (const char* k : {"continuing_subword_prefix", "end_of_word_suffix"}) {
      if (auto x = member(o, k); x && !str(*x, std::string("model.") + k).empty())
        fail(std::string("model.") + k, "is not supported (expected null)");
    }
    object vocab = obj(need(o, "vocab", part), "model.vocab");
    std::vector<std::pair<std::string_view, uint32_t>> entries;
    entries.reserve(vocab.size());
    for (auto [key, value] : vocab) {
      uint64_t id;
      if (value.get(id) || id >= (1u << 31))
        fail("model.vocab[\"" + std::string(key) + "\"]", "expected an id below 2^31");
      entries.emplace_back(key, static_cast<uint32_t>(id));
      vocab_size = std::max<size_t>(vocab_size, id + 1);
    }
    for (const auto& a : t.added) vocab_size = std::max<size_t>(vocab_size, size_t{a.id} + 1);
    t.id_to_token.assign(vocab_size, "");
    t.special.assign(vocab_size, 0);
    std::vector<std::string> token_bytes(vocab_size);
    for (const auto& [tok, id] : entries) {
      if (!t.id_to_token[id].empty()) fail("model.vocab", "id " + std::to_string(id) + " is used twice");
      t.id_to_token[id] = std::string(tok);
      if (t.byte_level) {
        bool exact;
        std::string bytes = byte_level_to_bytes(tok, &exact);
        if (exact) token_bytes[id] = std::move(bytes);  // other tokens cannot come out of byte-level BPE
      } else {
        token_bytes[id] = std::string(tok);
      }
    }
    by_token.reserve(vocab_size);
    for (uint32_t id = 0; id < vocab_size; ++id)
      if (!t.id_to_token[id].empty()) by_token.insert(t.id_to_token[id], id);

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
             (opt.unk_id != StringIdMap::kNone && tok == t.id_to_token[opt.unk_id]);
    };
    size_t i = 0;
    std::string joined;
    array merge_list = arr(need(o, "merges", part), "model.merges");
    merges.reserve(merge_list.size());
    t.joins.reserve(merge_list.size());
    for (element m : merge_list) {
      auto mp = [&] { return "model.merges[" + std::to_string(i) + "]"; };
      std::string_view left, right;
      std::string_view s;
      if (!m.get(s)) {
        const size_t sp = s.find(' ');
        if (sp == std::string_view::npos || s.find(' ', sp + 1) != std::string_view::npos)
          fail(mp(), "expected \"LEFT RIGHT\", found \"" + std::string(s) + "\"");
        left = s.substr(0, sp);
        right = s.substr(sp + 1);
      } else {
        array pair;
        if (m.get(pair) || pair.size() != 2 || pair.at(0).get(left) || pair.at(1).get(right))
          fail(mp(), "expected \"LEFT RIGHT\" or [\"LEFT\", \"RIGHT\"]");
      }
      joined.assign(left).append(right);
      const uint32_t l = by_token.find(left), r = by_token.find(right), res = by_token.find(joined);
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
      ++i;
    }
    if (joins_ok && !opt.ignore_merges) t.joins.enable();
    // Cutting is exact only where the whole segment would otherwise be one word.
    t.cut_at_metaspace = cut_ok && !opt.ignore_merges && t.splits.empty() && (!t.metaspace || !t.metaspace->split);
    t.model = std::make_unique<BpeModel>(std::move(token_bytes), merges, opt, origin_);
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
    } else {
      unsupported(part, type, "TemplateProcessing, ByteLevel, Sequence");
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

}  // namespace

std::unique_ptr<TokenizerImpl> build_tokenizer(std::string_view json, const std::string& origin) {
  auto t = std::make_unique<TokenizerImpl>();
  t->origin = origin;
  t->hash = content_hash_hex(json);
  Loader ld(origin);
  simdjson::dom::parser parser;
  element root_el;
  if (auto err = parser.parse(json.data(), json.size()).get(root_el))
    throw Error(origin + ": not valid JSON: " + simdjson::error_message(err));
  object root = ld.obj(root_el, "tokenizer.json");

  ld.added_tokens(root, *t);
  if (auto n = Loader::member(root, "normalizer")) ld.normalizer(*n, *t, "normalizer");
  if (auto p = Loader::member(root, "pre_tokenizer")) ld.pre_tokenizer(*p, *t);
  if (t->metaspace && !t->normalizer.empty())
    ld.fail("normalizer", "a normalizer together with a Metaspace pre-tokenizer is not supported");
  size_t vocab_size = 0;
  {
    StringIdMap by_token;  // its keys view id_to_token, which changes below
    ld.model(root, *t, vocab_size, by_token);
    // HF gives an added token whose text is in the model's vocabulary the model's id, whatever
    // the file says.
    for (AddedToken& a : t->added)
      if (const uint32_t id = by_token.find(a.content); id != StringIdMap::kNone) a.id = id;
  }
  for (const AddedToken& a : t->added) {
    if (a.normalized && !t->normalizer.empty())
      ld.fail("added_tokens", "\"" + a.content + "\" is normalized; normalized added tokens with a normalizer are not supported");
    t->id_to_token[a.id] = a.content;
    t->special[a.id] = a.special;
  }
  t->matcher = std::make_unique<AddedTokenMatcher>(t->added);
  if (auto p = Loader::member(root, "post_processor")) ld.post_processor(*p, *t, "post_processor");
  if (auto d = Loader::member(root, "decoder")) ld.decoder(*d, *t, "decoder");
  return t;
}

}  // namespace longctx::tokenizer
