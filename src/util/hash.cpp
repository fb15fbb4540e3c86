#include "longctx/util/hash.h"

#include <xxhash.h>

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

std::string xxh128_file(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw Error(path + ": cannot read: " + std::strerror(errno));
  Hasher128 h;
  std::vector<char> buf(1 << 20);
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) h.update(buf.data(), n);
  const bool bad = std::ferror(f);
  std::fclose(f);
  if (bad) throw Error(path + ": cannot read: read error");
  return h.hex();
}

}  // namespace longctx
