#include <sstream>

#include "../tokenizer/tiny_tokenizers.h"
#include "fuzz_util.h"

namespace longctx::fuzz {

std::vector<NamedTokenizer> load_fuzz_tokenizers() {
  std::vector<NamedTokenizer> out;
  out.push_back({"tiny", tokenizer::Tokenizer::from_json(tokenizer::testing::sentencepiece_json(), "tiny")});
  const char* env = std::getenv("LONGCTX_FUZZ_TOKENIZERS");
  std::stringstream names(env ? env : "llama2,llama3,qwen3,gpt4o,deepseek_v3");
  for (std::string name; std::getline(names, name, ',');) {
    if (name.empty()) continue;
    const std::string path = source_dir() + "/data/tokenizers/" + name + "/tokenizer.json";
    if (!std::filesystem::exists(path)) continue;
    out.push_back({name, tokenizer::Tokenizer::load(path)});
  }
  return out;
}

}  // namespace longctx::fuzz
