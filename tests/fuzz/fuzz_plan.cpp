// A mixture plan folder (PLAN/plan.json + PLAN/entries.bin) -> mix::read_plan, what pack and verify
// read. Byte 0: bit 0 set = first rewrite plan.json's record of entries.bin (bytes, XXH3-128) to
// match the entries given, so the fuzzer reaches what comes after the integrity check; the rest:
// plan.json, "\n--8<--\n", entries.bin. A plan or one Error, never a crash or another exception.
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "fuzz_util.h"
#include "longctx/mix/plan.h"
#include "longctx/util/hash.h"

namespace {
// plan.json with files.entries.bin set to the entries' size and hash (unchanged if not an object).
std::string with_entries_record(const std::string& plan, std::string_view entries) {
  auto j = nlohmann::ordered_json::parse(plan, nullptr, false);
  if (!j.is_object()) return plan;
  j["files"]["entries.bin"] = {{"bytes", entries.size()}, {"xxh128", longctx::xxh128_hex(entries)}};
  return j.dump();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const std::string dir = longctx::fuzz::scratch_path("plan");
  const auto parts = longctx::fuzz::split_parts(std::string_view(reinterpret_cast<const char*>(data + 1), size - 1));
  const std::string_view entries = parts.size() > 1 ? parts[1] : std::string_view();
  std::string plan(parts[0]);
  if (data[0] & 1) plan = with_entries_record(plan, entries);
  std::filesystem::create_directories(dir);
  longctx::fuzz::write_file(dir + "/plan.json", reinterpret_cast<const uint8_t*>(plan.data()), plan.size());
  longctx::fuzz::write_file(dir + "/entries.bin", reinterpret_cast<const uint8_t*>(entries.data()), entries.size());
  try {
    const auto p = longctx::mix::read_plan(dir);
    uint64_t sum = 0;
    for (const auto& e : p.entries) sum += e.length;  // every entry readable
    (void)sum;
  } catch (const longctx::Error&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "not an Error: %s\n", e.what());
    __builtin_trap();
  }
  return 0;
}
