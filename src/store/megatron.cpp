#include "longctx/store/megatron.h"

#include <algorithm>
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
T get(std::string_view s, size_t at) {
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

// The index for s sequences; for_each_chunk(f) must call f on the lengths in order, and is called
// twice (the lengths array, then the offsets derived from them).
template <class Sink>
void write_index(Sink& out, TokenType type, uint64_t s,
                 const std::function<void(const std::function<void(std::span<const int32_t>)>&)>& for_each_chunk) {
  std::string buf;
  buf.append(kMagic, sizeof kMagic);
  put<uint64_t>(buf, kVersion);
  put<uint8_t>(buf, static_cast<uint8_t>(type));
  put<uint64_t>(buf, s);
  put<uint64_t>(buf, s + 1);
  auto flush = [&](bool force) {
    if (force || buf.size() >= (1u << 20)) {
      out.write(buf);
      buf.clear();
    }
  };
  uint64_t seen = 0;
  for_each_chunk([&](std::span<const int32_t> lens) {
    for (const int32_t len : lens) put<int32_t>(buf, len);
    seen += lens.size();
    flush(false);
  });
  if (seen != s) throw Error(out.path() + ": expected " + std::to_string(s) + " lengths, found " + std::to_string(seen));
  int64_t offset = 0;  // accumulated in 64 bits: .bin files pass 2 GB
  for_each_chunk([&](std::span<const int32_t> lens) {
    for (const int32_t len : lens) {
      put<int64_t>(buf, offset);
      offset += static_cast<int64_t>(len) * static_cast<int64_t>(token_bytes(type));
    }
    flush(false);
  });
  for (uint64_t d = 0; d <= s; ++d) {
    put<int64_t>(buf, static_cast<int64_t>(d));
    flush(false);
  }
  flush(true);
}

// An AtomicFile-like sink that keeps the bytes in memory.
class StringSink {
 public:
  void write(std::string_view b) { s_.append(b); }
  const std::string& path() const { return name_; }
  std::string s_;
  std::string name_ = "<index>";
};

std::string megatron_index_bytes(TokenType type, std::span<const int32_t> lengths) {
  StringSink out;
  write_index(out, type, lengths.size(), [&](const auto& f) { f(lengths); });
  return std::move(out.s_);
}

void MegatronWriter::commit() {
  // .bin first: an .idx never describes a .bin that is not there.
  bin_->commit();
  AtomicFile out(prefix_ + ".idx");
  write_index(out, type_, lengths_.size(), [&](const auto& f) { f(std::span<const int32_t>(lengths_)); });
  out.commit();
}

void write_megatron_index(const std::string& idx_path, TokenType type, const std::string& lengths_path) {
  const MappedFile lengths(lengths_path);
  if (lengths.size() % 4 != 0)
    throw Error(lengths_path + ": expected int32 lengths, found " + std::to_string(lengths.size()) + " bytes");
  const uint64_t s = lengths.size() / 4;
  AtomicFile out(idx_path);
  write_index(out, type, s, [&](const auto& f) {
    constexpr size_t kChunk = 1 << 16;
    std::vector<int32_t> chunk;
    for (uint64_t i = 0; i < s; i += kChunk) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, s - i));
      chunk.resize(n);
      std::memcpy(chunk.data(), lengths.data() + 4 * i, 4 * n);
      f(std::span<const int32_t>(chunk));
    }
  });
  out.commit();
}

MegatronReader::MegatronReader(const std::string& prefix) : prefix_(prefix) {
  const std::string idx_path = prefix + ".idx";
  idx_ = MappedFile(idx_path);
  const std::string_view idx = idx_.view();
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
  // The header is 34 bytes, so the arrays are not naturally aligned; x86-64 and aarch64 load
  // unaligned ints fine, and GCC does not exploit the alignment of these reads.
  lengths_ = {reinterpret_cast<const int32_t*>(idx.data() + kHeaderBytes), s};
  offsets_ = {reinterpret_cast<const int64_t*>(idx.data() + kHeaderBytes + 4 * s), s};
  doc_index_ = {reinterpret_cast<const int64_t*>(idx.data() + kHeaderBytes + 12 * s), d};
  bin_ = MappedFile(prefix + ".bin");
  int64_t expect = 0;
  for (uint64_t i = 0; i < s; ++i) {
    int32_t len;
    int64_t off;
    std::memcpy(&len, idx.data() + kHeaderBytes + 4 * i, 4);
    std::memcpy(&off, idx.data() + kHeaderBytes + 4 * s + 8 * i, 8);
    if (len < 0 || off != expect)
      throw bad("sequence " + std::to_string(i) + ": offset " + std::to_string(off) + ", expected " + std::to_string(expect));
    expect += static_cast<int64_t>(len) * static_cast<int64_t>(token_bytes(type_));
  }
  if (static_cast<uint64_t>(expect) != bin_.size())
    throw Error(prefix + ".bin: expected " + std::to_string(expect) + " bytes from the index, found " + std::to_string(bin_.size()));
}

std::vector<uint32_t> MegatronReader::sequence(uint64_t i) const {
  int32_t len;
  int64_t off;
  std::memcpy(&len, &lengths_[i], 4);
  std::memcpy(&off, &offsets_[i], 8);
  std::vector<uint32_t> out(static_cast<size_t>(len));
  decode_tokens(bin_.data() + off, out.size(), type_, out.data());
  return out;
}

void decode_tokens(const char* p, size_t n, TokenType type, uint32_t* out) {
  if (type == TokenType::kUint16) {
    for (size_t k = 0; k < n; ++k) {
      uint16_t v;
      std::memcpy(&v, p + 2 * k, 2);
      out[k] = v;
    }
  } else if (n != 0) {  // (an empty sequence's buffer may be null, which memcpy must not get)
    std::memcpy(out, p, 4 * n);  // ids are below 2^31: int32 and uint32 bytes agree
  }
}

}  // namespace longctx::store
