#include "longctx/ingest/ingest.h"

#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>

#include "longctx/corpus/byte_source.h"
#include "longctx/corpus/inputs.h"
#include "longctx/store/builder.h"
#include "longctx/tokenizer/tokenizer.h"
#include "longctx/util/error.h"
#include "longctx/util/hash.h"
#include "longctx/util/line_pipeline.h"

#ifndef LONGCTX_VERSION
#define LONGCTX_VERSION "dev"
#endif

namespace longctx::ingest {
namespace {

using Clock = std::chrono::steady_clock;
using store::DocRecord;
using store::TokenType;

// What a worker hands to the writer for each line: this header, then `text_len` bytes (the domain
// of a document, or the reason a line was skipped), then the document's tokens as stored.
struct RecordHead {
  uint64_t line;
  uint32_t tokens;
  uint32_t chars;
  uint16_t text_len;
  uint8_t kind;  // RecordKind
  uint8_t pad[5];
};
static_assert(sizeof(RecordHead) == 24);

// Code points of valid UTF-8: the bytes that are not continuation bytes (10xxxxxx).
uint32_t count_chars(std::string_view s) {
  uint64_t n = 0;
  for (const char c : s) n += (static_cast<uint8_t>(c) & 0xC0) != 0x80;
  return static_cast<uint32_t>(std::min<uint64_t>(n, UINT32_MAX));
}

void append_record(std::string& out, uint64_t line, uint8_t kind, std::string_view text,
                   const std::vector<uint32_t>* ids, TokenType type, uint32_t chars = 0) {
  RecordHead h{line, ids ? static_cast<uint32_t>(ids->size()) : 0, chars, static_cast<uint16_t>(std::min<size_t>(text.size(), 65535)),
               kind, {}};
  const size_t w = store::token_bytes(type);
  const size_t old = out.size();
  out.resize(old + sizeof h + h.text_len + h.tokens * w);
  char* p = out.data() + old;
  std::memcpy(p, &h, sizeof h);
  p += sizeof h;
  // Guarded: an empty view may hold a null pointer, and memcpy from null is undefined even for 0
  // bytes (UBSan reports it; a sample store's unsampled documents carry no text).
  if (h.text_len) std::memcpy(p, text.data(), h.text_len);
  p += h.text_len;
  if (!ids) return;
  if (type == TokenType::kUint16) {
    for (const uint32_t id : *ids) {
      const auto v = static_cast<uint16_t>(id);  // ids < vocab_size < 65,500
      std::memcpy(p, &v, 2);
      p += 2;
    }
  } else {
    if (!ids->empty()) std::memcpy(p, ids->data(), ids->size() * 4);  // ids < 2^31: int32 and uint32 bytes agree
  }
}

struct Shared {
  const IngestOptions& opt;
  const tokenizer::Tokenizer& tok;
  TokenType type;
  int64_t eos_id;
  tokenizer::EncodeOptions enc;
};

void encode_doc(tokenizer::Encoder& e, const Shared& s, std::string_view text, std::vector<uint32_t>& ids) {
  ids.clear();
  e.encode(text, s.enc, ids);
  if (s.eos_id >= 0) ids.push_back(static_cast<uint32_t>(s.eos_id));
}

// What the writer does with a record: a document, a skipped line (counted with its reason), or a
// line a subset store leaves out (dropped without a trace).
enum RecordKind : uint8_t { kDocument = 0, kSkipped = 1, kNotSelected = 2 };

// Which documents of one input get tokens: all, the sample's coin, or the subset's lines.
struct Selector {
  const store::Selection* sel = nullptr;
  const std::vector<uint64_t>* lines = nullptr;  // subset: this input's sorted lines
  uint64_t input = 0;                            // index in the full input list
  bool listed(uint64_t line) const { return sel->kind != "subset" || std::binary_search(lines->begin(), lines->end(), line); }
  bool tokenized(uint64_t line) const { return sel->kind != "sample" || sample_coin(sel->seed, sel->rate, input, line); }
};

class IngestLines : public LineProcessor {
 public:
  IngestLines(const Shared& s, const std::string& name, Selector sel)
      : s_(s), name_(name), sel_(sel), enc_(s.tok), parser_(s.opt.text_field, s.opt.domain) {}
  void process(std::string_view line, uint64_t line_no, std::string& out) override {
    if (!sel_.listed(line_no)) {  // not parsed at all: the point of a subset pass
      append_record(out, line_no, kNotSelected, {}, nullptr, s_.type);
      return;
    }
    const corpus::ParsedLine r = parser_.parse(line);
    if (!r.ok) {
      if (s_.opt.strict) throw Error(name_ + ":" + std::to_string(line_no) + ": " + r.detail + " (--strict)");
      append_record(out, line_no, kSkipped, r.reason, nullptr, s_.type);
      return;
    }
    if (sel_.tokenized(line_no))
      encode_doc(enc_, s_, r.text, ids_);
    else
      ids_.clear();  // a sample store's untokenized document: length 0, characters counted
    append_record(out, line_no, kDocument, r.domain, &ids_, s_.type, count_chars(r.text));
  }

 private:
  const Shared& s_;
  const std::string& name_;
  Selector sel_;
  tokenizer::Encoder enc_;
  corpus::JsonDocumentParser parser_;
  std::vector<uint32_t> ids_;
};

int64_t find_eos(const tokenizer::Tokenizer& tok, const IngestOptions& o) {
  if (!o.eos) return -1;
  if (!o.eos_token.empty()) {
    const auto id = tok.token_to_id(o.eos_token);
    if (!id) throw Error(o.tokenizer_path + ": no token " + o.eos_token + " (--eos-token)");
    return *id;
  }
  for (const char* name : {"</s>", "<|end_of_text|>", "<|endoftext|>"})
    if (const auto id = tok.token_to_id(name)) return *id;
  throw Error(o.tokenizer_path + ": no end-of-text token (</s>, <|end_of_text|>, <|endoftext|>); name one with --eos-token");
}

class Ingest {
 public:
  Ingest(const IngestOptions& o) : o_(o) {}

  IngestSummary run() {
    const auto t0 = Clock::now();
    const auto tok = tokenizer::Tokenizer::load(o_.tokenizer_path);
    const std::string tok_hash = xxh128_file(o_.tokenizer_path);
    all_ = corpus::expand_inputs(o_.inputs);
    if (o_.task_count == 0 || o_.task_id >= o_.task_count)
      throw Error("task " + std::to_string(o_.task_id) + " of " + std::to_string(o_.task_count) + ": expected 0 <= id < count");
    if (o_.task_count > 1) {
      mine_ = corpus::task_inputs(all_, o_.task_count, o_.task_id);
    } else {
      for (uint64_t i = 0; i < all_.size(); ++i) mine_.push_back(i);
    }
    for (const auto& in : all_)
      if (in.path == "-" && (o_.task_count > 1 || all_.size() > 1))
        throw Error("standard input (-) can only be the single input of a single task");

    store::Manifest m;
    m.tool = std::string("longctx ") + LONGCTX_VERSION;
    m.tokenizer_path = o_.tokenizer_path;
    m.tokenizer_xxh128 = tok_hash;
    m.vocab_size = tok->vocab_size();
    m.token_type = store::token_type_for_vocab(tok->vocab_size());
    m.text_field = o_.text_field;
    m.domain_source = o_.domain.describe();
    m.bos = o_.bos;
    m.parse_special = o_.parse_special;
    m.eos_id = find_eos(*tok, o_);
    m.run_fingerprint = run_fingerprint(m);
    m.is_task = o_.task_count > 1;
    m.task_id = o_.task_id;
    m.task_count = o_.task_count;
    m.task_inputs_total = all_.size();
    m.selection = o_.selection;
    if (m.selection.kind == "sample" && !(m.selection.rate > 0 && m.selection.rate <= 1))
      throw Error("--sample-rate: expected a probability in (0, 1], found " + std::to_string(m.selection.rate));
    if (m.selection.kind == "subset" && o_.select_lines.size() != all_.size())
      throw Error("--select: the selection plan lists " + std::to_string(o_.select_lines.size()) + " inputs, this run has " +
                  std::to_string(all_.size()) + " (give the inputs the sample store was made from)");
    const Shared shared{o_, *tok, m.token_type, m.eos_id, {o_.bos, o_.parse_special}};
    s_ = &shared;

    const std::string fp = m.run_fingerprint + ":" + std::to_string(o_.task_id) + "-of-" + std::to_string(o_.task_count);
    store::StoreBuilder b(o_.out, fp, m);
    IngestSummary sum;
    sum.resumed = b.resumed();
    if (b.done()) {
      sum.already_complete = !b.resumed();
      sum.manifest = b.manifest();
      return sum;
    }
    b_ = &b;
    last_checkpoint_ = Clock::now();
    const int threads = std::max(1, o_.threads);
    encoders_.reserve(threads);
    for (int t = 0; t < threads; ++t) encoders_.emplace_back(*tok);
    for (uint64_t k = b.position().input; k < mine_.size();) {
      const auto& in = all_[mine_[k]];
      if (in.kind == corpus::InputKind::kJsonl) {
        do_jsonl(k, threads);
        ++k;
      } else {
        k = do_text_batch(k, threads);
      }
    }
    b.finish();
    sum.manifest = b.manifest();
    sum.text_bytes = bytes_done_;
    sum.documents = docs_done_;
    sum.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    return sum;
  }

 private:
  std::string run_fingerprint(const store::Manifest& m) const {
    nlohmann::ordered_json j;
    j["tool"] = m.tool;
    j["store_format"] = store::kFormatVersion;
    j["tokenizer"] = m.tokenizer_xxh128;
    // --strict is left out: a strict run that completes wrote what a lenient one would.
    j["options"] = {o_.text_field, m.domain_source, o_.bos, m.eos_id, o_.parse_special};
    if (!o_.selection.empty())  // absent for a store of every document: its fingerprint is unchanged
      j["selection"] = {o_.selection.kind, o_.selection.rate, o_.selection.seed, o_.selection.plan_xxh128};
    for (const auto& in : all_) j["inputs"].push_back({in.path, corpus::kind_name(in.kind)});
    return xxh128_hex(j.dump());
  }

  store::InputStats& input_entry(uint64_t k) {
    auto& ins = b_->manifest().inputs;
    if (ins.size() == k) {
      const auto& in = all_[mine_[k]];
      store::InputStats st;
      st.path = in.path;
      st.kind = corpus::kind_name(in.kind);
      st.index = mine_[k];
      ins.push_back(st);
    }
    return ins.at(k);
  }

  Selector selector(uint64_t input) const {
    return {&o_.selection, o_.selection.kind == "subset" ? &o_.select_lines.at(input) : nullptr, input};
  }

  std::string domain_for(const corpus::InputFile& in, std::string_view from_line) const {
    switch (o_.domain.kind) {
      case corpus::DomainSource::kConstant: return o_.domain.value;
      case corpus::DomainSource::kFolder: return in.folder;
      default: return std::string(from_line);
    }
  }

  void maybe_checkpoint(const store::Position& pos, bool force) {
    const auto now = Clock::now();
    if (force || std::chrono::duration<double>(now - last_checkpoint_).count() >= o_.checkpoint_seconds) {
      b_->checkpoint(pos);
      last_checkpoint_ = Clock::now();
    }
  }

  void do_jsonl(uint64_t k, int threads) {
    const auto& in = all_[mine_[k]];
    auto& st = input_entry(k);
    const bool resuming = b_->position().input == k;
    const uint64_t skip_bytes = resuming ? b_->position().bytes : 0;
    const uint64_t first_line = (resuming ? b_->position().lines : 0) + 1;
    const auto src = corpus::open_source(in.path);
    // A resumed input is read again from its start (so that its hash covers every byte); the part
    // already stored is skipped without parsing.
    std::vector<char> scratch;
    uint64_t left = skip_bytes;
    while (left > 0) {
      scratch.resize(1 << 20);
      const size_t n = src->read(scratch.data(), std::min<uint64_t>(left, scratch.size()));
      if (n == 0) throw Error(in.path + ": shorter than when the interrupted ingest read it; the input changed");
      left -= n;
    }
    // A domain enters the manifest with its first document (as merge() sees it), not before.
    const bool domain_from_line = o_.domain.kind == corpus::DomainSource::kField;
    const std::string fixed_domain = domain_from_line ? std::string() : domain_for(in, {});
    const size_t w = store::token_bytes(s_->type);
    const uint64_t bytes_before = bytes_done_;
    auto sink = [&](std::string_view out) {
      const char* p = out.data();
      const char* end = p + out.size();
      while (p < end) {
        RecordHead h;
        std::memcpy(&h, p, sizeof h);
        p += sizeof h;
        const std::string_view text(p, h.text_len);
        p += h.text_len;
        if (h.kind == kNotSelected) continue;
        if (h.kind == kSkipped) {
          b_->manifest().add_skip(in.path, h.line, std::string(text));
          ++st.skipped;
          continue;
        }
        const uint16_t domain = b_->domain_index(domain_from_line ? text : std::string_view(fixed_domain));
        b_->add(std::string_view(p, h.tokens * w), h.tokens, DocRecord{h.line, static_cast<uint32_t>(k), h.chars, domain, 0, 0});
        p += h.tokens * w;
        ++st.documents;
        st.tokens += h.tokens;
        ++docs_done_;
      }
    };
    auto after_block = [&](uint64_t bytes, uint64_t lines) {
      st.lines = first_line - 1 + lines;
      bytes_done_ = bytes_before + bytes;
      if (o_.progress) o_.progress(bytes_done_, docs_done_);
      maybe_checkpoint({k, skip_bytes + bytes, first_line - 1 + lines}, false);
    };
    const Selector sel = selector(mine_[k]);
    run_line_pipeline([&](char* buf, size_t n) { return src->read(buf, n); }, src->name(), threads,
                      [&] { return std::make_unique<IngestLines>(*s_, in.path, sel); }, sink, after_block, first_line);
    st.bytes = src->raw_bytes();
    st.xxh128 = src->raw_hash();
    maybe_checkpoint({k + 1, 0, 0}, false);
  }

  // Consecutive plain-text inputs (one document each), read here and tokenized on all threads.
  uint64_t do_text_batch(uint64_t k0, int threads) {
    constexpr uint64_t kMaxBatchBytes = 64 << 20;
    struct Doc {
      std::string text, reason;
      uint64_t raw_bytes = 0;
      std::string hash;
      std::vector<uint32_t> ids;
    };
    std::vector<Doc> docs;
    uint64_t batch_bytes = 0, k = k0;
    while (k < mine_.size() && all_[mine_[k]].kind == corpus::InputKind::kText && docs.size() < 64u * threads &&
           batch_bytes < kMaxBatchBytes) {
      const auto& in = all_[mine_[k]];
      Doc d;
      const auto src = corpus::open_source(in.path);
      std::vector<char> buf(1 << 20);
      size_t n;
      while ((n = src->read(buf.data(), buf.size())) > 0) d.text.append(buf.data(), n);
      d.raw_bytes = src->raw_bytes();
      d.hash = src->raw_hash();
      if (d.text.empty()) {
        d.reason = "empty text";
      } else if (!simdjson::validate_utf8(d.text.data(), d.text.size())) {
        d.reason = "invalid UTF-8";
      }
      if (!d.reason.empty() && o_.strict)
        throw Error(in.path + ": expected non-empty UTF-8 text, found " + (d.text.empty() ? "an empty file" : "invalid UTF-8 bytes") +
                    " (--strict)");
      batch_bytes += d.text.size();
      docs.push_back(std::move(d));
      ++k;
    }
    std::vector<std::thread> pool;
    const int nt = std::min<int>(threads, static_cast<int>(docs.size()));
    for (int t = 0; t < nt; ++t)
      pool.emplace_back([&, t] {
        for (size_t i = t; i < docs.size(); i += nt) {
          const Selector sel = selector(mine_[k0 + i]);
          if (docs[i].reason.empty() && sel.listed(0) && sel.tokenized(0)) encode_doc(encoders_[t], *s_, docs[i].text, docs[i].ids);
        }
      });
    for (auto& th : pool) th.join();
    std::string bytes;
    for (size_t i = 0; i < docs.size(); ++i) {
      const uint64_t kk = k0 + i;
      const auto& in = all_[mine_[kk]];
      auto& st = input_entry(kk);
      Doc& d = docs[i];
      st.bytes = d.raw_bytes;
      st.xxh128 = d.hash;
      bytes_done_ += d.text.size();
      if (!d.reason.empty()) {
        b_->manifest().add_skip(in.path, 0, d.reason);
        ++st.skipped;
        continue;
      }
      if (!selector(mine_[kk]).listed(0)) continue;
      bytes.clear();
      append_record(bytes, 0, kDocument, {}, &d.ids, s_->type);
      const uint16_t domain = b_->domain_index(o_.domain.kind == corpus::DomainSource::kConstant ? o_.domain.value : in.folder);
      b_->add(std::string_view(bytes).substr(sizeof(RecordHead)), static_cast<uint32_t>(d.ids.size()),
              DocRecord{0, static_cast<uint32_t>(kk), count_chars(d.text), domain, 0, 0});
      st.documents = 1;
      st.tokens = d.ids.size();
      ++docs_done_;
    }
    if (o_.progress) o_.progress(bytes_done_, docs_done_);
    maybe_checkpoint({k, 0, 0}, false);
    return k;
  }

  const IngestOptions& o_;
  std::vector<corpus::InputFile> all_;
  std::vector<uint64_t> mine_;
  const Shared* s_ = nullptr;
  store::StoreBuilder* b_ = nullptr;
  std::vector<tokenizer::Encoder> encoders_;
  Clock::time_point last_checkpoint_;
  uint64_t bytes_done_ = 0, docs_done_ = 0;
};

}  // namespace

IngestSummary ingest(const IngestOptions& options) { return Ingest(options).run(); }

bool sample_coin(uint64_t seed, double rate, uint64_t input, uint64_t line) {
  if (rate >= 1) return true;
  // SplitMix64's finaliser over (seed, input, line): a uniform 64-bit draw per document.
  auto mix = [](uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
  };
  const uint64_t u = mix(mix(mix(seed) ^ input) ^ line);
  return static_cast<double>(u >> 11) * 0x1.0p-53 < rate;
}

std::string task_dir(const std::string& out, uint64_t id, uint64_t count) {
  return out + "/tasks/" + std::to_string(id) + "-of-" + std::to_string(count);
}

}  // namespace longctx::ingest
