// Whether the AVX-512 text kernels run: the id writer (ids_json.h), the SentencePiece join cut and
// the LLaMA-3/Qwen2 scanner (src/tokenizer/ascii_cuts.h, llama3_ascii.h). Each has a scalar twin
// that gives the same bytes; LONGCTX_NO_AVX512=1 picks the twins on any CPU (the tests run both
// ways, and a user can rule the kernels out when chasing a difference).
#pragma once

namespace longctx::text {

// AVX-512 F, BW, DQ, VBMI and VBMI2 and POPCNT (Ice Lake, Sapphire Rapids, Zen 4 and later), and
// LONGCTX_NO_AVX512 unset, "" or "0". Decided once per process.
bool avx512_text_kernels();

// The instruction sets the kernels are compiled for: exactly what avx512_text_kernels() checks,
// so that no kernel uses an instruction the check did not see.
#define LONGCTX_AVX512_TEXT __attribute__((target("avx512f,avx512bw,avx512dq,avx512vbmi,avx512vbmi2,popcnt")))

}  // namespace longctx::text
