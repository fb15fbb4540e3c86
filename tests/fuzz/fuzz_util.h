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
#include <string_view>
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

// The separator of the parts of an input that stands for several files.
inline constexpr std::string_view kPartSeparator = "\n--8<--\n";

inline std::vector<std::string_view> split_parts(std::string_view input) {
  std::vector<std::string_view> parts;
  for (size_t at = 0;;) {
    const size_t cut = input.find(kPartSeparator, at);
    parts.push_back(input.substr(at, cut == std::string_view::npos ? std::string_view::npos : cut - at));
    if (cut == std::string_view::npos) return parts;
    at = cut + kPartSeparator.size();
  }
}

// A fresh folder holding the files an input names: parts "NAME\nCONTENT" joined by kPartSeparator.
// Names are kept to [A-Za-z0-9._-] (1-64 characters, not "." or ".."); a part with another name is
// skipped, so every file stays inside the folder.
inline void write_folder(const std::string& dir, std::string_view input) {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::filesystem::create_directories(dir);
  for (const std::string_view part : split_parts(input)) {
    const size_t nl = part.find('\n');
    const std::string name(part.substr(0, nl));
    const bool ok = !name.empty() && name.size() <= 64 && name != "." && name != ".." &&
                    name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == std::string::npos;
    if (!ok) continue;
    const std::string_view content = nl == std::string_view::npos ? std::string_view() : part.substr(nl + 1);
    write_file(dir + "/" + name, reinterpret_cast<const uint8_t*>(content.data()), content.size());
  }
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
