// The line processor of `longctx tokenize`: a JSONL line's text field -> its ids as one JSON array
// line. Shared with the profile-guided build's training run (tools/pgo_train), so that the
// training exercises this very code.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "longctx/corpus/json_document.h"
#include "longctx/text/ids_json.h"
#include "longctx/tokenizer/tokenizer.h"
#include "longctx/util/error.h"
#include "longctx/util/line_pipeline.h"

namespace longctx::cli {

class TokenizeLines : public LineProcessor {
 public:
  // name: the input, for messages; tokens: the run's token count, added to at destruction.
  TokenizeLines(const tokenizer::Tokenizer& tok, const std::string& field, const tokenizer::EncodeOptions& options,
                const std::string& name, std::atomic<uint64_t>& tokens)
      : enc_(tok), name_(name), tokens_(tokens), opt_(options),
        parser_(field, {corpus::DomainSource::kConstant, ""}, true) {}
  ~TokenizeLines() override { tokens_ += local_tokens_; }

  void process(std::string_view line, uint64_t line_no, std::string& out) override {
    const corpus::ParsedLine r = parser_.parse(line);
    if (!r.ok) throw Error(name_ + ":" + std::to_string(line_no) + ": " + r.detail);
    ids_.clear();
    enc_.encode(r.text, opt_, ids_);
    local_tokens_ += ids_.size();
    text::append_ids_json(out, ids_);
    out += '\n';
  }

 private:
  tokenizer::Encoder enc_;
  const std::string& name_;
  std::atomic<uint64_t>& tokens_;
  uint64_t local_tokens_ = 0;
  tokenizer::EncodeOptions opt_;
  corpus::JsonDocumentParser parser_;  // the text field only: no domain
  std::vector<uint32_t> ids_;
};

}  // namespace longctx::cli
