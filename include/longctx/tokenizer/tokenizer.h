// A Hugging Face tokenizer.json, loaded and run natively with byte-identical results.
//
// Supported: BPE models in the SentencePiece style (LLaMA-1/2, Mistral: Prepend/Replace normalizers
// or a Metaspace pre-tokenizer, byte fallback, <unk>) and in the byte-level style (LLaMA-3, GPT-2,
// Qwen2: Split regex pre-tokenizers, the GPT-2 byte map, ignore_merges); added and special
// tokens; TemplateProcessing / ByteLevel post-processors; their decoders. Anything else is refused
// at load with one line naming the file and the part.
//
//   auto tok = Tokenizer::load("tokenizer.json");
//   Encoder enc(*tok);                        // one per thread: holds a cache of pieces seen
//   std::vector<uint32_t> ids;
//   enc.encode(text, EncodeOptions{}, ids);   // BOS as the post-processor adds it
//   std::string back = tok->decode(ids);
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace longctx::tokenizer {

struct EncodeOptions {
  // Add what the post-processor adds (LLaMA-2's <s>), as HF's encode(add_special_tokens=True).
  bool add_special_tokens = true;
  // Turn special-token strings found in the text into their ids (HF's default). Off by default:
  // corpus text must not be able to inject control tokens.
  bool parse_special = false;
};

struct TokenizerImpl;

class Tokenizer {
 public:
  // Throws longctx::Error naming the file and the unsupported or malformed part. Keeps the
  // compiled tokenizer in a cache beside the file (PATH.longctx-cache, or ~/.cache/longctx),
  // used again only for the same bytes and build; LONGCTX_NO_TOKENIZER_CACHE=1 turns it off
  // (src/tokenizer/tokenizer_cache.h).
  static std::shared_ptr<const Tokenizer> load(const std::string& path);
  static std::shared_ptr<const Tokenizer> from_json(std::string_view json, const std::string& origin);
  ~Tokenizer();

  // Largest id + 1, added tokens included.
  size_t vocab_size() const;
  // The token string as tokenizer.json spells it (byte-level tokens in GPT-2 characters).
  std::optional<std::string> id_to_token(uint32_t id) const;
  std::optional<uint32_t> token_to_id(std::string_view token) const;
  bool is_special(uint32_t id) const;
  // A 64-bit hash of the tokenizer.json bytes, as 16 hex digits: names the tokenizer in manifests.
  const std::string& content_hash() const;
  // Ids the post-processor puts before / after the text when add_special_tokens is on.
  const std::vector<uint32_t>& prefix_ids() const;
  const std::vector<uint32_t>& suffix_ids() const;

  // HF's decode(ids, skip_special_tokens). An id outside the vocabulary (past its end, or in a
  // hole of it) throws Error, or with skip_unknown is left out as HF's decode leaves it out: what
  // decodes a model's output uses that (a model's vocab_size is often padded past the tokenizer's).
  std::string decode(std::span<const uint32_t> ids, bool skip_special = false, bool skip_unknown = false) const;

  // Convenience for one-off calls; use an Encoder for many texts.
  std::vector<uint32_t> encode(std::string_view text, const EncodeOptions& options = {}) const;

  const TokenizerImpl& impl() const { return *impl_; }

 private:
  explicit Tokenizer(std::unique_ptr<TokenizerImpl> impl);
  std::unique_ptr<TokenizerImpl> impl_;
};

class EncoderState;

// Per-thread encoding state: scratch buffers and a bounded cache of the pieces seen before (most
// pieces of real text repeat). Not thread-safe; the Tokenizer it refers to must outlive it.
class Encoder {
 public:
  explicit Encoder(const Tokenizer& tokenizer);
  ~Encoder();
  Encoder(Encoder&&) noexcept;

  // The longest text encode() takes. Offsets inside the encoder (pieces, added-token matches)
  // are 32-bit, with room for the few bytes of padding its working copies carry; a longer text
  // would wrap them and give wrong ids, so it is refused instead. No real document comes close
  // (a 4 GB JSONL line is beyond the JSON parser's own limit too); split larger text.
  static constexpr size_t kMaxTextBytes = (size_t{1} << 32) - 1024;

  // Appends the ids of text to out. Throws Error if text is not valid UTF-8 or is longer than
  // kMaxTextBytes.
  void encode(std::string_view text, const EncodeOptions& options, std::vector<uint32_t>& out);

  // Test hook: bypass the cache and the fast BPE paths, using the reference BPE for every word.
  void set_reference_mode(bool on);

 private:
  const Tokenizer* tokenizer_;
  std::unique_ptr<EncoderState> state_;
};

}  // namespace longctx::tokenizer
