// Which array task this process is: --task-id/--num-tasks, else Slurm's variables
// (SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN of SLURM_ARRAY_TASK_COUNT: arrays may start at 1),
// else task 0 of 1.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

#include "longctx/util/error.h"

namespace longctx::cli {

struct TaskId {
  uint64_t id = 0, count = 1;
};

inline std::optional<uint64_t> env_number(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return std::nullopt;
  char* end = nullptr;
  const unsigned long long n = std::strtoull(v, &end, 10);
  if (*end) throw Error(std::string("$") + name + ": expected a number, found \"" + v + "\"");
  return n;
}

inline TaskId resolve_task(std::optional<uint64_t> id, std::optional<uint64_t> count) {
  if (!id && !count) {
    const auto sid = env_number("SLURM_ARRAY_TASK_ID"), scount = env_number("SLURM_ARRAY_TASK_COUNT");
    if (sid && scount) {
      const uint64_t min = env_number("SLURM_ARRAY_TASK_MIN").value_or(0);
      if (*sid < min) throw Error("$SLURM_ARRAY_TASK_ID is below $SLURM_ARRAY_TASK_MIN");
      id = *sid - min;
      count = scount;
    }
  }
  if (id.has_value() != count.has_value()) throw Error("--task-id and --num-tasks go together");
  if (!count) return {};
  if (*count == 0 || *id >= *count)
    throw Error("--task-id " + std::to_string(*id) + ": expected below --num-tasks " + std::to_string(*count));
  return {*id, *count};
}

}  // namespace longctx::cli
