#include "longctx/store/megatron.h"

#include <cstring>

#include "longctx/util/error.h"

namespace longctx::store {
namespace {

constexpr char kMagic[9] = {'M', 'M', 'I', 'D', 'I', 'D', 'X', '\0', '\0'};
constexpr uint64_t kVersion = 1;
constexpr size_t kHeaderBytes = 9 + 8 + 1 + 8 + 8;
constexpr uint32_t kUint16Limit = 65500;  // Megatron's threshold for uint16 storage

template <class T>
void put(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));  // little-endian hosts only (x86-64, aarch64)
  out.append(b, sizeof(T));
}

template <class T>
T get(const std::string& s, size_t at) {
  T v;
  std::memcpy(&v, s.data() + at, sizeof(T));
  return v;
}

}  // namespace

TokenType token_type_for_vocab(size_t vocab_size) {
  return vocab_size < kUint16Limit ? TokenType::kUint16 : TokenType::kInt32;
}

size_t token_bytes(TokenType t) { return t == TokenType::kUint16 ? 2 : 4; }

MegatronWriter::MegatronWriter(std::string prefix, TokenType type)
    : prefix_(std::move(prefix)), type_(type), bin_(std::make_unique<AtomicFile>(prefix_ + ".bin")) {}

void MegatronWriter::add_document(std::span<const uint32_t> ids) {
  if (ids.size() > static_cast<size_t>(INT32_MAX))
    throw Error(prefix_ + ".bin: a document of " + std::to_string(ids.size()) + " tokens exceeds Megatron's int32 length");
  const size_t w = token_bytes(type_);
  buf_.resize(ids.size() * w);
  for (size_t i = 0; i < ids.size(); ++i) {
    const uint32_t id = ids[i];
    if (type_ == TokenType::kUint16) {
      if (id >= kUint16Limit)
        throw Error(prefix_ + ".bin: token id " + std::to_string(id) + " does not fit uint16 storage");
      const auto v = static_cast<uint16_t>(id);
      std::memcpy(buf_.data() + i * w, &v, w);
    } else {
      if (id > static_cast<uint32_t>(INT32_MAX)) throw Error(prefix_ + ".bin: token id " + std::to_string(id) + " does not fit int32");
      const auto v = static_cast<int32_t>(id);
      std::memcpy(buf_.data() + i * w, &v, w);
    }
  }
  bin_->write(std::string_view(buf_.data(), buf_.size()));
  lengths_.push_back(static_cast<int32_t>(ids.size()));
  tokens_ += ids.size();
}

void MegatronWriter::commit() {
  const uint64_t s = lengths_.size();
  std::string idx;
  idx.reserve(kHeaderBytes + 4 * s + 8 * s + 8 * (s + 1));
  idx.append(kMagic, sizeof kMagic);
  put<uint64_t>(idx, kVersion);
  put<uint8_t>(idx, static_cast<uint8_t>(type_));
  put<uint64_t>(idx, s);
  put<uint64_t>(idx, s + 1);
  for (const int32_t len : lengths_) put<int32_t>(idx, len);
  int64_t offset = 0;  // accumulated in 64 bits: .bin files pass 2 GB
  for (const int32_t len : lengths_) {
    put<int64_t>(idx, offset);
    offset += static_cast<int64_t>(len) * static_cast<int64_t>(token_bytes(type_));
  }
  for (uint64_t d = 0; d <= s; ++d) put<int64_t>(idx, static_cast<int64_t>(d));
  // .bin first: an .idx never describes a .bin that is not there.
  bin_->commit();
  AtomicFile out(prefix_ + ".idx");
  out.write(idx);
  out.commit();
}

MegatronReader::MegatronReader(const std::string& prefix) : prefix_(prefix) {
  const std::string idx_path = prefix + ".idx";
  const std::string idx = read_file(idx_path);
  auto bad = [&](const std::string& what) { return Error(idx_path + ": " + what); };
  if (idx.size() < kHeaderBytes) throw bad("expected at least " + std::to_string(kHeaderBytes) + " bytes, found " + std::to_string(idx.size()));
  if (std::memcmp(idx.data(), kMagic, sizeof kMagic) != 0) throw bad("expected magic MMIDIDX (not a Megatron index file)");
  if (get<uint64_t>(idx, 9) != kVersion) throw bad("expected version 1, found " + std::to_string(get<uint64_t>(idx, 9)));
  const auto code = get<uint8_t>(idx, 17);
  if (code != 8 && code != 4) throw bad("dtype code " + std::to_string(code) + " (expected 8 = uint16 or 4 = int32)");
  type_ = static_cast<TokenType>(code);
  const uint64_t s = get<uint64_t>(idx, 18), d = get<uint64_t>(idx, 26);
  // Sizes are checked before anything is trusted (s and d could be anything in a damaged file).
  const uint64_t rest = idx.size() - kHeaderBytes;
  if (s > rest / 12 || d > (rest - 12 * s) / 8 || kHeaderBytes + 12 * s + 8 * d != idx.size())
    throw bad("index sizes (" + std::to_string(s) + " sequences, " + std::to_string(d) +
              " document entries) do not match the file size " + std::to_string(idx.size()));
  lengths_.resize(s);
  offsets_.resize(s);
  doc_index_.resize(d);
  std::memcpy(lengths_.data(), idx.data() + kHeaderBytes, 4 * s);
  std::memcpy(offsets_.data(), idx.data() + kHeaderBytes + 4 * s, 8 * s);
  std::memcpy(doc_index_.data(), idx.data() + kHeaderBytes + 12 * s, 8 * d);
  bin_ = read_file(prefix + ".bin");
  int64_t expect = 0;
  for (uint64_t i = 0; i < s; ++i) {
    if (lengths_[i] < 0 || offsets_[i] != expect)
      throw bad("sequence " + std::to_string(i) + ": offset " + std::to_string(offsets_[i]) + ", expected " + std::to_string(expect));
    expect += static_cast<int64_t>(lengths_[i]) * static_cast<int64_t>(token_bytes(type_));
  }
  if (static_cast<uint64_t>(expect) != bin_.size())
    throw Error(prefix + ".bin: expected " + std::to_string(expect) + " bytes from the index, found " + std::to_string(bin_.size()));
}

std::vector<uint32_t> MegatronReader::sequence(uint64_t i) const {
  std::vector<uint32_t> out(static_cast<size_t>(lengths_.at(i)));
  const size_t w = token_bytes(type_);
  for (size_t k = 0; k < out.size(); ++k) {
    if (type_ == TokenType::kUint16) {
      out[k] = get<uint16_t>(bin_, offsets_[i] + k * w);
    } else {
      out[k] = static_cast<uint32_t>(get<int32_t>(bin_, offsets_[i] + k * w));
    }
  }
  return out;
}

}  // namespace longctx::store
