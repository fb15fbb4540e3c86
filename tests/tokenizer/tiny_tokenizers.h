// Small hand-written tokenizer.json texts whose encodings can be worked out by hand.
#pragma once

#include <string>

namespace longctx::tokenizer::testing {

// SentencePiece-style: Prepend("▁") + Replace(" "→"▁"), byte fallback for "é" (bytes C3 A9 only),
// <s> prepended by the post-processor.
// vocab: <unk>=0 <s>=1 </s>=2 <0xC3>=3 <0xA9>=4 ▁=5 a=6 b=7 c=8 ab=9 bc=10 abc=11 ▁a=12 aa=13
// merges (rank order): "a b", "b c", "ab c", "▁ a", "a a"
inline std::string sentencepiece_json(const std::string& model_extra = "", const std::string& normalizer = "") {
  const std::string norm = normalizer.empty()
                               ? R"({"type":"Sequence","normalizers":[{"type":"Prepend","prepend":"▁"},)"
                                 R"({"type":"Replace","pattern":{"String":" "},"content":"▁"}]})"
                               : normalizer;
  return R"({"version":"1.0","added_tokens":[
    {"id":0,"content":"<unk>","special":true,"normalized":false},
    {"id":1,"content":"<s>","special":true,"normalized":false},
    {"id":2,"content":"</s>","special":true,"normalized":false}],
  "normalizer":)" + norm + R"(,
  "pre_tokenizer":null,
  "post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],
    "special_tokens":{"<s>":{"id":"<s>","ids":[1],"tokens":["<s>"]}}},
  "decoder":{"type":"Sequence","decoders":[{"type":"Replace","pattern":{"String":"▁"},"content":" "},
    {"type":"ByteFallback"},{"type":"Fuse"},{"type":"Strip","content":" ","start":1,"stop":0}]},
  "model":{"type":"BPE","unk_token":"<unk>","fuse_unk":true,"byte_fallback":true)" + model_extra + R"(,
    "vocab":{"<unk>":0,"<s>":1,"</s>":2,"<0xC3>":3,"<0xA9>":4,"▁":5,"a":6,"b":7,"c":8,"ab":9,"bc":10,"abc":11,"▁a":12,"aa":13},
    "merges":["a b","b c","ab c","▁ a","a a"]}})";
}

}  // namespace longctx::tokenizer::testing
