#include "longctx/store/builder.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "longctx/util/error.h"
#include "longctx/util/file.h"
#include "longctx/util/hash.h"

namespace longctx::store {
namespace {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

constexpr const char* kState = "state.json";
constexpr const char* kSizes = "sizes.bin";
constexpr const char* kFinalFiles[] = {"data.bin", "data.idx", "docs.bin"};

bool exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

uint64_t file_size(const std::string& p) {
  struct stat st;
  if (::stat(p.c_str(), &st) != 0) throw Error(p + ": cannot stat: " + std::strerror(errno));
  return static_cast<uint64_t>(st.st_size);
}

FILE* open_append(const std::string& p) {
  FILE* f = std::fopen(p.c_str(), "ab");
  if (!f) throw Error(p + ": cannot write: " + std::strerror(errno));
  std::setvbuf(f, nullptr, _IOFBF, 1 << 20);
  return f;
}

void write_all(FILE* f, const void* data, size_t n, const std::string& name) {
  if (n && std::fwrite(data, 1, n, f) != n) throw Error(name + ": write failed: " + std::strerror(errno));
}

void sync(FILE* f, const std::string& name) {
  if (std::fflush(f) != 0 || ::fdatasync(::fileno(f)) != 0) throw Error(name + ": cannot sync: " + std::strerror(errno));
}

// Replaces path with text: temporary file, fsync, rename. Survives a kill or a power cut.
void write_durably(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw Error(tmp + ": cannot write: " + std::strerror(errno));
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size() && std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
  std::fclose(f);
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) throw Error(path + ": cannot write: " + std::strerror(errno));
}

void truncate_to(const std::string& p, uint64_t size) {
  if (file_size(p) < size)
    throw Error(p + ": shorter (" + std::to_string(file_size(p)) + " bytes) than its checkpoint says (" + std::to_string(size) +
                "); the partial store is damaged: remove its .partial folder to start over");
  if (::truncate(p.c_str(), static_cast<off_t>(size)) != 0) throw Error(p + ": cannot truncate: " + std::strerror(errno));
}

// Test hook: LONGCTX_TEST_KILL_AFTER_CHECKPOINTS=N kills the process a few documents after its
// Nth checkpoint, with those documents already in the files (past the checkpoint's sizes, which
// a resume must cut off), so that the resume tests stop a run at a known, awkward point.
int kill_after_checkpoints() {
  const char* v = std::getenv("LONGCTX_TEST_KILL_AFTER_CHECKPOINTS");
  return v ? std::atoi(v) : 0;
}

}  // namespace

StoreBuilder::StoreBuilder(std::string dir, std::string fingerprint, Manifest initial)
    : dir_(std::move(dir)), partial_(dir_ + "/.partial"), fingerprint_(std::move(fingerprint)), manifest_(std::move(initial)) {
  std::error_code ec;
  fs::create_directories(partial_, ec);
  if (ec) throw Error(partial_ + ": cannot create: " + ec.message());
  // One writer per store: two tasks given the same id (or two runs) would interleave their files.
  lock_fd_ = ::open((partial_ + "/lock").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
  if (lock_fd_ < 0) throw Error(partial_ + "/lock: cannot create: " + std::strerror(errno));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0)
    throw Error(dir_ + ": another longctx process is writing this store (" + partial_ + "/lock is held)");
  const std::string state_path = partial_ + "/" + kState;
  const std::string done_manifest = dir_ + "/" + kManifestFile;
  if (exists(state_path)) {
    ojson st;
    try {
      st = ojson::parse(read_file(state_path));
    } catch (const nlohmann::json::exception& e) {
      throw Error(state_path + ": unreadable checkpoint (" + e.what() + "); remove " + partial_ + " to start over");
    }
    if (st.value("fingerprint", "") != fingerprint_)
      throw Error(partial_ + ": holds an unfinished ingest started with other arguments or inputs; rerun that one, or remove " +
                  partial_ + " to start over");
    manifest_ = Manifest::from_json(st.at("manifest").dump(), state_path);
    resumed_ = true;
    if (st.value("finishing", false)) {
      move_into_place();
      done_ = true;
      return;
    }
    const auto& pos = st.at("position");
    position_ = {pos.at("input").get<uint64_t>(), pos.at("bytes").get<uint64_t>(), pos.at("lines").get<uint64_t>()};
    docs_count_ = st.at("documents").get<uint64_t>();
    bin_bytes_ = st.at("bin_bytes").get<uint64_t>();
    for (size_t i = 0; i < manifest_.domains.size(); ++i) domain_ids_[manifest_.domains[i].name] = static_cast<uint16_t>(i);
    open_files(true);
    return;
  }
  if (exists(done_manifest)) {
    const Manifest m = Manifest::from_json(read_file(done_manifest), done_manifest);
    if (m.run_fingerprint == manifest_.run_fingerprint && m.is_task == manifest_.is_task && m.task_id == manifest_.task_id &&
        m.task_count == manifest_.task_count) {
      manifest_ = m;
      done_ = true;
      fs::remove_all(partial_, ec);
      return;
    }
    fs::remove_all(partial_, ec);  // the folder made above, with its lock
    throw Error(dir_ + ": already holds a store made with other arguments or inputs; remove it or choose another --out");
  }
  // A fresh start: clear whatever a run killed before its first checkpoint left.
  for (const auto& e : fs::directory_iterator(partial_))
    if (e.path().filename() != "lock") fs::remove_all(e.path(), ec);
  open_files(false);
}

StoreBuilder::~StoreBuilder() {
  for (FILE* f : {bin_, sizes_, docs_})
    if (f) std::fclose(f);
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

void StoreBuilder::open_files(bool truncate_to_state) {
  const std::string bin = partial_ + "/data.bin", sizes = partial_ + "/" + kSizes, docs = partial_ + "/docs.bin";
  if (truncate_to_state) {
    truncate_to(bin, bin_bytes_);
    truncate_to(sizes, docs_count_ * 4);
    truncate_to(docs, docs_count_ * sizeof(DocRecord));
  }
  bin_ = open_append(bin);
  sizes_ = open_append(sizes);
  docs_ = open_append(docs);
}

uint16_t StoreBuilder::domain_index(std::string_view name) {
  const auto it = domain_ids_.find(std::string(name));
  if (it != domain_ids_.end()) return it->second;
  if (manifest_.domains.size() >= 65535) throw Error(dir_ + ": more than 65,535 domains (the sidecar stores 16-bit domain indices)");
  const auto id = static_cast<uint16_t>(manifest_.domains.size());
  manifest_.domains.push_back({std::string(name), 0, 0});
  domain_ids_.emplace(std::string(name), id);
  return id;
}

void StoreBuilder::add(std::string_view token_bytes, uint32_t tokens, const DocRecord& record) {
  if (tokens > static_cast<uint32_t>(INT32_MAX))
    throw Error(dir_ + ": a document of " + std::to_string(tokens) + " tokens exceeds Megatron's int32 sequence length");
  write_all(bin_, token_bytes.data(), token_bytes.size(), partial_ + "/data.bin");
  bin_bytes_ += token_bytes.size();
  append_record(tokens, record);
  static const int kill_at = kill_after_checkpoints();
  if (kill_at > 0 && checkpoints_ == kill_at && ++docs_after_kill_checkpoint_ == 3) {
    for (FILE* f : {bin_, sizes_, docs_}) std::fflush(f);
    std::raise(SIGKILL);
  }
}

// The document's size and sidecar record, and the manifest's counts.
void StoreBuilder::append_record(uint32_t tokens, const DocRecord& record) {
  const auto len = static_cast<int32_t>(tokens);
  write_all(sizes_, &len, 4, partial_ + "/" + kSizes);
  write_all(docs_, &record, sizeof record, partial_ + "/docs.bin");
  ++docs_count_;
  auto& d = manifest_.domains[record.domain];
  ++d.documents;
  d.tokens += tokens;
  ++manifest_.documents;
  manifest_.tokens += tokens;
}

void StoreBuilder::add_zeros(uint32_t tokens, const DocRecord& record) {
  if (tokens > static_cast<uint32_t>(INT32_MAX))
    throw Error(dir_ + ": a document of " + std::to_string(tokens) + " tokens exceeds Megatron's int32 sequence length");
  const uint64_t n = uint64_t{tokens} * token_bytes(manifest_.token_type);
  // data.bin is opened for appending: after the truncate, the next write lands after the hole.
  if (std::fflush(bin_) != 0 || ::ftruncate(::fileno(bin_), static_cast<off_t>(bin_bytes_ + n)) != 0)
    throw Error(partial_ + "/data.bin: cannot extend: " + std::strerror(errno));
  bin_bytes_ += n;
  append_record(tokens, record);
}

void StoreBuilder::sync_files() {
  sync(bin_, partial_ + "/data.bin");
  sync(sizes_, partial_ + "/" + kSizes);
  sync(docs_, partial_ + "/docs.bin");
}

void StoreBuilder::checkpoint(const Position& pos) {
  sync_files();
  position_ = pos;
  ojson st;
  st["fingerprint"] = fingerprint_;
  st["position"] = {{"input", pos.input}, {"bytes", pos.bytes}, {"lines", pos.lines}};
  st["documents"] = docs_count_;
  st["bin_bytes"] = bin_bytes_;
  st["manifest"] = ojson::parse(manifest_.to_json());
  write_durably(partial_ + "/" + kState, st.dump(1) + "\n");
  ++checkpoints_;
}

void StoreBuilder::finish() {
  sync_files();
  for (FILE** f : {&bin_, &sizes_, &docs_}) {
    std::fclose(*f);
    *f = nullptr;
  }
  write_megatron_index(partial_ + "/data.idx", manifest_.token_type, partial_ + "/" + kSizes);
  for (const char* name : kFinalFiles) {
    const std::string p = partial_ + "/" + name;
    manifest_.files[name] = {file_size(p), xxh128_file(p)};
  }
  // The finished manifest goes into the checkpoint first: from here on, a rerun only completes
  // the moves below.
  write_durably(partial_ + "/" + kManifestFile, manifest_.to_json());
  ojson st;
  st["fingerprint"] = fingerprint_;
  st["finishing"] = true;
  st["manifest"] = ojson::parse(manifest_.to_json());
  write_durably(partial_ + "/" + kState, st.dump(1) + "\n");
  move_into_place();
  done_ = true;
}

void StoreBuilder::move_into_place() {
  for (const char* name : kFinalFiles) {
    const std::string from = partial_ + "/" + name, to = dir_ + "/" + name;
    if (exists(from) && std::rename(from.c_str(), to.c_str()) != 0) throw Error(to + ": cannot move into place: " + std::strerror(errno));
  }
  // The manifest last: a store is complete exactly when its manifest is there.
  const std::string from = partial_ + "/" + kManifestFile, to = dir_ + "/" + kManifestFile;
  if (exists(from) && std::rename(from.c_str(), to.c_str()) != 0) throw Error(to + ": cannot move into place: " + std::strerror(errno));
  std::error_code ec;
  fs::remove_all(partial_, ec);
}

}  // namespace longctx::store
