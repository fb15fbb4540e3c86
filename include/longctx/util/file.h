// Whole-file reads and all-or-nothing writes.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace longctx {

// Reads a whole file; throws Error("PATH: cannot read: REASON").
std::string read_file(const std::string& path);

// Paths recorded in one file (a plan's store, a packed output's plan and store) are written
// relative to the folder of the file that records them (symlinks resolved), so the files work
// from any current folder and a tree moved as a whole (out/store, out/plan, out/packed) keeps
// working. recorded_path(target, dir): TARGET as seen from DIR, e.g. "../store".
std::string recorded_path(const std::string& target, const std::string& dir);
// The path a recorded path names: absolute as is; relative, resolved against DIR (the recording
// file's folder). A LEGACY file (written before this rule, without its "relative to" marker)
// recorded paths relative to the folder it was written from: such a path is tried against DIR
// first and taken from the current folder when only there it exists. Does not check that the
// result exists.
std::string resolve_recorded(const std::string& recorded, const std::string& dir, bool legacy);

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
