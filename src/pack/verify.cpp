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
    const MappedFile spans_idx(base + ".spans.idx");
    expect(spans_idx.size() == 8 * (n + 1), base + ".spans.idx", "expected " + std::to_string(n + 1) + " int64 entries");
    if (layout == "megatron") {
      const store::MegatronReader r(base);
      expect(r.sequences() == n, base + ".idx", "expected " + std::to_string(n) + " sequences, found " + std::to_string(r.sequences()));
      for (const int32_t len : r.lengths()) expect(static_cast<uint64_t>(len) == L, base + ".idx", "a sequence is not --seq-len long");
    } else if (layout == "llmc") {
      const MappedFile f(base + ".bin");
      int32_t header[3];
      expect(f.size() >= 1024, base + ".bin", "shorter than llm.c's 1024-byte header");
      std::memcpy(header, f.data(), sizeof header);
      expect(static_cast<uint64_t>(header[2]) == n * L && f.size() == 1024 + n * L * w, base + ".bin",
             "token count in the header does not match the shard");
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
