// What a loaded tokenizer.json compiles to: the pipeline stages we support, as plain data.
// Built by tokenizer_json.cpp, run by encoder.cpp, decoded by tokenizer.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "added_tokens.h"
#include "bpe_model.h"
#include "decoder.h"
#include "join_table.h"
#include "normalizer.h"
#include "pre_tokenizer.h"
#include "split_patterns.h"

namespace longctx::tokenizer {

struct TokenizerImpl {
  // A tokenizer loaded from the cache (tokenizer_cache.h): the mapped cache file, which the model's
  // tables and id_to_token view. Declared first, so that it goes last.
  std::shared_ptr<const void> storage;
  bool from_cache = false;

  std::string origin;  // file path, for messages
  std::string hash;

  std::vector<AddedToken> added;
  // As HF's AddedVocabulary: tokens with normalized=false are found in the raw text first; those
  // with normalized=true in the normalized runs between them, by their normalized content.
  std::unique_ptr<AddedTokenMatcher> matcher;
  std::unique_ptr<AddedTokenMatcher> normalized_matcher;  // null when no token is normalized

  std::vector<NormalizerStep> normalizer;

  // The pre-tokenizer as tokenizer.json gives it (Sequence flattened). When `general_pre` is
  // false, the fast fields below say the same thing and the encoder uses them instead.
  std::vector<PreTokenizerStep> pre;
  bool general_pre = false;
  bool byte_level = false;  // a ByteLevel pre-tokenizer: the model's alphabet is bytes

  // Fast shapes: at most one of metaspace / splits is set.
  std::optional<MetaspaceSpec> metaspace;  // a lone Metaspace
  bool byte_level_prefix_space = false;    // a lone ByteLevel with add_prefix_space
  std::vector<SplitPattern> splits;        // scanners applied in order to each segment

  std::unique_ptr<BpeModel> model;
  // SentencePiece-style: no merge joins a character other than "▁" to a following "▁", so a
  // document can be cut before every "▁" that follows another character and the pieces encoded
  // (and cached) independently with identical results. Checked on the merges at load.
  bool cut_at_metaspace = false;
  // Finer exact cut points for SentencePiece-style words (see join_table.h); disabled for
  // byte-level models, whose pre-tokenizer already cuts.
  JoinTable joins;
  // The normalizer is Replace(" " -> "▁") after an optional Prepend("▁"), nothing else applies to
  // the normalized text, and words are cut at joins: see spaces_stand_for_metaspace.
  bool raw_spaces = false;

  std::vector<uint32_t> prefix_ids, suffix_ids;  // post-processor

  std::vector<DecoderStep> decoder;

  // id → token string as tokenizer.json spells it ("" for ids without one); special flags.
  StringTable id_to_token;
  std::vector<uint8_t> special;
};

// The parts of a TokenizerImpl that model.vocab and model.merges make, as a build from the whole
// file made them: what the load cache supplies in place of those two (tokenizer_cache.h).
struct CompiledVocabulary {
  std::string hash;  // content_hash of the whole file
  std::unique_ptr<BpeModel> model;
  bool cut_at_metaspace = false;
  JoinTable joins;
  StringTable id_to_token;
  std::vector<uint8_t> special;
  std::vector<uint32_t> added_ids;  // each added token's id, after the model's vocabulary overrides it
};

struct BuildOptions {
  // From the load cache: model.vocab and model.merges are not read (the cache stores the file
  // with them emptied) and these parts are moved in instead; the rest is read and checked as
  // usual.
  CompiledVocabulary* compiled = nullptr;
  // Receives the file with model.vocab and model.merges written as {} and [] (everything else
  // the same JSON values, minified): what the cache stores.
  std::string* config = nullptr;
  // json.data() is followed by SIMDJSON_PADDING readable bytes, so the parser need not copy it.
  bool padded = false;
};

bool spaces_stand_for_metaspace(const TokenizerImpl& t);

// Parses and validates tokenizer.json text. Throws Error("ORIGIN: PART: problem").
std::unique_ptr<TokenizerImpl> build_tokenizer(std::string_view json, const std::string& origin,
                                               const BuildOptions& options = {});

}  // namespace longctx::tokenizer
