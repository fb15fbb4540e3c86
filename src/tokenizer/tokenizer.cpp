#include "longctx/tokenizer/tokenizer.h"

#include <unordered_map>

#include "longctx/util/error.h"
#include "longctx/util/file.h"
#include "tokenizer_cache.h"
#include "tokenizer_impl.h"

namespace longctx::tokenizer {

Tokenizer::Tokenizer(std::unique_ptr<TokenizerImpl> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;

std::shared_ptr<const Tokenizer> Tokenizer::load(const std::string& path) {
  return std::shared_ptr<const Tokenizer>(new Tokenizer(load_tokenizer_file(path)));
}

std::shared_ptr<const Tokenizer> Tokenizer::from_json(std::string_view json, const std::string& origin) {
  return std::shared_ptr<const Tokenizer>(new Tokenizer(build_tokenizer(json, origin)));
}

size_t Tokenizer::vocab_size() const { return impl_->id_to_token.size(); }

std::optional<std::string> Tokenizer::id_to_token(uint32_t id) const {
  if (id >= impl_->id_to_token.size() || impl_->id_to_token[id].empty()) return std::nullopt;
  return std::string(impl_->id_to_token[id]);
}

std::optional<uint32_t> Tokenizer::token_to_id(std::string_view token) const {
  for (const AddedToken& a : impl_->added)
    if (a.content == token) return a.id;
  for (uint32_t id = 0; id < impl_->id_to_token.size(); ++id)
    if (impl_->id_to_token[id] == token) return id;
  return std::nullopt;
}

bool Tokenizer::is_special(uint32_t id) const { return id < impl_->special.size() && impl_->special[id]; }
const std::string& Tokenizer::content_hash() const { return impl_->hash; }
const std::vector<uint32_t>& Tokenizer::prefix_ids() const { return impl_->prefix_ids; }
const std::vector<uint32_t>& Tokenizer::suffix_ids() const { return impl_->suffix_ids; }

std::string Tokenizer::decode(std::span<const uint32_t> ids, bool skip_special, bool skip_unknown) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (const uint32_t id : ids) {
    if (id >= impl_->id_to_token.size() || impl_->id_to_token[id].empty()) {
      if (skip_unknown) continue;
      throw Error("token id " + std::to_string(id) + " is not in the vocabulary of " + impl_->origin + " (size " +
                  std::to_string(impl_->id_to_token.size()) + ")");
    }
    if (skip_special && impl_->special[id]) continue;
    tokens.emplace_back(impl_->id_to_token[id]);
  }
  if (impl_->decoder.empty()) {
    // HF joins token strings with spaces when there is no decoder.
    std::string out;
    for (size_t i = 0; i < tokens.size(); ++i) out += (i ? " " : "") + tokens[i];
    return out;
  }
  return run_decoder(impl_->decoder, std::move(tokens));
}

std::vector<uint32_t> Tokenizer::encode(std::string_view text, const EncodeOptions& options) const {
  Encoder enc(*this);
  std::vector<uint32_t> ids;
  enc.encode(text, options, ids);
  return ids;
}

}  // namespace longctx::tokenizer
