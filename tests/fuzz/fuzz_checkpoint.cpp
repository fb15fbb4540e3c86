// A checkpoint folder as train writes it (checkpoint.json, config.json, model.safetensors,
// optimizer.safetensors, trainer_state.json), read back the ways a run reads its own output:
// verify_checkpoint and verify_training_output (`verify`, `train --resume`), Model::load (the
// engine, `train --init`) and the AdamW moments of optimizer.safetensors (`train --resume`).
// Byte 0: bit 0 set = first rewrite checkpoint.json's "files" to the sizes and XXH3-128 of the
// files given, so the fuzzer reaches the loaders behind the integrity check; the rest: the files as
// parts "NAME\nCONTENT" joined by "\n--8<--\n". One Error, never a crash or another exception, and
// memory bounded by the input's size.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "longctx/model/checkpoint.h"
#include "longctx/model/model.h"
#include "longctx/model/weights.h"
#include "longctx/util/file.h"
#include "longctx/util/hash.h"

namespace {
// checkpoint.json's "files" set to what DIR holds (unchanged if it is not a JSON object).
void record_files(const std::string& dir) {
  const std::string path = dir + "/checkpoint.json";
  if (!std::filesystem::exists(path)) return;
  auto j = nlohmann::ordered_json::parse(longctx::read_file(path), nullptr, false);
  if (!j.is_object()) return;
  j["files"] = nlohmann::ordered_json::object();
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name == "checkpoint.json") continue;
    const std::string bytes = longctx::read_file(e.path().string());
    j["files"][name] = {{"bytes", bytes.size()}, {"xxh128", longctx::xxh128_hex(bytes)}};
  }
  const std::string text = j.dump();
  longctx::fuzz::write_file(path, reinterpret_cast<const uint8_t*>(text.data()), text.size());
}

// Each reader on its own: one refusing the folder must not hide what another does with it.
template <class F>
void attempt(F f) {
  try {
    f();
  } catch (const longctx::Error&) {
  }
}

void read_back(const std::string& dir) {
  attempt([&] { (void)longctx::model::verify_checkpoint(dir, true); });
  attempt([&] { (void)longctx::model::verify_training_output(dir); });
  attempt([&] {
    const auto model = longctx::model::Model::load(dir);
    const longctx::model::WeightLayout lay(model->config());
    std::vector<float> moments(lay.total());  // bounded: the weights of that size were read
    lay.load_buffer(moments.data(), "exp_avg.", dir + "/optimizer.safetensors");
    lay.load_buffer(moments.data(), "exp_avg_sq.", dir + "/optimizer.safetensors");
  });
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const std::string dir = longctx::fuzz::scratch_path("checkpoint");
  longctx::fuzz::write_folder(dir, std::string_view(reinterpret_cast<const char*>(data + 1), size - 1));
  try {
    if (data[0] & 1) record_files(dir);
    read_back(dir);
  } catch (const longctx::Error&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "not an Error: %s\n", e.what());
    __builtin_trap();
  }
  return 0;
}
