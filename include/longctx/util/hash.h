// XXH3-128 content hashes for manifests (inputs, tokenizer, outputs). Fast enough to hash every
// byte we read (tens of GB/s) and checkable with a standard tool: `xxhsum -H2 FILE` prints the
// same 32 hex digits.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace longctx {

class Hasher128 {
 public:
  Hasher128();
  ~Hasher128();
  Hasher128(Hasher128&&) noexcept;
  Hasher128& operator=(Hasher128&&) noexcept;
  void update(const void* data, size_t n);
  void update(std::string_view s) { update(s.data(), s.size()); }
  // 32 lowercase hex digits, high half first (xxhsum's canonical form).
  std::string hex() const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

std::string xxh128_hex(std::string_view bytes);
// Hashes a whole file by streaming it; throws Error("PATH: cannot read: ...").
std::string xxh128_file(const std::string& path);

}  // namespace longctx
