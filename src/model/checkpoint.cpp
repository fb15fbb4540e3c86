#include "longctx/model/checkpoint.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "longctx/util/error.h"
#include "longctx/util/file.h"
#include "longctx/util/hash.h"

namespace longctx::model {
namespace {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;
constexpr const char* kFormat = "longctx-checkpoint";

CheckpointCheck check(const std::string& dir, bool with_optimizer, bool hashes) {
  CheckpointCheck r;
  const std::string path = dir + "/checkpoint.json";
  if (!fs::exists(path)) return r;
  ojson m;
  try {
    m = ojson::parse(read_file(path));
  } catch (const ojson::exception& e) {
    throw Error(path + ": expected a checkpoint manifest (JSON), found invalid JSON: " + e.what());
  }
  // m["format"] compared, not m.value(): value() throws when "format" is there but not a string.
  if (!m.is_object() || !m.contains("format") || m["format"] != kFormat || !m.contains("files") || !m["files"].is_object())
    throw Error(path + ": expected {\"format\": \"" + kFormat + "\", \"files\": {...}}, found something else");
  for (const auto& [name, f] : m["files"].items()) {
    if (name.empty() || name.find('/') != std::string::npos || name.find("..") != std::string::npos)
      throw Error(path + ": expected file names inside the folder, found \"" + name + "\"");
    if (!with_optimizer && name == "optimizer.safetensors") continue;
    if (!f.is_object() || !f.contains("bytes") || !f["bytes"].is_number_unsigned() || !f.contains("xxh128") || !f["xxh128"].is_string())
      throw Error(path + ": expected {\"bytes\", \"xxh128\"} for " + name + ", found " + f.dump());
    const std::string file = dir + "/" + name;
    std::error_code ec;
    const auto size = fs::file_size(file, ec);
    if (ec) throw Error(file + ": missing: checkpoint.json lists it");
    const auto want = f["bytes"].get<uint64_t>();
    if (size != want)
      throw Error(file + ": corrupted: expected " + std::to_string(want) + " bytes (checkpoint.json), found " + std::to_string(size));
    if (hashes) {
      const std::string h = xxh128_file(file), hw = f["xxh128"].get<std::string>();
      if (h != hw) throw Error(file + ": corrupted: XXH3-128 " + h + " differs from checkpoint.json's " + hw);
    }
    ++r.files;
    r.bytes += size;
  }
  return r;
}

}  // namespace

void write_checkpoint_manifest(const std::string& dir, const std::vector<std::string>& files) {
  ojson m;
  m["format"] = kFormat;
  m["format_version"] = 1;
  m["hash"] = "xxh128";
  m["files"] = ojson::object();
  for (const auto& name : files) {
    const std::string file = dir + "/" + name;
    m["files"][name] = {{"bytes", static_cast<uint64_t>(fs::file_size(file))}, {"xxh128", xxh128_file(file)}};
  }
  AtomicFile f(dir + "/checkpoint.json");
  f.write(m.dump(2) + "\n");
  f.commit();
}

bool has_checkpoint_manifest(const std::string& dir) { return fs::exists(dir + "/checkpoint.json"); }

CheckpointCheck verify_checkpoint(const std::string& dir, bool with_optimizer) { return check(dir, with_optimizer, true); }

void verify_model_files(const std::string& dir) {
  const char* skip = std::getenv("LONGCTX_SKIP_CHECKPOINT_HASH");
  check(dir, false, !(skip && std::string(skip) == "1"));
}

std::string verify_training_output(const std::string& dir) {
  CheckpointCheck total;
  uint64_t folders = 0;
  std::vector<std::string> dirs;
  if (has_checkpoint_manifest(dir)) dirs.push_back(dir);
  std::vector<std::pair<uint64_t, std::string>> cks;
  if (fs::is_directory(dir))
    for (const auto& e : fs::directory_iterator(dir)) {
      const std::string n = e.path().filename().string();
      // At most 18 digits: a step train can write, and what stoull reads without overflowing.
      if (n.rfind("checkpoint-", 0) == 0 && n.size() > 11 && n.size() <= 11 + 18 && n.find_first_not_of("0123456789", 11) == std::string::npos &&
          e.is_directory())
        cks.emplace_back(std::stoull(n.substr(11)), e.path().string());
    }
  std::sort(cks.begin(), cks.end());
  for (const auto& [step, p] : cks) {
    if (!has_checkpoint_manifest(p)) throw Error(p + ": expected checkpoint.json (the content hashes train writes), found none");
    dirs.push_back(p);
  }
  if (dirs.empty())
    throw Error(dir + ": nothing to verify (no checkpoint.json and no checkpoint-STEP/ folder; a run killed before its first checkpoint leaves none)");
  for (const auto& d : dirs) {
    const auto r = verify_checkpoint(d, true);
    total.files += r.files;
    total.bytes += r.bytes;
    ++folders;
  }
  return "checkpoint: " + std::to_string(folders) + " folder(s), " + std::to_string(total.files) + " files, " +
         std::to_string(total.bytes) + " bytes; every file matches its checkpoint.json";
}

}  // namespace longctx::model
