// The encoding pipeline, per text: split out added tokens → normalize each remaining segment →
// pre-tokenize into words → BPE each word (through the piece cache) → post-process.
#include <cstring>

#include "longctx/text/utf8.h"
#include "longctx/tokenizer/tokenizer.h"
#include "piece_cache.h"
#include "replace.h"
#include "tokenizer_impl.h"

namespace longctx::tokenizer {

class EncoderState {
 public:
  explicit EncoderState(const TokenizerImpl& t) : t_(t) {}

  void encode(std::string_view text, const EncodeOptions& opt, std::vector<uint32_t>& out) {
    if (opt.add_special_tokens) out.insert(out.end(), t_.prefix_ids.begin(), t_.prefix_ids.end());
    matches_.clear();
    if (opt.parse_special || t_.matcher->has_non_special()) t_.matcher->find(text, opt.parse_special, matches_);
    uint32_t pos = 0;
    for (const AddedMatch& m : matches_) {
      if (m.begin > pos) segment(text.substr(pos, m.begin - pos), pos == 0, out);
      out.push_back(m.id);
      pos = m.end;
    }
    if (pos < text.size()) segment(text.substr(pos), pos == 0, out);
    if (opt.add_special_tokens) out.insert(out.end(), t_.suffix_ids.begin(), t_.suffix_ids.end());
  }

  bool reference = false;

 private:
  // One run of text between added tokens; `first` when it starts the input (Metaspace "first").
  void segment(std::string_view raw, bool first, std::vector<uint32_t>& out) {
    std::string_view s = raw;
    if (!t_.normalizer.empty() || t_.metaspace || t_.byte_level_prefix_space) {
      buf_.assign(raw);
      for (const NormalizerStep& n : t_.normalizer) {
        if (n.kind == NormalizerStep::Kind::kPrepend) {
          if (!buf_.empty()) buf_.insert(0, n.text);
        } else {
          replace_all(buf_, n.text, n.content, tmp_);
        }
      }
      if (t_.metaspace) {
        const MetaspaceSpec& m = *t_.metaspace;
        replace_all(buf_, " ", m.replacement, tmp_);
        const bool prepend = m.scheme == MetaspaceSpec::Scheme::kAlways ||
                             (m.scheme == MetaspaceSpec::Scheme::kFirst && first);
        if (prepend && !buf_.empty() && buf_.compare(0, m.replacement.size(), m.replacement) != 0)
          buf_.insert(0, m.replacement);
      }
      if (t_.byte_level_prefix_space && !buf_.empty() && buf_[0] != ' ') buf_.insert(0, " ");
      s = buf_;
    }
    if (s.empty()) return;
    const auto n = static_cast<uint32_t>(s.size());
    if (!t_.splits.empty()) {
      spans_.clear();
      spans_.push_back(Span{0, n});
      for (SplitPattern p : t_.splits) {
        next_spans_.clear();
        for (const Span& sp : spans_) split_pieces(p, s, sp.begin, sp.end, next_spans_);
        spans_.swap(next_spans_);
      }
      for (const Span& sp : spans_) word(s.substr(sp.begin, sp.end - sp.begin), out);
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

  // Cuts a SentencePiece-style word wherever no merge can join the characters on either side
  // (join_table.h) and encodes the parts.
  void cut_at_joins(std::string_view s, std::vector<uint32_t>& out) {
    const char* p = s.data();
    const char* end = p + s.size();
    const char* start = p;
    int len;
    uint32_t prev = text::utf8_decode(p, end, &len);
    p += len;
    while (p < end) {
      uint32_t cur;
      if (static_cast<uint8_t>(*p) < 0x80) {
        cur = static_cast<uint8_t>(*p);
        len = 1;
      } else {
        cur = text::utf8_decode(p, end, &len);
      }
      if (!t_.joins.joinable(prev, cur)) {
        word(std::string_view(start, p - start), out);
        start = p;
      }
      prev = cur;
      p += len;
    }
    word(std::string_view(start, end - start), out);
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
    const PieceCache::Key key = PieceCache::make_key(w);
    if (cache_.find(key, out)) return;
    const size_t before = out.size();
    t_.model->encode_word(w, out, scratch_);
    cache_.insert(key, out.data() + before, out.size() - before);
  }

  const TokenizerImpl& t_;
  PieceCache cache_;
  BpeScratch scratch_;
  std::vector<AddedMatch> matches_;
  std::vector<Span> spans_, next_spans_;
  std::string buf_, tmp_;
};

Encoder::Encoder(const Tokenizer& tokenizer)
    : tokenizer_(&tokenizer), state_(std::make_unique<EncoderState>(tokenizer.impl())) {}
Encoder::~Encoder() = default;
Encoder::Encoder(Encoder&&) noexcept = default;

void Encoder::encode(std::string_view text, const EncodeOptions& options, std::vector<uint32_t>& out) {
  state_->encode(text, options, out);
}

void Encoder::set_reference_mode(bool on) { state_->reference = on; }

}  // namespace longctx::tokenizer
