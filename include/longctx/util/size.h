// The one size grammar of every command and config value that takes a length or a token count
// (stats, mix, pack, prepare, eval-loss, needle, report, bookqa): a number, optionally with a
// fraction, then an optional suffix, letters in either case:
//
//   K  = 1024       context lengths, as the paper and every model card count them: 4K = 4,096,
//                   128K = 131,072 (the paper's 128K context); also Ki.
//   Mi = 1024^2, Gi = 1024^3, Ti = 1024^4   binary, for whoever means powers of two past K.
//   M  = 10^6, B = 10^9, T = 10^12          token budgets, as the paper counts them: 500M, 5B.
//
// So 1M = 1,000,000 and 1Mi = 1024K = 1,048,576, in every command. The result must be a whole
// number >= 0 (1.5K = 1536; 1.3K, -1 and 0.5 are refused). Throws Error("FLAG: expected ...,
// found ..."). Length labels (mix::length_label) are written in the same grammar, so they read
// back to the same number.
#pragma once

#include <cstdint>
#include <string>

namespace longctx {

uint64_t parse_size(const std::string& text, const std::string& flag);

}  // namespace longctx
