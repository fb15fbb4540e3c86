// GPT-2's byte ↔ character map (Radford et al. 2019, encoder.py bytes_to_unicode): printable
// Latin-1 bytes map to themselves, the other 68 bytes to U+0100.. in order, so that every byte has
// a visible character and byte-level vocabularies can be stored as text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace longctx::tokenizer {

// Maps a token string in GPT-2 character form back to raw bytes. Characters outside the map are
// kept as their own UTF-8 bytes (HF's ByteLevel decoder does the same); *exact is false then.
std::string byte_level_to_bytes(std::string_view token, bool* exact = nullptr);

}  // namespace longctx::tokenizer
