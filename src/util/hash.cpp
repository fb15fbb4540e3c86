#include "longctx/util/hash.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "longctx/util/error.h"

namespace longctx {

struct Hasher128::State {
  XXH3_state_t* st = XXH3_createState();
  State() { XXH3_128bits_reset(st); }
  ~State() { XXH3_freeState(st); }
};

Hasher128::Hasher128() : s_(std::make_unique<State>()) {}
Hasher128::~Hasher128() = default;
Hasher128::Hasher128(Hasher128&&) noexcept = default;
Hasher128& Hasher128::operator=(Hasher128&&) noexcept = default;

void Hasher128::update(const void* data, size_t n) { XXH3_128bits_update(s_->st, data, n); }

namespace {
std::string to_hex(XXH128_hash_t h) {
  XXH128_canonical_t c;
  XXH128_canonicalFromHash(&c, h);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(32, '0');
  for (int i = 0; i < 16; ++i) {
    out[2 * i] = kHex[c.digest[i] >> 4];
    out[2 * i + 1] = kHex[c.digest[i] & 15];
  }
  return out;
}
}  // namespace

std::string Hasher128::hex() const { return to_hex(XXH3_128bits_digest(s_->st)); }

std::string xxh128_hex(std::string_view bytes) { return to_hex(XXH3_128bits(bytes.data(), bytes.size())); }

namespace {

// Hashes [from, to) of an open file with pread.
void hash_range(int fd, uint64_t from, uint64_t to, Hasher128& h, std::vector<char>& buf, const std::string& path) {
  while (from < to) {
    const ssize_t n = ::pread(fd, buf.data(), static_cast<size_t>(std::min<uint64_t>(buf.size(), to - from)), static_cast<off_t>(from));
    if (n <= 0) throw Error(path + ": cannot read: " + (n < 0 ? std::strerror(errno) : "the file shrank while being hashed"));
    h.update(buf.data(), static_cast<size_t>(n));
    from += static_cast<uint64_t>(n);
  }
}

}  // namespace

// A sparse file's holes read as zeros: they are hashed from a zero buffer instead of being read
// (SEEK_DATA / SEEK_HOLE), which keeps hashing a store with gigabytes of holes (the 2^32 boundary
// tests) at memory speed. The hash is the same as reading every byte.
std::string xxh128_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(path + ": cannot read: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    throw Error(path + ": cannot read: " + std::strerror(errno));
  }
  const auto size = static_cast<uint64_t>(st.st_size);
  Hasher128 h;
  std::vector<char> buf(1 << 20);
  static const std::vector<char> zeros(1 << 20, 0);
  try {
    uint64_t at = 0;
    while (at < size) {
      off_t data = ::lseek(fd, static_cast<off_t>(at), SEEK_DATA);
      // No data after `at` (ENXIO), or no SEEK_DATA on this filesystem: read the rest plainly.
      if (data < 0) data = errno == ENXIO ? static_cast<off_t>(size) : static_cast<off_t>(at);
      for (auto hole = static_cast<uint64_t>(data) - at; hole > 0;) {
        const uint64_t n = std::min<uint64_t>(hole, zeros.size());
        h.update(zeros.data(), static_cast<size_t>(n));
        hole -= n;
      }
      at = static_cast<uint64_t>(data);
      if (at >= size) break;
      off_t end = ::lseek(fd, static_cast<off_t>(at), SEEK_HOLE);
      if (end < 0) end = static_cast<off_t>(size);
      hash_range(fd, at, std::min<uint64_t>(static_cast<uint64_t>(end), size), h, buf, path);
      at = std::min<uint64_t>(static_cast<uint64_t>(end), size);
    }
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  return h.hex();
}

}  // namespace longctx
