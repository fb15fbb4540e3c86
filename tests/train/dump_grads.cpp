// Test driver: the loss and every parameter's gradient of one forward/backward pass, for
// tests/train/test_train_reference.py to compare with PyTorch autograd.
//   dump_grads MODEL_DIR TOKENS.u32 B T DOCSTART.u32|- OUT.safetensors [THREADS]
// prints {"losses": [...]} on stdout; gradients are of the mean of the B sequence losses.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "longctx/model/config.h"
#include "longctx/train/model_grad.h"
#include "longctx/model/weights.h"
#include "longctx/util/error.h"
#include "longctx/util/file.h"

int main(int argc, char** argv) {
  if (argc < 7) {
    std::fprintf(stderr, "usage: dump_grads MODEL_DIR TOKENS.u32 B T DOCSTART.u32|- OUT.safetensors [THREADS]\n");
    return 2;
  }
  try {
    using namespace longctx;
    const std::string dir = argv[1];
    const auto c = model::ModelConfig::load(dir + "/config.json");
    const model::WeightLayout lay(c);
    std::vector<float> P(lay.total(), 0.0f), G(lay.total(), 0.0f);
    lay.load(P.data(), dir);
    const uint64_t B = std::stoull(argv[3]), T = std::stoull(argv[4]);
    const std::string raw = read_file(argv[2]);
    std::vector<uint32_t> tokens(B * T), docs;
    if (raw.size() != B * T * 4) throw Error(std::string(argv[2]) + ": expected B*T uint32 tokens");
    std::memcpy(tokens.data(), raw.data(), raw.size());
    if (std::string(argv[5]) != "-") {
      const std::string d = read_file(argv[5]);
      docs.resize(B * T);
      std::memcpy(docs.data(), d.data(), d.size());
    }
    train::ModelGrad fb(c, lay, argc > 7 ? std::stoi(argv[7]) : 1);
    const auto losses = fb.forward_backward(P.data(), G.data(), tokens.data(), B, T, docs.empty() ? nullptr : docs.data(),
                                            1.0f / static_cast<float>(B));
    lay.save_buffers({{G.data(), ""}}, argv[6]);
    std::printf("%s\n", nlohmann::json{{"losses", losses}}.dump().c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dump_grads: %s\n", e.what());
    return 1;
  }
  return 0;
}
