// A safetensors file (header + data) -> SafetensorsFile: a validated table or one Error line; every
// tensor the table lists reads back within the file.
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "longctx/model/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = longctx::fuzz::scratch_path("model.safetensors");
  longctx::fuzz::write_file(path, data, size);
  try {
    const longctx::model::SafetensorsFile f(path);
    for (const auto& [name, info] : f.tensors()) {
      if (info.end < info.begin || info.end > size) __builtin_trap();
      (void)f.read_f32(name);
    }
  } catch (const longctx::Error&) {
  }
  return 0;
}
