// One JSONL line → one document: its text and its domain, or the reason it cannot be one.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace longctx::corpus {

// Where a document's domain comes from.
struct DomainSource {
  enum Kind { kField, kConstant, kFolder } kind = kField;
  std::string value = "meta.redpajama_set_name";  // the dotted field path, or the constant
  std::string describe() const;                    // "field:PATH", "constant:NAME", "folder"
};

// Domain of documents whose domain field is absent.
inline constexpr const char* kUnknownDomain = "unknown";

struct ParsedLine {
  bool ok = false;
  std::string_view text;    // valid until the next parse() call or until the line goes away
  std::string_view domain;  // ditto; empty when the domain does not come from the line
  std::string reason;       // when !ok: a short reason, the same for every line of its kind
  std::string detail;       // when !ok: "expected ..., found ..." (for messages naming file:line)
};

// Reuse one per thread: it owns a simdjson parser.
class JsonDocumentParser {
 public:
  // allow_empty_text: "" is a document (tokenize) rather than a line to skip (ingest).
  JsonDocumentParser(std::string text_field, DomainSource domain, bool allow_empty_text = false);
  ~JsonDocumentParser();
  // `line` must have simdjson's 64 bytes of readable padding after it (the line pipeline's are).
  ParsedLine parse(std::string_view line);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace longctx::corpus
