// A read-only memory map of a whole file: stores are read through the page cache, never copied
// into memory (a 5B-token store is 10-20 GB).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace longctx {

class MappedFile {
 public:
  MappedFile() = default;
  // Throws Error("PATH: cannot read: REASON"). An empty file maps to an empty view.
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&& o) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const char* data() const { return data_; }
  size_t size() const { return size_; }
  std::string_view view() const { return {data_, size_}; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  const char* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace longctx
