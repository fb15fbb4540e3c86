// A store's manifest.json -> Manifest::from_json: a manifest or one Error line; one that parses
// writes back to JSON that parses to the same manifest.
#include <cstdint>
#include <string>

#include "longctx/store/store.h"
#include "longctx/util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const auto m = longctx::store::Manifest::from_json(text, "manifest.json");
    const std::string again = m.to_json();
    if (longctx::store::Manifest::from_json(again, "again").to_json() != again) __builtin_trap();
  } catch (const longctx::Error&) {
  }
  return 0;
}
