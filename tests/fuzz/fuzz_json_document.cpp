// One JSONL line -> JsonDocumentParser::parse (ingest's and tokenize's line reader): a document or
// a skip reason, never a crash; the text it returns is valid UTF-8 within bounds.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "longctx/corpus/json_document.h"
#include "longctx/text/utf8.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  using longctx::corpus::DomainSource;
  static longctx::corpus::JsonDocumentParser field("text", DomainSource{}), nested("meta.body", DomainSource{DomainSource::kConstant, "web"}, true),
      folder("text", DomainSource{DomainSource::kFolder, ""});
  // The first byte picks the parser; the line gets the 64 bytes of padding simdjson reads past it.
  std::vector<char> buf(size - 1 + 64, ' ');
  std::memcpy(buf.data(), data + 1, size - 1);
  const std::string_view line(buf.data(), size - 1);
  auto& p = data[0] % 3 == 0 ? field : data[0] % 3 == 1 ? nested : folder;
  const auto r = p.parse(line);
  if (r.ok) {
    // Views into the parser's or the line's memory: touch every byte (ASan checks the bounds).
    volatile uint8_t sink = 0;
    for (const char c : r.text) sink = sink + static_cast<uint8_t>(c);
    for (const char c : r.domain) sink = sink + static_cast<uint8_t>(c);
  } else if (r.reason.empty()) {
    __builtin_trap();
  }
  return 0;
}
