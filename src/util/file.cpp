#include "longctx/util/file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "longctx/util/error.h"

namespace longctx {

std::string read_file(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw Error(path + ": cannot read: " + std::strerror(errno));
  std::string data;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) data.append(buf, n);
  const bool failed = std::ferror(f);
  std::fclose(f);
  if (failed) throw Error(path + ": read error");
  return data;
}

std::string recorded_path(const std::string& target, const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path t = fs::weakly_canonical(fs::absolute(target), ec);
  if (ec) t = fs::absolute(target).lexically_normal();
  fs::path d = fs::weakly_canonical(fs::absolute(dir), ec);
  if (ec) d = fs::absolute(dir).lexically_normal();
  const fs::path r = t.lexically_relative(d);
  if (r.empty()) return t.string();  // no relative form: absolute
  std::string s = r.string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

std::string resolve_recorded(const std::string& recorded, const std::string& dir, bool legacy) {
  namespace fs = std::filesystem;
  if (recorded.empty() || fs::path(recorded).is_absolute()) return recorded;
  const std::string here = (fs::path(dir) / recorded).lexically_normal().string();
  std::error_code ec;
  if (legacy && !fs::exists(here, ec) && fs::exists(recorded, ec)) return recorded;  // relative to the current folder
  return here;
}

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  if (path_ == "-") {
    file_ = stdout;
    return;
  }
  // Only a regular file (or a new one) can be replaced by rename: /dev/null, a FIFO or a terminal
  // must be written in place, or the rename would put a regular file where the device was.
  struct stat st;
  if (::stat(path_.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    file_ = std::fopen(path_.c_str(), "wb");
    if (!file_) throw Error(path_ + ": cannot write: " + std::strerror(errno));
    direct_ = true;
    return;
  }
  tmp_ = path_ + ".tmp." + std::to_string(::getpid());
  file_ = std::fopen(tmp_.c_str(), "wb");
  if (!file_) throw Error(path_ + ": cannot write: " + std::strerror(errno));
}

AtomicFile::~AtomicFile() {
  if (committed_ || path_ == "-") return;
  std::fclose(file_);
  if (!direct_) std::remove(tmp_.c_str());
}

void AtomicFile::write(std::string_view bytes) {
  if (bytes.empty()) return;  // an empty view may hold nullptr, which fwrite must not get
  if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size())
    throw Error(path_ + ": write failed: " + std::strerror(errno));
}

void AtomicFile::commit() {
  if (path_ == "-") {
    if (std::fflush(stdout) != 0) throw Error("stdout: write failed: " + std::string(std::strerror(errno)));
    committed_ = true;
    return;
  }
  if (direct_) {
    committed_ = true;
    if (std::fclose(file_) != 0) throw Error(path_ + ": write failed: " + std::strerror(errno));
    return;
  }
  if (std::fflush(file_) != 0 || ::fsync(::fileno(file_)) != 0 || std::fclose(file_) != 0) {
    file_ = nullptr;
    std::remove(tmp_.c_str());
    committed_ = true;
    throw Error(path_ + ": write failed: " + std::strerror(errno));
  }
  committed_ = true;
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0) {
    std::remove(tmp_.c_str());
    throw Error(path_ + ": cannot rename temporary file into place: " + std::strerror(errno));
  }
}

}  // namespace longctx
