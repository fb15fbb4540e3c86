// Whole-file reads and all-or-nothing writes.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace longctx {

// Reads a whole file; throws Error("PATH: cannot read: REASON").
std::string read_file(const std::string& path);

// Writes PATH by way of a temporary file beside it that is renamed over PATH by commit(), so a
// reader never sees a half-written PATH. Destroyed without commit() (an error, a kill), it removes
// the temporary and leaves PATH as it was. Path "-" writes to standard output directly, and so
// does an existing PATH that is not a regular file (/dev/null, a FIFO): renaming over it would
// replace the device with a regular file.
class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(std::string_view bytes);
  void commit();
  FILE* stream() { return file_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::string tmp_;
  FILE* file_ = nullptr;
  bool committed_ = false;
  bool direct_ = false;  // PATH is a device or FIFO: written in place
};

}  // namespace longctx
