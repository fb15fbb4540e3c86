// Sizes as users type them: 5B, 5b, 500M, 1.5B, 131072, 128K. K = 1024 (context lengths are
// powers of two: 128K = 131,072), M = 10^6, B = 10^9, T = 10^12 (token budgets, as the paper's
// script reads "5b"). Throws Error("FLAG: expected ..., found ...").
#pragma once

#include <cstdint>
#include <string>

namespace longctx {

uint64_t parse_size(const std::string& text, const std::string& flag);

}  // namespace longctx
