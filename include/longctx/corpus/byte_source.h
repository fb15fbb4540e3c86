// Streaming readers for corpus files: plain, zstd (multi-frame, as SlimPajama ships .jsonl.zst)
// and gzip (multi-member). The format is chosen by the file's magic bytes, not its name. Nothing
// holds a whole file in memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace longctx::corpus {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to n bytes into buf; returns 0 only at the end of the data. Throws Error naming the
  // file (and the compressed offset) for read errors, corrupt or truncated compressed data.
  virtual size_t read(char* buf, size_t n) = 0;
  const std::string& name() const { return name_; }
  // Raw (still compressed) bytes read from the file so far, and their XXH3-128 (hex). Once read()
  // has returned 0 these describe the whole file, as `xxhsum -H2` and `stat` do.
  virtual uint64_t raw_bytes() const = 0;
  virtual std::string raw_hash() const = 0;

 protected:
  explicit ByteSource(std::string name) : name_(std::move(name)) {}
  std::string name_;
};

// Opens path ("-": standard input) and detects zstd / gzip / plain from the first bytes.
std::unique_ptr<ByteSource> open_source(const std::string& path);

}  // namespace longctx::corpus
