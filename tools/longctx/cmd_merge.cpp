// longctx merge: the task stores of an array run → the store one process would have written.
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "longctx/ingest/ingest.h"
#include "longctx/util/error.h"

namespace longctx::cli {
namespace {

struct MergeArgs {
  std::vector<std::string> stores;
  std::string out;
  bool remove_tasks = false, quiet = false;
};

int run(const MergeArgs& a) {
  std::vector<std::string> tasks = a.stores;
  std::string out = a.out;
  if (tasks.size() == 1 && !std::filesystem::exists(tasks[0] + "/manifest.json")) {
    // `longctx merge OUT`: the tasks of `longctx ingest --out OUT` live in OUT/tasks/.
    if (out.empty()) out = tasks[0];
    tasks = ingest::find_task_dirs(tasks[0]);
  }
  if (out.empty()) throw Error("merge: --out is needed when task stores are named one by one");
  const auto m = ingest::merge(tasks, out);
  if (a.remove_tasks) {
    std::error_code ec;
    for (const auto& t : tasks) std::filesystem::remove_all(t, ec);
    std::filesystem::remove(out + "/tasks", ec);  // only when empty
  }
  if (!a.quiet)
    std::fprintf(stderr, "merge: %zu task stores -> %s: %llu documents, %llu tokens\n", tasks.size(), out.c_str(),
                 static_cast<unsigned long long>(m.documents), static_cast<unsigned long long>(m.tokens));
  return 0;
}

}  // namespace

Run add_merge(CLI::App& app) {
  auto a = std::make_shared<MergeArgs>();
  auto* sub = app.add_subcommand("merge", "join the stores of an array ingest into the store one process would have written");
  sub->add_option("stores", a->stores, "OUT (its tasks/ folder is merged into OUT), or task store folders with --out")->required();
  sub->add_option("--out,-o", a->out, "the merged store (default: OUT)");
  sub->add_flag("--remove-tasks", a->remove_tasks, "delete the task stores once the merged store is complete");
  sub->add_flag("--quiet,-q", a->quiet, "no summary line on stderr");
  return [a] { return run(*a); };
}

}  // namespace longctx::cli
