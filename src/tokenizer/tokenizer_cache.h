// The load cache: a compiled tokenizer.json kept in a binary file beside it, so that loading the
// same file again costs a hash of the file and a map of the cache, not a JSON parse and the
// construction of every table (0.05-0.9 s for the ten installed families; 1-12 ms from the cache).
//
// Where: FILE.longctx-cache beside FILE; if that cannot be written, $XDG_CACHE_HOME/longctx (or
// ~/.cache/longctx) under a name made from FILE's absolute path; if neither, nothing is cached.
// Written whole under a temporary name and renamed into place, never rewritten in place (a
// process using a mapped cache keeps the old file).
//
// Key: the size and XXH3-128 hash of FILE's bytes, the cache format version and the GNU build id
// of the code that wrote it (a longctx whose code changed in any way ignores every older cache; a
// binary without a build id does not cache). A cache that does not match the key, fails its
// checksum (XXH3-64 of everything after the header) or does not hold together is ignored, and
// rewritten once the tokenizer is built from JSON. Nothing it holds is used before those checks.
//
// What it holds: FILE with model.vocab and model.merges emptied (the other members as the same
// JSON values, minified: a few KB to 1 MB, read again by the same Loader code with every check)
// and, as raw arrays, what those two compile to: id_to_token, the model's token bytes, vocabulary
// index, merge table, merge list and Bloom filters, the join table, the backtracking encoder's
// tables, and the scalars beside them (tokenizer_impl.h: CompiledVocabulary). The arrays are used
// straight from the mapped file (the join table's ASCII part, 2 KB, is copied).
//
// LONGCTX_NO_TOKENIZER_CACHE=1 turns the cache off (no reads, no writes).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer_impl.h"

namespace longctx::tokenizer {

// Loads FILE through the cache (Tokenizer::load). Throws what build_tokenizer throws.
std::unique_ptr<TokenizerImpl> load_tokenizer_file(const std::string& path);

// True when LONGCTX_NO_TOKENIZER_CACHE is set to anything but "" or "0".
bool tokenizer_cache_disabled();

// The places a cache of FILE may be, in the order they are tried: beside it, then the user's
// cache folder (absent when neither $XDG_CACHE_HOME nor $HOME is set).
std::vector<std::string> tokenizer_cache_paths(const std::string& path);

}  // namespace longctx::tokenizer
