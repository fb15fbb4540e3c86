#include "longctx/pack/pack.h"

#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>
#include <thread>

#include "layout.h"
#include "longctx/store/megatron.h"
#include "longctx/store/store.h"
#include "longctx/text/ids_json.h"
#include "longctx/text/utf8.h"
#include "longctx/util/error.h"
#include "longctx/util/file.h"
#include "longctx/util/hash.h"
#include "longctx/util/rng.h"

namespace longctx::pack {
namespace {

using ojson = nlohmann::ordered_json;
namespace fs = std::filesystem;

// llm.c's token shard header: 256 int32, [0] magic, [1] version, [2] token count.
constexpr int32_t kLlmcMagic16 = 20240520, kLlmcVersion16 = 1;
constexpr int32_t kLlmcMagic32 = 20240801, kLlmcVersion32 = 7;
// Sidecar names (format_version 2): no `*.bin` / `*.idx` glob for shards or Megatron prefixes
// matches them.
constexpr const char* kSpans = ".spans";
constexpr const char* kSpanOffsets = ".spans.offsets";
constexpr const char* kCuSeqlens = ".cu_seqlens";
constexpr const char* kCuOffsets = ".cu_seqlens.offsets";

// One span: tokens [start, end) of a sequence come from document `doc`, from its token doc_offset.
struct SpanRecord {
  uint64_t doc;
  uint32_t doc_offset, start, end;
  uint16_t domain, reserved;
};
static_assert(sizeof(SpanRecord) == 24);

// An output file written atomically, hashed and counted as it is written.
class OutFile {
 public:
  OutFile(const std::string& dir, std::string name) : name_(std::move(name)), f_(dir + "/" + name_) {}
  void write(std::string_view b) {
    f_.write(b);
    h_.update(b);
    bytes_ += b.size();
  }
  void commit(ojson& files) {
    f_.commit();
    files[name_] = {{"bytes", bytes_}, {"xxh128", h_.hex()}};
  }

 private:
  std::string name_;
  AtomicFile f_;
  Hasher128 h_;
  uint64_t bytes_ = 0;
};

template <class T>
std::string_view bytes_of(const std::vector<T>& v) {
  return {reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T)};
}
// One value's bytes, as stored (little-endian), for sidecars written a value at a time.
template <class T>
std::string_view value_bytes(const T& v) {
  return {reinterpret_cast<const char*>(&v), sizeof(T)};
}

std::string shard_name(uint64_t k) {
  char b[32];
  std::snprintf(b, sizeof b, "part-%05llu", static_cast<unsigned long long>(k));
  return b;
}

struct Packer {
  const PackOptions& o;
  const store::StoreReader& st;
  const mix::LoadedPlan& plan;
  const Layout& l;
  int64_t pad;
  size_t width;

  uint32_t token_at(uint64_t doc, uint64_t pos) const {
    uint32_t v;
    store::decode_tokens(st.data().bin().data() + st.data().offsets()[doc] + pos * width, 1, st.manifest().token_type, &v);
    return v;
  }

  // Tokens of sequence s as stored (width bytes each, padded), and its spans: copies only.
  void gather_bytes(uint64_t s, std::string& buf, std::vector<SpanRecord>& spans) const {
    buf.resize(l.seq_len * width);
    spans.clear();
    size_t pos = 0;
    l.segments_of(s, plan.entries, [&](const Segment& g) {
      const auto& e = plan.entries[g.entry];
      const uint64_t from = static_cast<uint64_t>(e.start) + g.off;
      std::memcpy(buf.data() + pos * width, st.data().bin().data() + st.data().offsets()[e.doc] + from * width, g.len * width);
      spans.push_back({e.doc, static_cast<uint32_t>(from), static_cast<uint32_t>(pos), static_cast<uint32_t>(pos + g.len),
                       st.docs()[e.doc].domain, 0});
      pos += g.len;
    });
    for (; pos < l.seq_len; ++pos) {  // padding
      if (width == 2) {
        const auto v = static_cast<uint16_t>(pad);
        std::memcpy(buf.data() + 2 * pos, &v, 2);
      } else {
        const auto v = static_cast<int32_t>(pad);
        std::memcpy(buf.data() + 4 * pos, &v, 4);
      }
    }
  }

  // Tokens (as ids) and spans of sequence s.
  void gather(uint64_t s, std::vector<uint32_t>& ids, std::vector<SpanRecord>& spans) const {
    ids.clear();
    spans.clear();
    l.segments_of(s, plan.entries, [&](const Segment& g) {
      const auto& e = plan.entries[g.entry];
      const uint64_t from = static_cast<uint64_t>(e.start) + g.off;
      const uint32_t start = static_cast<uint32_t>(ids.size());
      const char* p = st.data().bin().data() + st.data().offsets()[e.doc] + from * width;
      ids.resize(ids.size() + g.len);
      store::decode_tokens(p, g.len, st.manifest().token_type, ids.data() + start);
      spans.push_back({e.doc, static_cast<uint32_t>(from), start, start + g.len, st.docs()[e.doc].domain, 0});
    });
    if (ids.size() < l.seq_len) ids.resize(l.seq_len, static_cast<uint32_t>(pad));
  }

  int64_t label(uint64_t s) const {
    const auto [entry, off] = l.label_of(s);
    if (entry < 0) return pad;
    const auto& e = plan.entries[static_cast<uint64_t>(entry)];
    return token_at(e.doc, static_cast<uint64_t>(e.start) + off);
  }

  void write_shard(uint64_t k, uint64_t a, uint64_t b, ojson& files) const {
    const std::string base = shard_name(k);
    std::vector<uint32_t> ids;
    std::vector<SpanRecord> spans;
    // The span sidecar is written as the sequences are, not held: a shard of short documents has
    // millions of spans.
    OutFile sb(o.out, base + kSpans), si(o.out, base + kSpanOffsets);
    int64_t span_count = 0;
    si.write(value_bytes(span_count));
    auto add_spans = [&] {
      sb.write(bytes_of(spans));
      span_count += static_cast<int64_t>(spans.size());
      si.write(value_bytes(span_count));
    };
    const std::string& f = o.format;
    if (f == "megatron-docs") {
      // A Megatron document dataset: one sequence (= document) per planned entry, in plan order,
      // EOS after each when asked. GPTDataset shuffles the documents and packs them itself.
      OutFile tokens(o.out, base + ".bin");
      std::vector<int32_t> lengths;
      std::string eos_bytes;
      if (o.eos_id >= 0) {
        eos_bytes.resize(width);
        if (width == 2) {
          const auto v = static_cast<uint16_t>(o.eos_id);
          std::memcpy(eos_bytes.data(), &v, 2);
        } else {
          const auto v = static_cast<int32_t>(o.eos_id);
          std::memcpy(eos_bytes.data(), &v, 4);
        }
      }
      for (uint64_t s = a; s < b; ++s) {
        const auto& e = plan.entries[s];
        const char* p = st.data().bin().data() + st.data().offsets()[e.doc] + static_cast<uint64_t>(e.start) * width;
        tokens.write(std::string_view(p, static_cast<size_t>(e.length) * width));
        tokens.write(eos_bytes);
        const uint64_t len = static_cast<uint64_t>(e.length) + eos_bytes.size() / width;
        if (len >= (1ULL << 31))
          throw Error(o.out + ": a Megatron sequence holds fewer than 2^31 tokens (document " + std::to_string(e.doc) + ")");
        lengths.push_back(static_cast<int32_t>(len));
        spans.assign(1, {e.doc, e.start, 0, e.length, st.docs()[e.doc].domain, 0});
        add_spans();
      }
      tokens.commit(files);
      OutFile idx(o.out, base + ".idx");
      idx.write(store::megatron_index_bytes(st.manifest().token_type, lengths));
      idx.commit(files);
    } else if (f == "megatron" || f == "llmc" || f == "flat") {
      const bool llmc = f == "llmc", flat = f == "flat";
      OutFile tokens(o.out, base + (flat ? ".tokens" : ".bin"));
      // llm.c and Megatron: the shard's sequences back to back, then the token after the last one
      // (its label), so that llm.c's B*T+1 window and GPTDataset's seq_length+1 sample serve every
      // sequence with its true next token. Flat: int32 cu_seqlens over the whole shard.
      const uint64_t n = (b - a) * l.seq_len + (flat ? 0 : 1);
      if (n >= (1ULL << 31)) {
        const std::string why = llmc ? "llm.c's header" : flat ? "int32 cu_seqlens" : "Megatron's int32 sequence length";
        throw Error(o.out + ": a " + f + " shard holds fewer than 2^31 tokens (" + why + "); lower --shard-sequences");
      }
      if (llmc) {
        std::vector<int32_t> header(256, 0);
        header[0] = width == 2 ? kLlmcMagic16 : kLlmcMagic32;
        header[1] = width == 2 ? kLlmcVersion16 : kLlmcVersion32;
        header[2] = static_cast<int32_t>(n);
        tokens.write(bytes_of(header));
      }
      // Flat: cu_seqlens written as it grows (one int32 per span); its per-sequence offsets held.
      std::optional<OutFile> cu_file;
      if (flat) cu_file.emplace(o.out, base + kCuSeqlens);
      int32_t cu_last = 0;
      int64_t cu_count = 1;
      auto cu_push = [&](int32_t v) {
        cu_file->write(value_bytes(v));
        cu_last = v;
        ++cu_count;
      };
      if (flat) cu_file->write(value_bytes(cu_last));
      std::vector<int64_t> cu_off{0};
      std::string buf;
      for (uint64_t s = a; s < b; ++s) {
        gather_bytes(s, buf, spans);
        tokens.write(buf);
        if (flat) {
          // One monotone cu_seqlens per shard: sequence i of the shard covers [i L, (i + 1) L); its
          // document ends (and the end of padding) are i L + span end. cu_off[i] is where i L sits.
          const auto base_pos = static_cast<int32_t>((s - a) * l.seq_len), end = base_pos + static_cast<int32_t>(l.seq_len);
          for (const auto& sp : spans) cu_push(base_pos + static_cast<int32_t>(sp.end));
          if (cu_last != end) cu_push(end);
          cu_off.push_back(cu_count - 1);
        }
        add_spans();
      }
      if (!flat) {
        const int64_t next = label(b - 1);
        std::string t(width, '\0');
        if (width == 2) {
          const auto v = static_cast<uint16_t>(next);
          std::memcpy(t.data(), &v, 2);
        } else {
          const auto v = static_cast<int32_t>(next);
          std::memcpy(t.data(), &v, 4);
        }
        tokens.write(t);
      }
      tokens.commit(files);
      if (f == "megatron") {
        // One Megatron sequence (and document) per shard: S L + 1 tokens. GPTDataset's
        // seq_length + 1 windows at stride L then fall exactly on the packed sequences.
        OutFile idx(o.out, base + ".idx");
        const std::vector<int32_t> lengths{static_cast<int32_t>(n)};
        idx.write(store::megatron_index_bytes(st.manifest().token_type, lengths));
        idx.commit(files);
      }
      if (flat) {
        OutFile ci(o.out, base + kCuOffsets);
        ci.write(bytes_of(cu_off));
        cu_file->commit(files);
        ci.commit(files);
      }
    } else {  // jsonl, jsonl.zst
      const bool zst = f == "jsonl.zst";
      OutFile out(o.out, base + (zst ? ".jsonl.zst" : ".jsonl"));
      ZSTD_CCtx* z = zst ? ZSTD_createCCtx() : nullptr;
      std::string row, packed;
      auto emit = [&](bool last) {
        if (!zst) {
          out.write(row);
          return;
        }
        ZSTD_inBuffer in{row.data(), row.size(), 0};
        do {
          packed.resize(ZSTD_CStreamOutSize());
          ZSTD_outBuffer ob{packed.data(), packed.size(), 0};
          const size_t r = ZSTD_compressStream2(z, &ob, &in, last ? ZSTD_e_end : ZSTD_e_continue);
          if (ZSTD_isError(r)) throw Error(o.out + ": zstd: " + ZSTD_getErrorName(r));
          out.write(std::string_view(packed.data(), ob.pos));
          if (last && r == 0) break;
          if (!last && in.pos == in.size) break;
        } while (true);
      };
      const auto& names = plan.store_domains;
      for (uint64_t s = a; s < b; ++s) {
        gather(s, ids, spans);
        row.clear();
        row += "{\"input_ids\": ";
        text::append_ids_json(row, ids);
        row += ", \"labels\": " + std::to_string(label(s)) + ", \"source\": [";
        for (size_t i = 0; i < spans.size(); ++i) {
          row += i ? ", {\"source\": \"" : "{\"source\": \"";
          text::json_escape_append(row, names[spans[i].domain]);
          row += "\", \"start\": " + std::to_string(spans[i].start) + ", \"end\": " + std::to_string(spans[i].end) + "}";
        }
        row += "]}\n";
        emit(false);
        add_spans();
      }
      if (zst) {
        row.clear();
        emit(true);
        ZSTD_freeCCtx(z);
      }
      out.commit(files);
    }
    sb.commit(files);
    si.commit(files);
  }
};

PackSummary pack_impl(const PackOptions& o, bool write_shards);

}  // namespace

void check_options(const PackOptions& o) {
  static const std::vector<std::string> kFormats = {"jsonl", "jsonl.zst", "megatron", "megatron-docs", "llmc", "flat"};
  if (std::find(kFormats.begin(), kFormats.end(), o.format) == kFormats.end())
    throw Error("--format: expected jsonl, jsonl.zst, megatron, megatron-docs, llmc or flat, found \"" + o.format + "\"");
  if (o.format == "megatron-docs") {
    if (o.align_docs || o.pad_id >= 0 || o.batch_sequences)
      throw Error("--format megatron-docs: one document per planned entry; --align-docs, --pad and --batch-sequences do not apply");
    if (o.seq_len > (1ULL << 31)) throw Error("--seq-len: expected L < 2^31");
  } else {
    if (o.seq_len == 0 || o.seq_len > (1ULL << 31)) throw Error("--seq-len: expected 0 < L < 2^31");
    if (o.eos_id >= 0) throw Error("--eos: only with --format megatron-docs (packed layouts keep the documents as stored)");
  }
  if (o.align_docs && o.pad_id < 0) throw Error("--align-docs: sequences are padded; give the pad token id with --pad ID");
  if (o.batch_sequences && o.shard_sequences % o.batch_sequences)
    throw Error("--shard-sequences " + std::to_string(o.shard_sequences) + ": expected a multiple of --batch-sequences " +
                std::to_string(o.batch_sequences));
}

PackSummary pack(const PackOptions& o) { return pack_impl(o, true); }

PackSummary finish_tasks(const PackOptions& o) {
  if (fs::exists(o.out + "/manifest.json")) {
    PackSummary s;
    const ojson m = ojson::parse(read_file(o.out + "/manifest.json"));
    s.sequences = m.at("sequences").get<uint64_t>();
    s.shards = m.at("shards").size();
    return s;
  }
  return pack_impl(o, false);
}

namespace {

PackSummary pack_impl(const PackOptions& o, bool write_shards) {
  const auto t0 = std::chrono::steady_clock::now();
  check_options(o);
  const bool docs = o.format == "megatron-docs";
  if (write_shards && fs::exists(o.out + "/manifest.json"))
    throw Error(o.out + ": already holds a packed output; remove it or choose another --out");
  const mix::LoadedPlan plan = mix::read_plan(o.plan_dir);
  if (!fs::exists(plan.store_dir + "/" + store::kManifestFile))
    throw Error(o.plan_dir + "/plan.json: the store it was made from is not at " + plan.store_dir + " (recorded as \"" +
                plan.store_recorded + "\"); was it moved or removed?");
  const store::StoreReader st(plan.store_dir);
  if (st.manifest().selection.kind == "sample")
    throw Error(o.plan_dir + ": is a selection plan over the sample store " + plan.store_dir +
                " (estimated lengths): tokenize its documents (ingest --select) and trim it (mix --trim) first; docs/tokenize-kept.md");
  if (xxh128_file(plan.store_dir + "/" + store::kManifestFile) != plan.store_manifest_xxh128)
    throw Error(plan.store_dir + ": not the store the plan " + o.plan_dir + " was made from (its manifest changed)");
  for (const auto& e : plan.entries)
    if (e.doc >= st.docs().size() || static_cast<uint64_t>(e.start) + e.length > static_cast<uint64_t>(st.data().lengths()[e.doc]))
      throw Error(o.plan_dir + "/entries.bin: an entry lies outside its document (document " + std::to_string(e.doc) + ")");
  const uint64_t vocab = st.manifest().vocab_size;
  if (o.pad_id >= static_cast<int64_t>(vocab)) throw Error("--pad " + std::to_string(o.pad_id) + ": outside the vocabulary");
  if (o.eos_id >= static_cast<int64_t>(vocab)) throw Error("--eos " + std::to_string(o.eos_id) + ": outside the vocabulary");

  const uint64_t seed = o.seed_given ? o.seed : plan.seed;
  uint64_t planned_tokens = 0;
  for (const auto& e : plan.entries) planned_tokens += e.length;
  Layout l;
  if (docs) {
    // Plan order, one sequence per entry: no layout to compute.
    l.seq_len = o.seq_len;
    l.sequences = plan.entries.size();
  } else {
    std::vector<uint64_t> order(plan.entries.size());
    std::iota(order.begin(), order.end(), 0);
    Rng(seed, 7).shuffle(std::span<uint64_t>(order));
    l = o.align_docs ? best_fit_layout(plan.entries, order, o.seq_len)
                     : concat_layout(plan.entries, std::move(order), o.seq_len, o.pad_id >= 0);
    if (o.batch_sequences) l.sequences -= l.sequences % o.batch_sequences;
  }

  if (o.task_count == 0 || o.task_id >= o.task_count)
    throw Error("task " + std::to_string(o.task_id) + " of " + std::to_string(o.task_count) + ": expected 0 <= id < count");
  std::error_code ec;
  fs::create_directories(o.out, ec);
  if (ec) throw Error(o.out + ": cannot create: " + ec.message());
  uint64_t per_shard = o.shard_sequences;
  if (!per_shard) {
    if (docs) {
      per_shard = std::max<uint64_t>(1, l.sequences);  // one dataset: Megatron shuffles every document together
    } else {
      per_shard = std::max<uint64_t>(1, (1ULL << 27) / o.seq_len);
      if (o.batch_sequences) per_shard = std::max(o.batch_sequences, per_shard - per_shard % o.batch_sequences);
    }
  }
  const uint64_t shards = (l.sequences + per_shard - 1) / per_shard;
  const Packer p{o, st, plan, l, o.pad_id, store::token_bytes(st.manifest().token_type)};
  // Array tasks: task t writes shards t, t + N, ... (the layout is the same in every task).
  std::vector<uint64_t> mine;
  if (write_shards)
    for (uint64_t k = o.task_id; k < shards; k += o.task_count) mine.push_back(k);
  std::vector<ojson> files(shards, ojson::object());
  std::atomic<uint64_t> next{0};
  std::vector<std::exception_ptr> errors(std::max(1, o.threads));
  std::vector<std::thread> pool;
  for (int t = 0; t < std::max(1, o.threads); ++t)
    pool.emplace_back([&, t] {
      try {
        for (uint64_t i; (i = next++) < mine.size();) {
          const uint64_t k = mine[i];
          p.write_shard(k, k * per_shard, std::min(l.sequences, (k + 1) * per_shard), files[k]);
        }
      } catch (...) {
        errors[t] = std::current_exception();
        next = mine.size();
      }
    });
  for (auto& th : pool) th.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);

  PackSummary sum;
  sum.sequences = l.sequences;
  if (docs) {
    sum.real_tokens = planned_tokens;
    sum.tokens = planned_tokens + (o.eos_id >= 0 ? l.sequences : 0);
  } else {
    sum.tokens = l.sequences * o.seq_len;
    for (uint64_t s = 0; s < l.sequences; ++s)
      l.segments_of(s, plan.entries, [&](const Segment& g) { sum.real_tokens += g.len; });
  }
  l.dropped_tokens = planned_tokens - sum.real_tokens;
  sum.shards = shards;
  sum.dropped_tokens = l.dropped_tokens;
  ojson m;
  m["format"] = "longctx-packed";
  m["format_version"] = 2;  // 2: sidecars .spans / .spans.offsets, label token after llmc/megatron shards, flat cu_seqlens per shard
  m["layout"] = o.format;
  m["seq_len"] = o.seq_len;
  m["sequences"] = l.sequences;
  m["tokens"] = sum.tokens;
  m["document_tokens"] = sum.real_tokens;
  m["dropped_tail_tokens"] = l.dropped_tokens;
  m["pad_id"] = o.pad_id >= 0 ? ojson(o.pad_id) : ojson(nullptr);
  m["align_docs"] = o.align_docs;
  m["seed"] = docs ? ojson(nullptr) : ojson(seed);
  m["eos_id"] = o.eos_id >= 0 ? ojson(o.eos_id) : ojson(nullptr);
  m["batch_sequences"] = o.batch_sequences;
  m["token_dtype"] = st.manifest().token_type == store::TokenType::kUint16 ? "uint16" : "int32";
  m["vocab_size"] = vocab;
  // Paths relative to the output folder (docs/formats/packed.md), so they work from any folder.
  m["plan"] = {{"path", recorded_path(o.plan_dir, o.out)}, {"xxh128", xxh128_hex(plan.json)}};
  m["store"] = recorded_path(plan.store_dir, o.out);
  m["paths_relative_to"] = "manifest";
  m["domains"] = plan.store_domains;
  if (o.task_count > 1) {
    // Record this task's shards; the task that finds every task's record writes the manifest
    // (several may: the bytes are the same, and each write is an atomic rename).
    const std::string tasks = o.out + "/.tasks";
    fs::create_directories(tasks, ec);
    if (write_shards) {
      ojson mine_files = ojson::object();
      for (const uint64_t k : mine) mine_files[std::to_string(k)] = files[k];
      AtomicFile tf(tasks + "/" + std::to_string(o.task_id) + "-of-" + std::to_string(o.task_count) + ".json");
      tf.write(mine_files.dump() + "\n");
      tf.commit();
    }
    for (uint64_t t = 0; t < o.task_count; ++t) {
      const std::string path = tasks + "/" + std::to_string(t) + "-of-" + std::to_string(o.task_count) + ".json";
      if (!fs::exists(path)) {
        sum.pending = true;
        break;
      }
      const ojson record = ojson::parse(read_file(path));  // named: items() of a temporary dangles
      for (const auto& [k, f] : record.items()) files[std::stoull(k)] = f;
    }
  }
  for (uint64_t k = 0; k < shards; ++k)
    for (const auto& [name, f] : files[k].items()) sum.bytes += f["bytes"].get<uint64_t>();
  sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (sum.pending) return sum;
  m["shards"] = ojson::array();
  for (uint64_t k = 0; k < shards; ++k) {
    const uint64_t n = std::min(l.sequences, (k + 1) * per_shard) - k * per_shard;
    m["shards"].push_back({{"name", shard_name(k)}, {"sequences", n}, {"files", files[k]}});
  }
  AtomicFile mf(o.out + "/manifest.json");
  mf.write(m.dump(2) + "\n");
  mf.commit();
  fs::remove_all(o.out + "/.tasks", ec);
  return sum;
}

}  // namespace

}  // namespace longctx::pack
