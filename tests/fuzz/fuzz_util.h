// Shared pieces of the fuzz harnesses (tests/fuzz/README.md): a per-process scratch file for the
// readers that take a path, and the tokenizers the encode/decode harnesses run.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "longctx/tokenizer/tokenizer.h"
#include "longctx/util/error.h"

namespace longctx::fuzz {

// A file (or folder) under $TMPDIR named after this process; removed at exit.
inline std::string scratch_path(const std::string& name) {
  const char* tmp = std::getenv("TMPDIR");
  const std::string dir = std::string(tmp && *tmp ? tmp : "/tmp") + "/longctx-fuzz-" + std::to_string(getpid());
  static bool made = [&] {
    std::filesystem::create_directories(dir);
    std::atexit([] {
      const char* t = std::getenv("TMPDIR");
      std::error_code ec;
      std::filesystem::remove_all(std::string(t && *t ? t : "/tmp") + "/longctx-fuzz-" + std::to_string(getpid()), ec);
    });
    return true;
  }();
  (void)made;
  return dir + "/" + name;
}

inline void write_file(const std::string& path, const uint8_t* data, size_t size) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (size && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
}

// The source tree (for data/tokenizers): LONGCTX_SOURCE_DIR from the build, or $LONGCTX_SOURCE_DIR.
inline std::string source_dir() {
  if (const char* s = std::getenv("LONGCTX_SOURCE_DIR"); s && *s) return s;
  return LONGCTX_SOURCE_DIR;
}

struct NamedTokenizer {
  std::string name;
  std::shared_ptr<const tokenizer::Tokenizer> tok;
};

// A tiny hand-written SentencePiece-style tokenizer (always there) and the installed tokenizer
// files named by $LONGCTX_FUZZ_TOKENIZERS (comma-separated; default llama2,llama3,qwen3,gpt4o,
// deepseek_v3), those that exist under data/tokenizers/.
std::vector<NamedTokenizer> load_fuzz_tokenizers();

}  // namespace longctx::fuzz
