// Unicode normalization and lowercasing exactly as the normalizers of Hugging Face tokenizers 0.23
// produce them: NFC/NFD/NFKC/NFKD follow the crate unicode-normalization-alignments (Unicode 9.0
// tables: characters assigned later never change and have combining class 0); Lowercase is Rust's
// char::to_lowercase of each character (Unicode 17.0, no final-sigma rule). Tables are generated at
// build time by scripts/gen_normalization_tables.mjs. Inputs are valid UTF-8.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace longctx::text {

enum class NormalForm : uint8_t { kNFC, kNFD, kNFKC, kNFKD };

// Writes the normal form of s to out (cleared first; s must not point into out).
void normalize(NormalForm form, std::string_view s, std::string& out);

// True when normalize(form, s) == s. Costs about a scan (ASCII in bulk, then quick-check tables),
// so callers can skip the copy.
bool is_normalized(NormalForm form, std::string_view s);

// HF's Lowercase normalizer: char::to_lowercase of each character, concatenated (out cleared
// first; s must not point into out).
void lowercase(std::string_view s, std::string& out);

// Character sets as two crates of HF tokenizers 0.23 see them: unicode-normalization-alignments'
// is_combining_mark (M* of Unicode 9.0, for StripAccents) and unicode_categories' is_punctuation
// (the Punctuation pre-tokenizer; read from HF itself at build time, see the generator).
bool is_combining_mark_v9(uint32_t cp);
bool is_punctuation_hf(uint32_t cp);
// Rust's char::is_numeric (N* of Unicode 17.0, the Rust std HF tokenizers 0.23 was built with).
bool is_numeric_rust(uint32_t cp);

}  // namespace longctx::text
