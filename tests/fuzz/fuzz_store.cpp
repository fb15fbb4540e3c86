// A store folder -> StoreReader (manifest, Megatron data.idx/data.bin, docs.bin sidecar) and
// verify(): a validated store or one Error line. The input is the four files in that order,
// separated by "\n--8<--\n" (missing ones are empty). Every document the reader accepts reads back
// within the mapped files.
#include <cstdint>
#include <cstdio>
#include <string>

#include "fuzz_util.h"
#include "longctx/store/store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = longctx::fuzz::scratch_path("store");
  std::filesystem::create_directories(dir);
  const std::string in(reinterpret_cast<const char*>(data), size);
  size_t pos = 0;
  for (const char* name : {"manifest.json", "data.idx", "data.bin", "docs.bin"}) {
    const size_t cut = pos > in.size() ? std::string::npos : in.find("\n--8<--\n", pos);
    const std::string part = pos > in.size() ? "" : in.substr(pos, cut == std::string::npos ? std::string::npos : cut - pos);
    longctx::fuzz::write_file(dir + "/" + name, reinterpret_cast<const uint8_t*>(part.data()), part.size());
    pos = cut == std::string::npos ? in.size() + 1 : cut + 8;
  }
  try {
    const longctx::store::StoreReader r(dir);
    volatile uint64_t sink = 0;
    const auto& d = r.data();
    for (uint64_t i = 0; i < d.sequences() && i < 64; ++i)
      for (const uint32_t t : d.sequence(i)) sink = sink + t;
    for (const auto& doc : r.docs()) sink = sink + doc.domain;
    r.verify();
  } catch (const longctx::Error&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "not an Error: %s\n", e.what());
    __builtin_trap();
  }
  return 0;
}
