// Megatron-LM's indexed dataset (MMapIndexedDataset): PREFIX.bin holds the token ids of every
// sequence back to back; PREFIX.idx holds, little-endian:
//   9 bytes  magic "MMIDIDX\0\0"      8 bytes  uint64 version = 1      1 byte  dtype code
//   8 bytes  uint64 S (sequences)     8 bytes  uint64 D (documents + 1)
//   4*S      int32 sequence lengths   8*S      int64 byte offsets in .bin
//   8*D      int64 document index (0, then the sequence count after each document)
// dtype codes: 8 = uint16 (Megatron's choice when the vocabulary is below 65,500), 4 = int32.
// Layout in docs/formats/megatron.md. Here one document is one sequence.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "longctx/util/file.h"
#include "longctx/util/mmap.h"

namespace longctx::store {

enum class TokenType : uint8_t { kUint16 = 8, kInt32 = 4 };

// Token ids from stored bytes: n little-endian uint16 or int32 values at p.
void decode_tokens(const char* p, size_t n, TokenType type, uint32_t* out);

// Megatron's rule: uint16 when every id fits below 65,500.
TokenType token_type_for_vocab(size_t vocab_size);
size_t token_bytes(TokenType t);

// Writes PREFIX.bin and PREFIX.idx; both appear only at commit() (temporary files renamed).
class MegatronWriter {
 public:
  MegatronWriter(std::string prefix, TokenType type);
  // Appends one document as one sequence. Throws Error if an id does not fit the token type.
  void add_document(std::span<const uint32_t> ids);
  void commit();
  uint64_t documents() const { return lengths_.size(); }
  uint64_t tokens() const { return tokens_; }

 private:
  std::string prefix_;
  TokenType type_;
  std::unique_ptr<AtomicFile> bin_;
  std::vector<int32_t> lengths_;
  uint64_t tokens_ = 0;
  std::vector<char> buf_;
};

// The bytes of an index for sequences of these lengths, back to back in .bin (small datasets;
// write_megatron_index streams).
std::string megatron_index_bytes(TokenType type, std::span<const int32_t> lengths);

// Writes PREFIX.idx (atomically) for the sequences whose int32 lengths lie, in order, in the file
// lengths_path, streaming it twice: memory stays constant for any number of sequences. Offsets
// follow from the lengths (sequences back to back in .bin); one document per sequence.
void write_megatron_index(const std::string& idx_path, TokenType type, const std::string& lengths_path);

// Reads and validates an indexed dataset: magic, version, dtype, that the index's sizes add up
// to the file sizes, that offsets are contiguous. Throws Error naming the file and what is wrong.
// Both files are memory-mapped: nothing is copied, whatever the dataset's size.
class MegatronReader {
 public:
  explicit MegatronReader(const std::string& prefix);
  uint64_t sequences() const { return lengths_.size(); }
  TokenType type() const { return type_; }
  std::span<const int32_t> lengths() const { return lengths_; }
  std::span<const int64_t> offsets() const { return offsets_; }  // in bytes of .bin
  std::span<const int64_t> document_index() const { return doc_index_; }
  std::vector<uint32_t> sequence(uint64_t i) const;
  // The raw bytes of .bin (token ids back to back, token_bytes(type()) each).
  std::string_view bin() const { return bin_.view(); }

 private:
  std::string prefix_;
  TokenType type_;
  MappedFile idx_, bin_;
  std::span<const int32_t> lengths_;
  std::span<const int64_t> offsets_;
  std::span<const int64_t> doc_index_;
};

}  // namespace longctx::store
