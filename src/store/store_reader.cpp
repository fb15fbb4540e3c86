#include <cstring>

#include "longctx/store/store.h"
#include "longctx/util/error.h"
#include "longctx/util/file.h"
#include "longctx/util/hash.h"

namespace longctx::store {
namespace {

Manifest load_manifest(const std::string& dir) {
  const std::string path = dir + "/" + kManifestFile;
  std::string text;
  try {
    text = read_file(path);
  } catch (const Error&) {
    throw Error(dir + ": not a complete longctx store (no " + kManifestFile +
                "; an interrupted ingest resumes when rerun with the same arguments)");
  }
  return Manifest::from_json(text, path);
}

}  // namespace

StoreReader::StoreReader(const std::string& dir)
    : dir_(dir), manifest_(load_manifest(dir)), data_(dir + "/" + kDataPrefix) {
  const auto& m = manifest_;
  const std::string docs_path = dir + "/" + kDocsFile;
  docs_file_ = MappedFile(docs_path);
  if (data_.type() != m.token_type) throw Error(dir + "/data.idx: token dtype differs from the manifest's");
  if (data_.sequences() != m.documents)
    throw Error(dir + "/data.idx: " + std::to_string(data_.sequences()) + " sequences, the manifest says " +
                std::to_string(m.documents) + " documents");
  if (docs_file_.size() != m.documents * sizeof(DocRecord))
    throw Error(docs_path + ": expected " + std::to_string(m.documents * sizeof(DocRecord)) + " bytes (" +
                std::to_string(m.documents) + " records of 24), found " + std::to_string(docs_file_.size()));
  docs_ = {reinterpret_cast<const DocRecord*>(docs_file_.data()), m.documents};
  uint64_t tokens = 0;
  for (const int32_t len : data_.lengths()) tokens += static_cast<uint64_t>(len);
  if (tokens != m.tokens)
    throw Error(dir + "/data.idx: " + std::to_string(tokens) + " tokens, the manifest says " + std::to_string(m.tokens));
  for (uint64_t i = 0; i < docs_.size(); ++i) {
    const DocRecord& r = docs_[i];
    if (r.input >= m.inputs.size() || r.domain >= m.domains.size())
      throw Error(docs_path + ": record " + std::to_string(i) + " names input " + std::to_string(r.input) + " / domain " +
                  std::to_string(r.domain) + ", the manifest has " + std::to_string(m.inputs.size()) + " / " +
                  std::to_string(m.domains.size()));
  }
}

void StoreReader::verify() const {
  for (const auto& [name, f] : manifest_.files) {
    const std::string path = dir_ + "/" + name;
    const MappedFile mf(path);
    if (mf.size() != f.bytes)
      throw Error(path + ": expected " + std::to_string(f.bytes) + " bytes (manifest), found " + std::to_string(mf.size()));
    const std::string h = xxh128_hex(mf.view());
    if (h != f.xxh128) throw Error(path + ": expected XXH3-128 " + f.xxh128 + " (manifest), found " + h);
  }
}

}  // namespace longctx::store
