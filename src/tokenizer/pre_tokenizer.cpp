#include "pre_tokenizer.h"

#include <algorithm>

#include "longctx/text/normalize.h"
#include "longctx/text/unicode.h"
#include "longctx/text/utf8.h"
#include "replace.h"

namespace longctx::tokenizer {
namespace {

using Kind = PreTokenizerStep::Kind;

// HF's Pattern for a char predicate: every character for which it holds is a match of its own;
// the runs between are gaps.
template <class Pred>
void predicate_matches(const std::string& s, uint32_t begin, uint32_t end, Pred pred, std::vector<RegexPiece>& out) {
  uint32_t gap = begin;
  for (uint32_t i = begin; i < end;) {
    int len;
    const uint32_t cp = text::utf8_decode(s.data() + i, s.data() + end, &len);
    if (pred(cp)) {
      if (gap < i) out.push_back({gap, i, false});
      out.push_back({i, i + static_cast<uint32_t>(len), true});
      gap = i + static_cast<uint32_t>(len);
    }
    i += static_cast<uint32_t>(len);
  }
  if (gap < end || begin == end) out.push_back({gap, end, false});
}

// HF's is_punc: ASCII punctuation, or punctuation as the unicode_categories crate has it.
bool is_punc(uint32_t cp) {
  if (cp < 128) return (cp >= '!' && cp <= '/') || (cp >= ':' && cp <= '@') || (cp >= '[' && cp <= '`') || (cp >= '{' && cp <= '~');
  return text::is_punctuation_hf(cp);
}
// The regex crate's \w: Alphabetic, marks, decimal digits, connector punctuation, Join_Control.
bool is_word(uint32_t cp) {
  return (text::char_class(cp) & text::kAlphabetic) ||
         text::in_categories(cp, text::kGcMark | text::gc_bit(text::Gc::Nd) | text::gc_bit(text::Gc::Pc)) ||
         cp == 0x200C || cp == 0x200D;
}

// Matches of \w+|[^\w\s]+ (Whitespace): maximal runs of word characters or of characters that are
// neither word nor space.
void whitespace_matches(const std::string& s, uint32_t begin, uint32_t end, std::vector<RegexPiece>& out) {
  uint32_t prev = begin;
  int run = 0;  // 0 none, 1 word, 2 other
  uint32_t run_start = begin;
  auto close = [&](uint32_t at) {
    if (!run) return;
    if (prev < run_start) out.push_back({prev, run_start, false});
    out.push_back({run_start, at, true});
    prev = at;
    run = 0;
  };
  for (uint32_t i = begin; i < end;) {
    int len;
    const uint32_t cp = text::utf8_decode(s.data() + i, s.data() + end, &len);
    const int kind = is_word(cp) ? 1 : text::is_white_space(cp) ? 0 : 2;
    if (kind != run) {
      close(i);
      if (kind) {
        run = kind;
        run_start = i;
      }
    }
    i += static_cast<uint32_t>(len);
  }
  close(end);
  if (prev < end || begin == end) out.push_back({prev, end, false});
}

// HF's NormalizedString::split: how matches and gaps become pieces under each behaviour. Fills
// `out` with the pieces and whether each is removed.
void apply_behavior(SplitBehavior b, const std::vector<RegexPiece>& m, std::vector<RegexPiece>& out) {
  out.clear();
  switch (b) {
    case SplitBehavior::kIsolated:
      for (const RegexPiece& p : m) out.push_back({p.begin, p.end, false});
      break;
    case SplitBehavior::kRemoved:
      out = m;  // `match` now means "remove"
      break;
    case SplitBehavior::kContiguous: {
      bool previous = false;
      for (const RegexPiece& p : m) {
        if (p.match == previous && !out.empty()) out.back().end = p.end;
        else out.push_back({p.begin, p.end, false});
        previous = p.match;
      }
      break;
    }
    case SplitBehavior::kMergedWithPrevious: {
      bool previous = false;
      for (const RegexPiece& p : m) {
        if (p.match && !previous && !out.empty()) out.back().end = p.end;
        else out.push_back({p.begin, p.end, false});
        previous = p.match;
      }
      break;
    }
    case SplitBehavior::kMergedWithNext: {
      bool previous = false;
      for (auto it = m.rbegin(); it != m.rend(); ++it) {
        if (it->match && !previous && !out.empty()) out.back().begin = it->begin;
        else out.push_back({it->begin, it->end, false});
        previous = it->match;
      }
      std::reverse(out.begin(), out.end());
      break;
    }
  }
}

uint32_t first_cp(std::string_view s) {
  int len;
  return text::utf8_decode(s.data(), s.data() + s.size(), &len);
}

}  // namespace

void apply_metaspace(const MetaspaceSpec& m, bool at_zero, std::string& s, std::string& tmp) {
  replace_all(s, " ", m.replacement, tmp);
  const bool prepend = m.scheme == MetaspaceSpec::Scheme::kAlways || (m.scheme == MetaspaceSpec::Scheme::kFirst && at_zero);
  if (prepend && s.compare(0, m.replacement.size(), m.replacement) != 0) s.insert(0, m.replacement);
}

void add_prefix_space(std::string& s) {
  if (s[0] != ' ') s.insert(0, " ");
}

void PreTokenizerRun::split(const PreTokenizerStep& step, const std::string& text, std::vector<PiecesSpan>& pieces) {
  next_.clear();
  for (const PiecesSpan& p : pieces) {
    matches_.clear();
    SplitBehavior behavior = step.behavior;
    bool invert = step.invert;
    switch (step.kind) {
      case Kind::kSplit: step.regex->find_matches(text, p.begin, p.end, matches_); break;
      case Kind::kScanner:
      case Kind::kByteLevel:
        spans_.clear();
        split_pieces(step.kind == Kind::kScanner ? step.scanner : SplitPattern::kGpt2, text, p.begin, p.end, spans_);
        for (const Span& s : spans_) matches_.push_back({s.begin, s.end, true});
        behavior = SplitBehavior::kIsolated;
        invert = false;
        break;
      case Kind::kMetaspace: {
        const uint32_t rep = first_cp(step.metaspace.replacement);
        predicate_matches(text, p.begin, p.end, [rep](uint32_t cp) { return cp == rep; }, matches_);
        behavior = SplitBehavior::kMergedWithNext;
        invert = false;
        break;
      }
      case Kind::kDigits: predicate_matches(text, p.begin, p.end, text::is_numeric_rust, matches_); break;
      case Kind::kPunctuation: predicate_matches(text, p.begin, p.end, is_punc, matches_); break;
      case Kind::kWhitespaceSplit: predicate_matches(text, p.begin, p.end, text::is_white_space, matches_); break;
      case Kind::kCharDelimiter: {
        const uint32_t d = step.delimiter;
        predicate_matches(text, p.begin, p.end, [d](uint32_t cp) { return cp == d; }, matches_);
        break;
      }
      case Kind::kWhitespace: whitespace_matches(text, p.begin, p.end, matches_); break;
    }
    if (invert)
      for (RegexPiece& m : matches_) m.match = !m.match;
    apply_behavior(behavior, matches_, marked_);
    for (const RegexPiece& m : marked_)
      if (!m.match && m.end > m.begin) next_.push_back({m.begin, m.end, p.at_zero && m.begin == p.begin});
  }
  pieces.swap(next_);
}

void PreTokenizerRun::rewrite(const PreTokenizerStep& step, std::string& text, std::vector<PiecesSpan>& pieces) {
  buf_.clear();
  for (PiecesSpan& p : pieces) {
    piece_.assign(text, p.begin, p.end - p.begin);
    if (step.kind == Kind::kByteLevel) add_prefix_space(piece_);
    else apply_metaspace(step.metaspace, p.at_zero, piece_, tmp_);
    p.begin = static_cast<uint32_t>(buf_.size());
    buf_ += piece_;
    p.end = static_cast<uint32_t>(buf_.size());
  }
  text.swap(buf_);
}

void PreTokenizerRun::run(const std::vector<PreTokenizerStep>& steps, std::string& text, bool at_zero,
                          std::vector<PiecesSpan>& out) {
  out.clear();
  if (text.empty()) return;
  out.push_back({0, static_cast<uint32_t>(text.size()), at_zero});
  for (const PreTokenizerStep& step : steps) {
    if (step.kind == Kind::kMetaspace || (step.kind == Kind::kByteLevel && step.add_prefix_space)) rewrite(step, text, out);
    if (step.kind == Kind::kMetaspace && !step.metaspace.split) continue;
    if (step.kind == Kind::kByteLevel && !step.use_regex) continue;
    split(step, text, out);
  }
}

}  // namespace longctx::tokenizer
