// Test driver: the logits of every position of a token sequence, as raw f32 [n, vocab].
//   dump_logits MODEL_DIR IDS.u32 OUT.f32 [--chunk N] [--reference] [--incremental]
//               [--rope-theta X] [--dynamic-pin N] [--key-tile N] [--query-tile N]
// --incremental feeds one token at a time (the decode path with the KV cache); --reference uses
// the plain kernels.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "longctx/model/model.h"
#include "longctx/util/error.h"
#include "longctx/util/file.h"

int main(int argc, char** argv) {
  using namespace longctx;
  if (argc < 4) {
    std::fprintf(stderr, "usage: dump_logits MODEL_DIR IDS.u32 OUT.f32 [--chunk N] [--reference] [--incremental] [--rope-theta X] [--dynamic-pin N]\n");
    return 2;
  }
  try {
    model::ModelOptions mo;
    uint64_t chunk = 256, key_tile = 0, query_tile = 0;
    bool reference = false, incremental = false;
    for (int i = 4; i < argc; ++i) {
      const std::string a = argv[i];
      if (a == "--chunk") chunk = std::strtoull(argv[++i], nullptr, 10);
      else if (a == "--reference") reference = true;
      else if (a == "--incremental") incremental = true;
      else if (a == "--rope-theta") mo.rope_theta = std::strtod(argv[++i], nullptr);
      else if (a == "--dynamic-pin") mo.dynamic_pin = std::strtoull(argv[++i], nullptr, 10);
      else if (a == "--key-tile") key_tile = std::strtoull(argv[++i], nullptr, 10);
      else if (a == "--query-tile") query_tile = std::strtoull(argv[++i], nullptr, 10);
    }
    const auto m = model::Model::load(argv[1], mo);
    const std::string raw = read_file(argv[2]);
    std::vector<uint32_t> ids(raw.size() / 4);
    std::memcpy(ids.data(), raw.data(), raw.size());
    model::Session s(*m, ids.size());
    s.chunk = chunk;
    if (key_tile) s.key_tile = key_tile;
    if (query_tile) s.query_tile = query_tile;
    s.set_reference(reference);
    const uint64_t V = m->config().vocab_size;
    std::vector<float> out(ids.size() * V);
    if (incremental) {
      std::vector<float> logits;
      for (size_t i = 0; i < ids.size(); ++i) {
        s.forward(std::span<const uint32_t>(&ids[i], 1), &logits);
        std::memcpy(out.data() + i * V, logits.data(), V * 4);
      }
    } else {
      s.forward_all(ids, [&](uint64_t i, const float* l) { std::memcpy(out.data() + i * V, l, V * 4); });
    }
    AtomicFile f(argv[3]);
    f.write(std::string_view(reinterpret_cast<const char*>(out.data()), out.size() * 4));
    f.commit();
  } catch (const Error& e) {
    std::fprintf(stderr, "dump_logits: %s\n", e.what());
    return 1;
  }
  return 0;
}
