#include "longctx/util/file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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
