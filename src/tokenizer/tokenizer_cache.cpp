// The load cache (tokenizer_cache.h): key, file layout, writing, and reading back into the same
// tables a build from JSON makes.
#include "tokenizer_cache.h"

#include "bpe_backtrack.h"

#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <simdjson.h>
#include <xxhash.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <span>

#include "longctx/util/error.h"
#include "longctx/util/file.h"

namespace longctx::tokenizer {
namespace {

constexpr char kMagic[8] = {'L', 'C', 'T', 'X', 'T', 'O', 'K', 'C'};
// Bump when what is stored, or what build_tokenizer makes of it, changes. (The build id changes
// with any change to the linked code anyway; the version is a second, explicit guard.)
constexpr uint32_t kFormatVersion = 6;  // 2: the backtracking encoder's tables; 3: one-word Bloom filters;
                                        // 4: vocabulary slots hold the key's first 8 bytes; 5: symbol pairs;
                                        // 6: a token filter of 2^20 bits
constexpr size_t kAlign = 64;

// The sizes the raw arrays depend on, and the byte order.
uint64_t layout_signature() {
  uint64_t h = 0x0102030405060708ULL;  // stored as-is: differs in the other byte order
  for (const uint64_t v : {sizeof(StringIdMap::Slot), sizeof(FlatMap64<BpeModel::Merge>::Slot), sizeof(MergeRule),
                           uint64_t{BloomFilter::kWords}, uint64_t{TokenFilter::kWords},
                           sizeof(uint64_t) * 256})
    h = mix64(h ^ v);
  return h;
}

// The GNU build id of the object holding this code: names the exact code that compiled a cache.
std::string build_id() {
  static const std::string id = [] {
    struct Search {
      uintptr_t code;
      std::string found;
    } s{reinterpret_cast<uintptr_t>(&layout_signature), {}};
    dl_iterate_phdr(
        [](dl_phdr_info* info, size_t, void* data) -> int {
          auto& s = *static_cast<Search*>(data);
          bool here = false;
          for (int i = 0; i < info->dlpi_phnum && !here; ++i) {
            const ElfW(Phdr)& ph = info->dlpi_phdr[i];
            const uintptr_t begin = info->dlpi_addr + ph.p_vaddr;
            here = ph.p_type == PT_LOAD && s.code >= begin && s.code < begin + ph.p_memsz;
          }
          if (!here) return 0;
          for (int i = 0; i < info->dlpi_phnum; ++i) {
            const ElfW(Phdr)& ph = info->dlpi_phdr[i];
            if (ph.p_type != PT_NOTE) continue;
            const size_t align = ph.p_align == 8 ? 8 : 4;
            auto pad = [&](size_t n) { return (n + align - 1) & ~(align - 1); };
            const char* p = reinterpret_cast<const char*>(info->dlpi_addr + ph.p_vaddr);
            const char* end = p + ph.p_memsz;
            while (static_cast<size_t>(end - p) >= sizeof(ElfW(Nhdr))) {
              ElfW(Nhdr) nh;
              std::memcpy(&nh, p, sizeof nh);
              const char* name = p + sizeof nh;
              const char* desc = name + pad(nh.n_namesz);
              if (desc > end || static_cast<size_t>(end - desc) < nh.n_descsz) break;
              if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 && std::memcmp(name, "GNU", 4) == 0) {
                s.found.assign(desc, nh.n_descsz);
                return 1;
              }
              p = desc + std::min<size_t>(pad(nh.n_descsz), end - desc);
            }
          }
          return 1;
        },
        &s);
    return s.found;
  }();
  return id;
}

struct SourceKey {
  uint64_t size = 0;
  uint64_t hash[2] = {0, 0};  // XXH3-128 of the file's bytes
};

SourceKey key_of(std::string_view bytes) {
  const XXH128_hash_t h = XXH3_128bits(bytes.data(), bytes.size());
  return SourceKey{bytes.size(), {h.low64, h.high64}};
}

struct Header {
  char magic[8];
  uint32_t format_version;
  uint32_t header_size;
  uint64_t layout;
  uint8_t build_id[64];
  uint32_t build_id_size;
  uint32_t section_count;
  uint64_t source_size;
  uint64_t source_hash[2];
  uint64_t payload_size;      // the file's size less the header
  uint64_t payload_checksum;  // XXH3-64 of the payload: section table, then the sections
  uint8_t reserved[56];
};
static_assert(sizeof(Header) % 64 == 0);  // sections start 64-byte aligned in the file

struct SectionEntry {
  uint64_t offset, size;  // from the start of the payload
};

enum Section : uint32_t {
  kConfig,  // the file without model.vocab and model.merges
  kHash,    // content_hash (16 hex digits)
  kScalars,
  kAddedIds,
  kSpecial,
  kNameBytes,
  kNameOffsets,
  kTokenBytes,
  kTokenOffsets,
  kVocabSlots,
  kMergeSlots,
  kRules,
  kTokenFilter,
  kMergeFilter,
  kJoinAscii,
  kJoinPairs,
  // The backtracking encoder (bpe_backtrack.h), empty when the model cannot use it.
  kBtRank,
  kBtLeft,
  kBtRight,
  kBtLength,
  kBtNextPrefix,
  kBtNodes,
  kBtDense,
  kBtEdge,
  kSymbolPairs,  // BpeModel::symbol_pairs_
  kSectionCount
};

struct Scalars {
  uint8_t byte_level, byte_fallback, fuse_unk, ignore_merges;
  uint8_t backtrack_usable, cut_at_metaspace, joins_enabled, pad0;
  uint32_t unk_id, pad1;
  uint64_t max_token_bytes;
  uint64_t merge_count;
  uint32_t byte_ids[256];
  uint32_t fallback_ids[256];
};

template <class T>
std::span<const char> bytes_of(std::span<const T> s) {
  return {reinterpret_cast<const char*>(s.data()), s.size_bytes()};
}

// A read-only map of a whole cache file.
struct Mapping {
  const char* data = nullptr;
  size_t size = 0;
  ~Mapping() {
    if (data) ::munmap(const_cast<char*>(data), size);
  }
};

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

bool read_at(int fd, void* buf, size_t n, off_t at) {
  auto* p = static_cast<char*>(buf);
  while (n > 0) {
    const ssize_t r = ::pread(fd, p, n, at);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
    at += r;
  }
  return true;
}

bool write_all(int fd, const void* buf, size_t n) {
  auto* p = static_cast<const char*>(buf);
  while (n > 0) {
    const ssize_t r = ::write(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

}  // namespace

// Friend of BpeModel and JoinTable: their arrays out to a cache, and back as views of one.
struct CacheCodec {
  struct Out {
    std::string config;
    std::string hash;
    Scalars scalars;
    std::span<const char> parts[kSectionCount];
  };

  static void collect(const TokenizerImpl& t, std::string config, std::vector<uint32_t>& added_ids, Out& o) {
    const BpeModel& m = *t.model;
    o.config = std::move(config);
    o.hash = t.hash;
    Scalars& s = o.scalars;
    std::memset(&s, 0, sizeof s);
    s.byte_level = m.options_.byte_level;
    s.byte_fallback = m.options_.byte_fallback;
    s.fuse_unk = m.options_.fuse_unk;
    s.ignore_merges = m.options_.ignore_merges;
    s.backtrack_usable = m.backtrack_usable_;
    s.cut_at_metaspace = t.cut_at_metaspace;
    s.joins_enabled = t.joins.enabled_;
    s.unk_id = m.options_.unk_id;
    s.max_token_bytes = m.max_token_bytes_;
    s.merge_count = m.merge_count_;
    std::memcpy(s.byte_ids, m.byte_ids_, sizeof s.byte_ids);
    std::memcpy(s.fallback_ids, m.fallback_ids_, sizeof s.fallback_ids);
    for (const AddedToken& a : t.added) added_ids.push_back(a.id);

    auto& p = o.parts;
    p[kConfig] = {o.config.data(), o.config.size()};
    p[kHash] = {o.hash.data(), o.hash.size()};
    p[kScalars] = {reinterpret_cast<const char*>(&s), sizeof s};
    p[kAddedIds] = bytes_of(std::span<const uint32_t>(added_ids));
    p[kSpecial] = bytes_of(std::span<const uint8_t>(t.special));
    p[kNameBytes] = t.id_to_token.bytes();
    p[kNameOffsets] = bytes_of(t.id_to_token.offsets());
    p[kTokenBytes] = m.token_bytes_.bytes();
    p[kTokenOffsets] = bytes_of(m.token_bytes_.offsets());
    p[kVocabSlots] = bytes_of(m.vocab_.slots());
    p[kMergeSlots] = bytes_of(m.merges_.slots());
    p[kRules] = bytes_of(m.rules_.span());
    p[kTokenFilter] = bytes_of(m.token_filter_.words());
    p[kMergeFilter] = bytes_of(m.merge_filter_.words());
    p[kSymbolPairs] = bytes_of(m.symbol_pairs_.span());
    p[kJoinAscii] = bytes_of(std::span<const uint64_t>(t.joins.ascii_));
    p[kJoinPairs] = bytes_of(t.joins.pairs_.slots());
    if (const BpeBacktrack* bt = m.backtrack_ready_.load(std::memory_order_acquire)) {
      const BpeBacktrack::Arrays a = bt->arrays();
      p[kBtRank] = bytes_of(a.rank);
      p[kBtLeft] = bytes_of(a.left);
      p[kBtRight] = bytes_of(a.right);
      p[kBtLength] = bytes_of(a.length);
      p[kBtNextPrefix] = bytes_of(a.next_prefix);
      p[kBtNodes] = bytes_of(a.nodes);
      p[kBtDense] = bytes_of(a.dense);
      p[kBtEdge] = bytes_of(a.edge);
    }
  }

  // Views of the sections; false where they do not hold together.
  template <class T>
  static bool typed(std::span<const char> s, std::span<const T>& out) {
    if (s.size() % sizeof(T) || reinterpret_cast<uintptr_t>(s.data()) % alignof(T)) return false;
    out = {reinterpret_cast<const T*>(s.data()), s.size() / sizeof(T)};
    return true;
  }

  static bool restore(const std::span<const char> (&p)[kSectionCount], CompiledVocabulary& c) {
    std::span<const Scalars> scalars;
    if (!typed(p[kScalars], scalars) || scalars.size() != 1) return false;
    const Scalars& s = scalars[0];
    c.hash.assign(p[kHash].data(), p[kHash].size());
    if (c.hash.size() != 16) return false;
    c.cut_at_metaspace = s.cut_at_metaspace;

    std::span<const uint32_t> u32;
    if (!typed(p[kNameOffsets], u32) || !c.id_to_token.view(p[kNameBytes], u32)) return false;
    const size_t n = c.id_to_token.size();
    std::span<const uint8_t> special;
    if (!typed(p[kSpecial], special) || special.size() != n) return false;
    c.special.assign(special.begin(), special.end());
    if (!typed(p[kAddedIds], u32)) return false;
    c.added_ids.assign(u32.begin(), u32.end());

    std::unique_ptr<BpeModel> m(new BpeModel());
    m->options_.byte_level = s.byte_level;
    m->options_.byte_fallback = s.byte_fallback;
    m->options_.fuse_unk = s.fuse_unk;
    m->options_.ignore_merges = s.ignore_merges;
    m->options_.unk_id = s.unk_id;
    m->backtrack_usable_ = s.backtrack_usable;
    m->max_token_bytes_ = s.max_token_bytes;
    m->merge_count_ = s.merge_count;
    auto id_ok = [&](uint32_t id) { return id == StringIdMap::kNone || id < n; };
    if (!id_ok(s.unk_id)) return false;
    for (int b = 0; b < 256; ++b) {
      if (!id_ok(s.byte_ids[b]) || !id_ok(s.fallback_ids[b])) return false;
      m->byte_ids_[b] = s.byte_ids[b];
      m->fallback_ids_[b] = s.fallback_ids[b];
    }
    if (!typed(p[kTokenOffsets], u32) || !m->token_bytes_.view(p[kTokenBytes], u32) || m->token_bytes_.size() != n)
      return false;
    std::span<const StringIdMap::Slot> vocab;
    if (!typed(p[kVocabSlots], vocab) || !m->vocab_.view(vocab, m->token_bytes_)) return false;
    std::span<const FlatMap64<BpeModel::Merge>::Slot> merges;
    if (!typed(p[kMergeSlots], merges) || !m->merges_.view(merges)) return false;
    std::span<const MergeRule> rules;
    if (!typed(p[kRules], rules) || rules.size() != s.merge_count) return false;
    for (const MergeRule& r : rules)
      if (r.left >= n || r.right >= n || r.result >= n) return false;
    m->rules_.view(rules);
    std::span<const uint64_t> words;
    if (!typed(p[kTokenFilter], words) || !m->token_filter_.view(words)) return false;
    if (!typed(p[kMergeFilter], words) || !m->merge_filter_.view(words)) return false;
    std::span<const MergeValue> symbol_pairs;
    if (!typed(p[kSymbolPairs], symbol_pairs) || (symbol_pairs.size() != 0 && symbol_pairs.size() != (size_t{1} << 16)))
      return false;
    for (const MergeValue& v : symbol_pairs)
      if (v.rank != BpeModel::kNoRank && (v.rank >= s.merge_count || v.result >= n)) return false;
    m->symbol_pairs_.view(symbol_pairs);
    if (s.backtrack_usable && !p[kBtNodes].empty()) {
      BpeBacktrack::Arrays a;
      if (!typed(p[kBtRank], a.rank) || !typed(p[kBtLeft], a.left) || !typed(p[kBtRight], a.right) ||
          !typed(p[kBtLength], a.length) || !typed(p[kBtNextPrefix], a.next_prefix) || !typed(p[kBtNodes], a.nodes) ||
          !typed(p[kBtDense], a.dense) || !typed(p[kBtEdge], a.edge))
        return false;
      bool ok;
      auto bt = std::make_unique<BpeBacktrack>(*m, a, &ok);
      if (!ok) return false;
      m->backtrack_ = std::move(bt);
      m->backtrack_claimed_.store(true);
      m->backtrack_ready_.store(m->backtrack_.get(), std::memory_order_release);
    }
    c.model = std::move(m);

    if (!typed(p[kJoinAscii], words) || words.size() != JoinTable::kAsciiWords) return false;
    std::memcpy(c.joins.ascii_, words.data(), sizeof c.joins.ascii_);
    if (!typed(p[kJoinPairs], words) || !c.joins.pairs_.view(words)) return false;
    c.joins.enabled_ = s.joins_enabled;
    return true;
  }
};

namespace {

// Writes the cache of t (config: what build_tokenizer gave for it) at path; false if it cannot.
bool write_cache(const std::string& path, const SourceKey& key, const std::string& config, const TokenizerImpl& t) {
  const std::string id = build_id();
  if (id.empty() || id.size() > sizeof(Header::build_id)) return false;
  CacheCodec::Out o;
  std::vector<uint32_t> added_ids;
  CacheCodec::collect(t, config, added_ids, o);

  SectionEntry table[kSectionCount];
  uint64_t at = sizeof table;
  for (uint32_t i = 0; i < kSectionCount; ++i) {
    at = (at + kAlign - 1) / kAlign * kAlign;
    table[i] = SectionEntry{at, o.parts[i].size()};
    at += o.parts[i].size();
  }
  const uint64_t payload_size = at;
  static const char zeros[kAlign] = {};
  XXH3_state_t* st = XXH3_createState();
  if (!st) return false;
  XXH3_64bits_reset(st);
  XXH3_64bits_update(st, table, sizeof table);
  at = sizeof table;
  for (uint32_t i = 0; i < kSectionCount; ++i) {
    XXH3_64bits_update(st, zeros, table[i].offset - at);
    XXH3_64bits_update(st, o.parts[i].data(), o.parts[i].size());
    at = table[i].offset + table[i].size;
  }
  Header h;
  std::memset(&h, 0, sizeof h);
  std::memcpy(h.magic, kMagic, sizeof kMagic);
  h.format_version = kFormatVersion;
  h.header_size = sizeof h;
  h.layout = layout_signature();
  std::memcpy(h.build_id, id.data(), id.size());
  h.build_id_size = static_cast<uint32_t>(id.size());
  h.section_count = kSectionCount;
  h.source_size = key.size;
  h.source_hash[0] = key.hash[0];
  h.source_hash[1] = key.hash[1];
  h.payload_size = payload_size;
  h.payload_checksum = XXH3_64bits_digest(st);
  XXH3_freeState(st);

  // A temporary beside path (…tmp, which .gitignore-style rules skip), renamed into place.
  static std::atomic<uint64_t> counter{0};
  const std::string tmp = path + "." + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  bool ok = write_all(fd, &h, sizeof h) && write_all(fd, table, sizeof table);
  at = sizeof table;
  for (uint32_t i = 0; i < kSectionCount && ok; ++i) {
    ok = write_all(fd, zeros, table[i].offset - at) && write_all(fd, o.parts[i].data(), o.parts[i].size());
    at = table[i].offset + table[i].size;
  }
  ok = ::close(fd) == 0 && ok;
  if (ok) ok = std::rename(tmp.c_str(), path.c_str()) == 0;
  if (!ok) ::unlink(tmp.c_str());
  return ok;
}

// The tokenizer from the cache at path, or nullptr when there is none that fits the key.
std::unique_ptr<TokenizerImpl> read_cache(const std::string& path, const SourceKey& key, const std::string& origin) {
  // O_NONBLOCK: a FIFO at the path must not block the load.
  const Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) return nullptr;
  struct stat st;
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || static_cast<size_t>(st.st_size) < sizeof(Header))
    return nullptr;
  const auto file_size = static_cast<uint64_t>(st.st_size);
  Header h;
  if (!read_at(fd.get(), &h, sizeof h, 0)) return nullptr;
  const std::string id = build_id();
  if (std::memcmp(h.magic, kMagic, sizeof kMagic) != 0 || h.format_version != kFormatVersion ||
      h.header_size != sizeof h || h.layout != layout_signature() || id.empty() || h.build_id_size != id.size() ||
      std::memcmp(h.build_id, id.data(), id.size()) != 0 || h.section_count != kSectionCount ||
      h.source_size != key.size || h.source_hash[0] != key.hash[0] || h.source_hash[1] != key.hash[1] ||
      h.payload_size != file_size - sizeof h || h.payload_size < sizeof(SectionEntry) * kSectionCount)
    return nullptr;

  auto map = std::make_shared<Mapping>();
  void* p = ::mmap(nullptr, file_size, PROT_READ, MAP_PRIVATE, fd.get(), 0);
  if (p == MAP_FAILED) return nullptr;
  map->data = static_cast<const char*>(p);
  map->size = file_size;
  const char* payload = map->data + sizeof h;
  if (XXH3_64bits(payload, h.payload_size) != h.payload_checksum) return nullptr;

  SectionEntry table[kSectionCount];
  std::memcpy(table, payload, sizeof table);
  std::span<const char> parts[kSectionCount];
  for (uint32_t i = 0; i < kSectionCount; ++i) {
    const SectionEntry& e = table[i];
    if (e.offset % kAlign || e.offset < sizeof table || e.offset > h.payload_size || e.size > h.payload_size - e.offset)
      return nullptr;
    parts[i] = {payload + e.offset, e.size};
  }
  CompiledVocabulary compiled;
  if (!CacheCodec::restore(parts, compiled)) return nullptr;
  std::unique_ptr<TokenizerImpl> t;
  try {
    BuildOptions options;
    options.compiled = &compiled;
    t = build_tokenizer(std::string_view(parts[kConfig].data(), parts[kConfig].size()), origin, options);
  } catch (const std::exception&) {
    return nullptr;  // built from the whole file instead, which reports what is wrong
  }
  t->storage = std::move(map);
  t->from_cache = true;
  return t;
}

// The file mapped (no copy), or nothing where it is not a non-empty regular file.
class SourceMap {
 public:
  explicit SourceMap(const std::string& path) {
    const Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
    struct stat st;
    if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) return;
    void* p = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd.get(), 0);
    if (p == MAP_FAILED) return;
    data_ = static_cast<const char*>(p);
    size_ = static_cast<size_t>(st.st_size);
  }
  ~SourceMap() {
    if (data_) ::munmap(const_cast<char*>(data_), size_);
  }
  SourceMap(const SourceMap&) = delete;
  SourceMap& operator=(const SourceMap&) = delete;
  bool ok() const { return data_ != nullptr; }
  std::string_view view() const { return {data_, size_}; }

 private:
  const char* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace

bool tokenizer_cache_disabled() {
  const char* v = std::getenv("LONGCTX_NO_TOKENIZER_CACHE");
  return v && *v && std::string_view(v) != "0";
}

std::vector<std::string> tokenizer_cache_paths(const std::string& path) {
  std::vector<std::string> out{path + ".longctx-cache"};
  std::string dir;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x == '/') dir = std::string(x) + "/longctx";
  else if (const char* home = std::getenv("HOME"); home && *home == '/') dir = std::string(home) + "/.cache/longctx";
  if (!dir.empty()) {
    std::error_code ec;
    std::filesystem::path abs = std::filesystem::absolute(path, ec);
    if (ec) abs = path;
    const std::string a = abs.lexically_normal().string();
    char name[17];
    std::snprintf(name, sizeof name, "%016llx", static_cast<unsigned long long>(XXH3_64bits(a.data(), a.size())));
    out.push_back(dir + "/" + name + "-" + abs.filename().string() + ".longctx-cache");
  }
  return out;
}

std::unique_ptr<TokenizerImpl> load_tokenizer_file(const std::string& path) {
  std::optional<SourceMap> source;
  if (!tokenizer_cache_disabled() && !build_id().empty()) source.emplace(path);
  // The backtracking encoder's tables are built at load, not on the first long word, so that
  // encoding pays no one-time cost (0.05-0.3 s) and a cache holds them.
  auto with_backtrack = [](std::unique_ptr<TokenizerImpl> t) {
    t->model->prepare_backtrack();
    return t;
  };
  if (!source || !source->ok()) {  // no cache; or a FIFO, an empty or missing file: read_file says
    const std::string json = read_file(path);
    return with_backtrack(build_tokenizer(json, path));
  }
  SourceKey key = key_of(source->view());
  const std::vector<std::string> places = tokenizer_cache_paths(path);
  for (const std::string& place : places)
    if (auto t = read_cache(place, key, path)) return t;

  // Built from one copy of the bytes, keyed by that copy (the file may change meanwhile).
  const simdjson::padded_string json(source->view().data(), source->view().size());
  source.reset();
  key = key_of(json);
  std::string config;
  BuildOptions options;
  options.config = &config;
  options.padded = true;
  auto t = with_backtrack(build_tokenizer(json, path, options));
  for (size_t i = 0; i < places.size(); ++i) {
    if (i > 0) {
      std::error_code ec;
      std::filesystem::create_directories(std::filesystem::path(places[i]).parent_path(), ec);
    }
    try {
      if (write_cache(places[i], key, config, *t)) break;
    } catch (const std::exception&) {
      // no cache this time (out of memory while assembling it, say)
    }
  }
  return t;
}

}  // namespace longctx::tokenizer
