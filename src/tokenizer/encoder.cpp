// The encoding pipeline, per text: split out added tokens → normalize each remaining segment →
// pre-tokenize into words → BPE each word (through the piece cache) → post-process.
#include <simdjson.h>

#include <cstring>
#include <memory>
#include <span>
#include <string>

#include "longctx/text/cpu.h"
#include "longctx/text/utf8.h"
#include "longctx/util/error.h"
#include "longctx/tokenizer/tokenizer.h"
#include "ascii_cuts.h"
#include "piece_cache.h"
#include "tokenizer_impl.h"

namespace longctx::tokenizer {

class EncoderState {
 public:
  explicit EncoderState(const TokenizerImpl& t) : t_(t) {
    hot_.fill(t.joins);
    if (t.joins.enabled()) {
      // ASCII pairs, as cut_at_joins reads them: joinable(φ(x), φ(y)), φ(" ") = "▁" when the
      // text is raw (raw_segment), the identity otherwise.
      const auto phi = [&](uint32_t c) { return t.raw_spaces && c == ' ' ? HotJoins::kHot : c; };
      for (uint32_t x = 0; x < 128; ++x)
        for (uint32_t y = 0; y < 128; ++y) ascii_joins_[x * 128 + y] = joinable(phi(x), phi(y));
      raw_ascii_joins_ = t.raw_spaces;
    }
  }

  void encode(std::string_view text, const EncodeOptions& opt, std::vector<uint32_t>& out) {
    if (opt.add_special_tokens) out.insert(out.end(), t_.prefix_ids.begin(), t_.prefix_ids.end());
    matches_.clear();
    if (opt.parse_special || t_.matcher->has_non_special()) t_.matcher->find(text, opt.parse_special, matches_);
    between(text, matches_, out, [&](std::string_view gap, bool at_start) { segment(gap, at_start, opt, out); });
    if (opt.add_special_tokens) out.insert(out.end(), t_.suffix_ids.begin(), t_.suffix_ids.end());
  }

  bool reference = false;

 private:
  // One run of text between raw added tokens; `first` when it starts the input. Normalized, then
  // split again at normalized added tokens, then pre-tokenized.
  void segment(std::string_view raw, bool first, const EncodeOptions& opt, std::vector<uint32_t>& out) {
    if (t_.raw_spaces && !reference) {
      raw_segment(raw, out);
      return;
    }
    std::string_view s = raw;
    bool at_zero = first;
    if (!t_.normalizer.empty()) {
      at_zero = normalize(t_.normalizer, raw, norm_, tmp_) && first;
      s = norm_;
    }
    if (!t_.normalized_matcher) {
      pre_tokenize(s, at_zero, out);
      return;
    }
    nmatches_.clear();
    if (opt.parse_special || t_.normalized_matcher->has_non_special()) t_.normalized_matcher->find(s, opt.parse_special, nmatches_);
    between(s, nmatches_, out, [&](std::string_view gap, bool at_start) { pre_tokenize(gap, at_zero && at_start, out); });
  }

  // Emits the added tokens found in text, in order, and hands each non-empty run between them to
  // f(run, whether it starts the text).
  template <class F>
  static void between(std::string_view text, const std::vector<AddedMatch>& matches, std::vector<uint32_t>& out, F&& f) {
    uint32_t pos = 0;
    for (const AddedMatch& m : matches) {
      if (m.begin > pos) f(text.substr(pos, m.begin - pos), pos == 0);
      out.push_back(m.id);
      pos = m.end;
    }
    if (pos < text.size()) f(text.substr(pos), pos == 0);
  }

  // The text pieces are cut from, copied with PieceCache::kPad bytes after it: every piece word()
  // sees lies in it, so its cache key can be read without branches (PieceCache::make_key).
  // prefix: bytes put before s in the copy (raw_segment's " " for a Prepend("▁")).
  std::string_view pad(std::string_view s, std::string_view prefix = {}) {
    padded_.resize(prefix.size() + s.size() + PieceCache::kPad);
    // An empty view may have a null data(), which memcpy must not get even for 0 bytes.
    if (!prefix.empty()) std::memcpy(padded_.data(), prefix.data(), prefix.size());
    if (!s.empty()) std::memcpy(padded_.data() + prefix.size(), s.data(), s.size());
    return std::string_view(padded_.data(), prefix.size() + s.size());
  }

  void pre_tokenize(std::string_view normalized, bool first, std::vector<uint32_t>& out) {
    if (normalized.empty()) return;
    if (t_.general_pre) {
      buf_.assign(normalized);
      run_.run(t_.pre, buf_, first, pieces_);
      const std::string_view b = pad(buf_);
      for (const PiecesSpan& p : pieces_) piece(b.substr(p.begin, p.end - p.begin), out);
      return;
    }
    std::string_view s = normalized;
    if (t_.metaspace || t_.byte_level_prefix_space) {
      buf_.assign(normalized);
      if (t_.metaspace) apply_metaspace(*t_.metaspace, first, buf_, tmp_);
      if (t_.byte_level_prefix_space) add_prefix_space(buf_);
      s = buf_;
    }
    s = pad(s);
    const auto n = static_cast<uint32_t>(s.size());
    if (!t_.splits.empty()) {
      spans_.clear();
      spans_.push_back(Span{0, n});
      for (SplitPattern p : t_.splits) {
        next_spans_.clear();
        for (const Span& sp : spans_) split_pieces(p, s, sp.begin, sp.end, next_spans_);
        spans_.swap(next_spans_);
      }
      words(s, spans_, out);
    } else if (t_.metaspace && t_.metaspace->split) {
      cut_before_metaspace(s, /*every=*/true, out);
    } else if (t_.joins.enabled() && !reference) {
      cut_at_joins(s, out);
    } else if (t_.cut_at_metaspace && !reference) {
      cut_before_metaspace(s, /*every=*/false, out);
    } else {
      word(s, out);
    }
  }

  // JoinTable::joinable with the commonest non-ASCII pairs of SentencePiece text, "▁" next to an
  // ASCII character or another "▁", answered from masks filled from JoinTable::joinable itself
  // (HotJoins::fill), so every answer is the one the table gives; ASCII pairs go to the table's
  // own bit array, everything else to its hash set. Saves a hash probe per word boundary.
  struct HotJoins {
    static constexpr uint32_t kHot = 0x2581;  // "▁"
    uint64_t after[2] = {}, before[2] = {};   // joinable(▁, y), joinable(x, ▁) for x, y < 128
    bool hot_hot = false;
    void fill(const JoinTable& j) {
      if (!j.enabled()) return;
      for (uint32_t c = 0; c < 128; ++c) {
        if (j.joinable(kHot, c)) after[c >> 6] |= 1ULL << (c & 63);
        if (j.joinable(c, kHot)) before[c >> 6] |= 1ULL << (c & 63);
      }
      hot_hot = j.joinable(kHot, kHot);
    }
  };
  [[gnu::always_inline]] bool joinable(uint32_t x, uint32_t y) const {
    if (x < 128 && y < 128) return t_.joins.joinable(x, y);
    if (x == HotJoins::kHot) {
      if (y < 128) return (hot_.after[y >> 6] >> (y & 63)) & 1;
      if (y == HotJoins::kHot) return hot_.hot_hot;
    } else if (y == HotJoins::kHot && x < 128) {
      return (hot_.before[x >> 6] >> (x & 63)) & 1;
    }
    return t_.joins.joinable(x, y);
  }

  // Cuts a SentencePiece-style word wherever no merge can join the characters on either side
  // (join_table.h) and encodes the parts. kRaw: s is raw text in which " " stands for "▁"
  // (raw_segment).
  //
  // Between two ASCII characters (most of real text) the answer comes from ascii_joins_, and the
  // piece is written whether or not it ends there, only counted when it does: no branch on the
  // answer, which varies at random (a cut every few bytes). Characters are read raw and mapped
  // (φ) only on the general path: the table was made with the same map.
  template <bool kRaw = false>
  void cut_at_joins(std::string_view s, std::vector<uint32_t>& out) {
    // The table of a raw_spaces tokenizer reads " " as "▁"; its text reaches here only through
    // raw_segment (segment sends every run there except in reference mode, which never cuts).
    if (!kRaw && raw_ascii_joins_) throw Error("internal: normalized text cut with the raw-text table");
    const auto* p = reinterpret_cast<const uint8_t*>(s.data());
    const auto* const begin = p;
    const auto* const end = p + s.size();
    // Pieces go to words() kCutBlock at a time: memory stays bounded however long the text.
    // kCutBlock pieces and the last one, plus room for ascii_cut_spans' whole groups of 16.
    if (!cuts_) cuts_ = std::make_unique<Span[]>(kCutBlock + 80);
    Span* cuts = cuts_.get();
    size_t n = 0;
    uint32_t start = 0;
    const auto phi = [](uint32_t c) { return kRaw && c == ' ' ? HotJoins::kHot : c; };
    int len;
    uint32_t prev = text::utf8_decode(reinterpret_cast<const char*>(p), reinterpret_cast<const char*>(end), &len);
    p += len;
    while (p < end) {
      if (n == kCutBlock) {  // at most one piece is added per character: cuts[n] stays in bounds
        words<kRaw>(s, std::span<const Span>(cuts, n), out);
        n = 0;
      }
      const auto at = static_cast<uint32_t>(p - begin);
      // 64 ASCII bytes at once where the CPU allows: the same cuts as the byte loop below.
      if (vector_cuts_ && prev < 0x80 && end - p >= 64 && n + 64 <= kCutBlock) {
        const int k = ascii_cut_spans(p, ascii_joins_, at, &start, cuts + n);
        if (k >= 0) {
          n += static_cast<size_t>(k);
          prev = p[63];
          p += 64;
          continue;
        }
      }
      const uint32_t c = *p;
      if ((c | prev) < 0x80) {
        const uint32_t cut = ascii_joins_[prev * 128 + c] ^ 1;
        cuts[n] = Span{start, at};
        n += cut;
        start = cut ? at : start;
        prev = c;
        ++p;
        continue;
      }
      uint32_t cur = c;
      len = 1;
      if (c >= 0x80) cur = text::utf8_decode(reinterpret_cast<const char*>(p), reinterpret_cast<const char*>(end), &len);
      if (!joinable(phi(prev), phi(cur))) {
        cuts[n++] = Span{start, at};
        start = at;
      }
      prev = cur;
      p += len;
    }
    cuts[n++] = Span{start, static_cast<uint32_t>(s.size())};
    words<kRaw>(s, std::span<const Span>(cuts, n), out);
  }

  // A run of text between added tokens, for tokenizers whose normalizer only writes " " as "▁"
  // (after an optional Prepend("▁"), which applies to every non-empty run) and whose words are
  // cut at joins (TokenizerImpl::raw_spaces). The normalized text would be g(" " + raw), g
  // writing each " " as "▁": one character for one, so cutting the raw text with " " read as "▁"
  // cuts at the same characters, and each piece P encodes as g(P) does. The piece cache is keyed
  // by P itself (g is a function, so a key always gets the ids of its own g(P)); only a piece the
  // cache misses is rewritten. Saves the normalizer's pass and copy over every byte.
  void raw_segment(std::string_view raw, std::vector<uint32_t>& out) {
    if (raw.empty()) return;
    const bool prepend = t_.normalizer.front().kind == NormalizerStep::Kind::kPrepend;
    cut_at_joins<true>(pad(raw, prepend ? " " : ""), out);
  }

  // g(w): w with every " " written as "▁".
  std::string_view normalized_piece(std::string_view w) {
    piece_.clear();
    for (size_t i = 0;;) {
      const size_t k = w.find(' ', i);
      if (k == std::string_view::npos) {
        piece_.append(w, i);
        return piece_;
      }
      piece_.append(w, i, k - i).append(kMetaspace);
      i = k + 1;
    }
  }

  // Cuts s before each "▁" (every=true: Metaspace split, each "▁" starts a word) or only before a
  // "▁" that follows another character (every=false: the exact shortcut of cut_at_metaspace).
  void cut_before_metaspace(std::string_view s, bool every, std::vector<uint32_t>& out) {
    const std::string_view rep = t_.metaspace ? std::string_view(t_.metaspace->replacement) : kMetaspace;
    size_t begin = 0;
    size_t k = s.find(rep, rep.size() <= s.size() && s.substr(0, rep.size()) == rep ? rep.size() : 0);
    while (k != std::string_view::npos) {
      const bool after_rep = k >= rep.size() && s.substr(k - rep.size(), rep.size()) == rep;
      if (k > begin && (every || !after_rep)) {
        piece(s.substr(begin, k - begin), out);
        begin = k;
      }
      k = s.find(rep, k + rep.size());
    }
    piece(s.substr(begin), out);
  }

  // A word of a SentencePiece-style segment: cut further where exact.
  void piece(std::string_view w, std::vector<uint32_t>& out) {
    if (t_.joins.enabled() && !reference && !w.empty()) {
      cut_at_joins(w, out);
    } else {
      word(w, out);
    }
  }

  void word(std::string_view w, std::vector<uint32_t>& out) {
    if (w.empty()) return;
    if (reference) {
      t_.model->encode_word_reference(w, out);
      return;
    }
    if (w.size() > PieceCache::kMaxPieceBytes) {
      t_.model->encode_word(w, out, scratch_);
      return;
    }
    cached_piece(PieceCache::make_key(w), out);  // w lies in padded_ (pre_tokenize's pad())
  }

  // The ids of a piece whose key is made: from the cache, or encoded and cached. kRaw: the piece
  // is raw text in which " " stands for "▁" (raw_segment).
  template <bool kRaw = false>
  [[gnu::always_inline]] void cached_piece(const PieceCache::Key& key, std::vector<uint32_t>& out) {
    if (cache_.find(key, out)) return;
    const size_t before = out.size();
    t_.model->encode_word(model_bytes<kRaw>(key.bytes), out, scratch_);
    cache_.insert(key, out.data() + before, out.size() - before);
  }

  // What the model is given for a piece: raw pieces as normalized_piece writes them.
  template <bool kRaw>
  std::string_view model_bytes(std::string_view w) {
    return kRaw ? normalized_piece(w) : w;
  }

  // word() on each piece s[span] in order, software-pipelined: the key of the piece kAhead places
  // on is made and its hot-table slot prefetched; kCheck places on, that slot has arrived and, if it
  // does not hold the piece, the main table's slot is prefetched. The main table is beyond L2, and
  // lookups missing the hot table otherwise wait for it one after another. The main table's slot
  // is asked for 20 pieces ahead (~200 ns of hits): a table of 8-16 MB answers at DRAM latency on
  // these machines (100-160 ns), and 8 ahead left its misses partly exposed (LLaMA-2 +2.1%,
  // LLaMA-3 +1.6% from 8 to 20; 32 measured the same as 20). Same calls, same order, same results
  // as the plain loop; prefetches only move cache lines.
  // kRaw: the pieces are raw text in which " " stands for "▁" (raw_segment).
  template <bool kRaw = false>
  void words(std::string_view s, std::span<const Span> spans, std::vector<uint32_t>& out) {
    if (!kRaw && reference) {
      for (const Span& sp : spans) word(s.substr(sp.begin, sp.end - sp.begin), out);
      return;
    }
    constexpr size_t kAhead = 32, kCheck = 20, kRing = 64;
    static_assert(kAhead < kRing && kCheck < kAhead);
    PieceCache::Key ring[kRing];
    const size_t n = spans.size();
    auto make = [&](size_t i) {
      const std::string_view w(s.data() + spans[i].begin, spans[i].end - spans[i].begin);
      PieceCache::Key& k = ring[i % kRing];
      if (w.size() <= PieceCache::kMaxPieceBytes) {
        k = PieceCache::make_key(w);
        cache_.prefetch_hot(k);
      } else {
        k.bytes = w;
      }
    };
    for (size_t i = 0; i < std::min(n, kAhead); ++i) make(i);
    for (size_t i = 0; i < n; ++i) {
      if (i + kAhead < n) make(i + kAhead);
      if (i + kCheck < n) {
        const PieceCache::Key& k = ring[(i + kCheck) % kRing];
        if (k.bytes.size() <= PieceCache::kMaxPieceBytes) cache_.prefetch_main(k);
      }
      const PieceCache::Key& k = ring[i % kRing];
      if (k.bytes.empty()) continue;
      if (k.bytes.size() > PieceCache::kMaxPieceBytes) {
        t_.model->encode_word(model_bytes<kRaw>(k.bytes), out, scratch_);
      } else {
        cached_piece<kRaw>(k, out);
      }
    }
  }

  const TokenizerImpl& t_;
  HotJoins hot_;
  uint8_t ascii_joins_[128 * 128 + 3] = {};  // see the constructor; 3 bytes for ascii_cuts64's reads
  bool vector_cuts_ = text::avx512_text_kernels();
  bool raw_ascii_joins_ = false;
  static constexpr size_t kCutBlock = 4096;
  std::unique_ptr<Span[]> cuts_;  // cut_at_joins' pieces, written before they are known to end
  PieceCache cache_;
  BpeScratch scratch_;
  std::vector<AddedMatch> matches_, nmatches_;
  std::vector<Span> spans_, next_spans_;
  std::string norm_, buf_, tmp_, padded_, piece_;
  PreTokenizerRun run_;
  std::vector<PiecesSpan> pieces_;
};

Encoder::Encoder(const Tokenizer& tokenizer)
    : tokenizer_(&tokenizer), state_(std::make_unique<EncoderState>(tokenizer.impl())) {}
Encoder::~Encoder() = default;
Encoder::Encoder(Encoder&&) noexcept = default;

void Encoder::encode(std::string_view text, const EncodeOptions& options, std::vector<uint32_t>& out) {
  if (text.size() > kMaxTextBytes)
    throw Error("text to encode is " + std::to_string(text.size()) + " bytes; one text may have at most " +
                std::to_string(kMaxTextBytes) + " (the encoder's offsets are 32-bit): split it");
  // Every stage below indexes Unicode tables by code point and assumes valid UTF-8 (HF's input is a
  // Rust &str); bytes that are not (a --prompt, a text file) would read outside those tables.
  if (!simdjson::validate_utf8(text.data(), text.size()))
    throw Error("text to encode is not valid UTF-8 (" + std::to_string(text.size()) + " bytes)");
  state_->encode(text, options, out);
}

void Encoder::set_reference_mode(bool on) { state_->reference = on; }

}  // namespace longctx::tokenizer
