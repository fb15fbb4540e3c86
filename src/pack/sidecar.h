// The span sidecar of a packed shard (docs/formats/packed.md): `.spans.offsets` (int64 × (S + 1),
// cumulative span counts) and `.spans` (24-byte records). One decoder for the sequential reader
// and the random-access index, so both check the same things.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "longctx/pack/reader.h"
#include "longctx/util/error.h"
#include "longctx/util/mmap.h"

namespace longctx::pack {

// The spans of sequence s of a shard (s < the shard's sequences, which the caller checked against
// the offsets file's size), each checked to lie inside the sequence of L tokens.
inline void read_spans(const MappedFile& bin, const MappedFile& offsets, uint64_t s, uint64_t L, std::vector<Span>& out) {
  int64_t a, b;
  std::memcpy(&a, offsets.data() + 8 * s, 8);
  std::memcpy(&b, offsets.data() + 8 * (s + 1), 8);
  if (a < 0 || b < a || static_cast<uint64_t>(b) > bin.size() / 24) throw Error(offsets.path() + ": offsets out of range");
  out.clear();
  for (int64_t i = a; i < b; ++i) {
    const char* p = bin.data() + 24 * i;
    Span sp;
    std::memcpy(&sp.doc, p, 8);
    std::memcpy(&sp.doc_offset, p + 8, 4);
    std::memcpy(&sp.start, p + 12, 4);
    std::memcpy(&sp.end, p + 16, 4);
    std::memcpy(&sp.domain, p + 20, 2);
    if (sp.start >= sp.end || sp.end > L)
      throw Error(bin.path() + ": span " + std::to_string(i) + " is [" + std::to_string(sp.start) + ", " + std::to_string(sp.end) +
                  "), expected 0 <= start < end <= " + std::to_string(L));
    out.push_back(sp);
  }
}

}  // namespace longctx::pack
