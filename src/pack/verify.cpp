// verify(): any longctx output against its manifest. Every file's size and XXH3-128, then the
// counts each layout implies (sequences, tokens, index entries).
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "longctx/corpus/byte_source.h"
#include "longctx/mix/plan.h"
#include "longctx/pack/pack.h"
#include "longctx/store/megatron.h"
#include "longctx/store/store.h"
#include "longctx/util/error.h"
#include "longctx/util/file.h"
#include "longctx/util/hash.h"
#include "longctx/util/mmap.h"

namespace longctx::pack {
namespace {

using ojson = nlohmann::ordered_json;

void expect(bool ok, const std::string& path, const std::string& what) {
  if (!ok) throw Error(path + ": " + what);
}

std::string verify_packed(const std::string& dir, const ojson& m) {
  const auto layout = m.at("layout").get<std::string>();
  const uint64_t L = m.at("seq_len").get<uint64_t>();
  const size_t w = m.at("token_dtype").get<std::string>() == "uint16" ? 2 : 4;
  const uint64_t version = m.value("format_version", 1);
  // Version 2: sidecars renamed; llm.c and Megatron shards end with their last sequence's label.
  const std::string spans_offsets = version >= 2 ? ".spans.offsets" : ".spans.idx";
  const uint64_t label_token = version >= 2 ? 1 : 0;
  uint64_t sequences = 0;
  for (const auto& sh : m.at("shards")) {
    const auto name = sh.at("name").get<std::string>();
    const uint64_t n = sh.at("sequences").get<uint64_t>();
    sequences += n;
    for (const auto& [file, f] : sh.at("files").items()) {
      const std::string path = dir + "/" + file;
      const MappedFile mf(path);
      expect(mf.size() == f.at("bytes").get<uint64_t>(), path,
             "expected " + std::to_string(f.at("bytes").get<uint64_t>()) + " bytes (manifest), found " + std::to_string(mf.size()));
      const std::string h = xxh128_hex(mf.view());
      expect(h == f.at("xxh128").get<std::string>(), path, "XXH3-128 differs from the manifest's");
    }
    const std::string base = dir + "/" + name;
    const MappedFile spans_idx(base + spans_offsets);
    expect(spans_idx.size() == 8 * (n + 1), base + spans_offsets, "expected " + std::to_string(n + 1) + " int64 entries");
    if (layout == "megatron" && version >= 2) {
      const store::MegatronReader r(base);
      expect(r.sequences() == 1 && static_cast<uint64_t>(r.lengths()[0]) == n * L + 1, base + ".idx",
             "expected one sequence of " + std::to_string(n * L + 1) + " tokens (the shard's sequences and the last one's label)");
    } else if (layout == "megatron-docs") {
      const store::MegatronReader r(base);
      expect(r.sequences() == n, base + ".idx", "expected " + std::to_string(n) + " documents, found " + std::to_string(r.sequences()));
    } else if (layout == "megatron") {
      const store::MegatronReader r(base);
      expect(r.sequences() == n, base + ".idx", "expected " + std::to_string(n) + " sequences, found " + std::to_string(r.sequences()));
      for (const int32_t len : r.lengths()) expect(static_cast<uint64_t>(len) == L, base + ".idx", "a sequence is not --seq-len long");
    } else if (layout == "llmc") {
      const MappedFile f(base + ".bin");
      int32_t header[3];
      expect(f.size() >= 1024, base + ".bin", "shorter than llm.c's 1024-byte header");
      std::memcpy(header, f.data(), sizeof header);
      expect(static_cast<uint64_t>(header[2]) == n * L + label_token && f.size() == 1024 + (n * L + label_token) * w, base + ".bin",
             "token count in the header does not match the shard");
    } else if (layout == "flat" && version >= 2) {
      const MappedFile t(base + ".tokens"), c(base + ".cu_seqlens"), ci(base + ".cu_seqlens.offsets");
      expect(t.size() == n * L * w, base + ".tokens", "expected " + std::to_string(n * L) + " tokens");
      expect(ci.size() == 8 * (n + 1), base + ".cu_seqlens.offsets", "expected " + std::to_string(n + 1) + " int64 entries");
      // One monotone int32 array per shard; offsets[i] is where i L sits in it.
      const auto* cu = reinterpret_cast<const int32_t*>(c.data());
      const auto* off = reinterpret_cast<const int64_t*>(ci.data());
      const uint64_t k = c.size() / 4;
      expect(c.size() % 4 == 0 && off[n] >= 0 && static_cast<uint64_t>(off[n]) + 1 == k, base + ".cu_seqlens",
             "size does not match its offsets");
      for (uint64_t i = 0; i < n + 1; ++i)
        expect(off[i] >= 0 && static_cast<uint64_t>(off[i]) < k && static_cast<uint64_t>(cu[off[i]]) == i * L, base + ".cu_seqlens.offsets",
               "entry " + std::to_string(i) + " does not point at " + std::to_string(i) + " x seq_len");
      for (uint64_t i = 1; i < k; ++i) expect(cu[i] > cu[i - 1], base + ".cu_seqlens", "not strictly increasing");
    } else if (layout == "flat") {
      const MappedFile t(base + ".tokens"), ci(base + ".cu_seqlens.idx");
      expect(t.size() == n * L * w, base + ".tokens", "expected " + std::to_string(n * L) + " tokens");
      expect(ci.size() == 8 * (n + 1), base + ".cu_seqlens.idx", "expected " + std::to_string(n + 1) + " int64 entries");
    } else {
      const auto src = corpus::open_source(base + (layout == "jsonl.zst" ? ".jsonl.zst" : ".jsonl"));
      std::vector<char> buf(1 << 20);
      uint64_t lines = 0;
      for (size_t got; (got = src->read(buf.data(), buf.size())) > 0;)
        for (size_t i = 0; i < got; ++i) lines += buf[i] == '\n';
      expect(lines == n, src->name(), "expected " + std::to_string(n) + " rows, found " + std::to_string(lines));
    }
  }
  expect(sequences == m.at("sequences").get<uint64_t>(), dir + "/manifest.json", "shard sequences do not add up");
  if (layout == "megatron-docs")
    return "Megatron documents: " + std::to_string(sequences) + " documents in " + std::to_string(m.at("shards").size()) +
           " shards; every file matches the manifest";
  return "packed (" + layout + "): " + std::to_string(sequences) + " sequences of " + std::to_string(L) + " tokens in " +
         std::to_string(m.at("shards").size()) + " shards; every file matches the manifest";
}

}  // namespace

std::string verify(const std::string& dir) {
  if (!std::filesystem::exists(dir + "/manifest.json") && std::filesystem::exists(dir + "/plan.json")) {
    const auto p = mix::read_plan(dir);  // checks entries.bin against plan.json
    return "plan: " + std::to_string(p.entries.size()) + " entries, " + std::to_string(p.tokens) + " tokens; entries.bin matches plan.json";
  }
  const std::string path = dir + "/manifest.json";
  std::string text;
  try {
    text = read_file(path);
  } catch (const Error&) {
    throw Error(dir + ": nothing to verify (no manifest.json or plan.json; an unfinished run leaves none)");
  }
  ojson m;
  try {
    m = ojson::parse(text);
    const auto format = m.value("format", "");
    if (format == "longctx-store") {
      const store::StoreReader st(dir);
      st.verify();
      return "store: " + std::to_string(st.manifest().documents) + " documents, " + std::to_string(st.manifest().tokens) +
             " tokens; every file matches the manifest";
    }
    if (format == "longctx-packed") return verify_packed(dir, m);
    throw Error(path + ": expected a longctx manifest (store or packed), found format \"" + format + "\"");
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": malformed manifest: " + e.what());
  }
}

}  // namespace longctx::pack
