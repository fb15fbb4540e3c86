// merge(): the stores of the tasks of one array run → the store one process would have written.
// Inputs are visited in the run's order; each input's documents are copied from the task that
// read it, with input and domain indices renumbered as one process would have numbered them.
#include <algorithm>
#include <filesystem>
#include <map>

#include "longctx/ingest/ingest.h"
#include "longctx/store/builder.h"
#include "longctx/util/error.h"

namespace longctx::ingest {

namespace fs = std::filesystem;

std::vector<std::string> find_task_dirs(const std::string& out) {
  const fs::path tasks = fs::path(out) / "tasks";
  std::error_code ec;
  std::vector<std::string> dirs;
  if (fs::is_directory(tasks, ec))
    for (const auto& e : fs::directory_iterator(tasks, ec))
      if (e.is_directory() && e.path().filename().string().find("-of-") != std::string::npos) dirs.push_back(e.path().string());
  std::sort(dirs.begin(), dirs.end());
  if (dirs.empty()) throw Error(out + ": expected task stores under " + tasks.string() + "/ID-of-COUNT, found none");
  return dirs;
}

store::Manifest merge(const std::vector<std::string>& task_dirs, const std::string& out) {
  std::vector<std::unique_ptr<store::StoreReader>> tasks;
  for (const auto& d : task_dirs) tasks.push_back(std::make_unique<store::StoreReader>(d));
  const store::Manifest& first = tasks.at(0)->manifest();
  const uint64_t count = first.task_count, total = first.task_inputs_total;
  std::vector<int> by_id(count, -1);
  for (size_t t = 0; t < tasks.size(); ++t) {
    const auto& m = tasks[t]->manifest();
    const std::string& dir = task_dirs[t];
    if (!m.is_task) throw Error(dir + ": not an array-task store (its manifest has no \"task\")");
    if (m.run_fingerprint != first.run_fingerprint || m.task_count != count || m.task_inputs_total != total)
      throw Error(dir + ": from another run than " + task_dirs[0] + " (other arguments, inputs or task count)");
    if (m.task_id >= count || by_id[m.task_id] >= 0)
      throw Error(dir + ": task " + std::to_string(m.task_id) + " of " + std::to_string(count) + " given twice or out of range");
    by_id[m.task_id] = static_cast<int>(t);
  }
  for (uint64_t id = 0; id < count; ++id)
    if (by_id[id] < 0) throw Error(out + ": task " + std::to_string(id) + " of " + std::to_string(count) + " is missing");

  // Which task read each input, and where its documents start in that task's store.
  struct Owner {
    int task = -1;
    uint64_t local = 0, first_doc = 0;
  };
  std::vector<Owner> owner(total);
  for (size_t t = 0; t < tasks.size(); ++t) {
    uint64_t doc = 0;
    const auto& ins = tasks[t]->manifest().inputs;
    for (uint64_t k = 0; k < ins.size(); ++k) {
      if (ins[k].index >= total || owner[ins[k].index].task >= 0)
        throw Error(task_dirs[t] + ": input " + std::to_string(ins[k].index) + " is out of range or read by two tasks");
      owner[ins[k].index] = {static_cast<int>(t), k, doc};
      doc += ins[k].documents;
    }
  }
  for (uint64_t g = 0; g < total; ++g)
    if (owner[g].task < 0) throw Error(out + ": input " + std::to_string(g) + " was read by no task");

  store::Manifest m = first;
  m.is_task = false;
  m.task_id = 0;
  m.task_count = 1;
  m.task_inputs_total = 0;
  m.documents = m.tokens = 0;
  m.domains.clear();
  m.inputs.clear();
  m.skipped_by_reason.clear();
  m.skipped_lines.clear();
  m.files.clear();
  for (const auto& t : tasks)
    for (const auto& [reason, n] : t->manifest().skipped_by_reason) m.skipped_by_reason[reason] += n;

  store::StoreBuilder b(out, m.run_fingerprint + ":merge", m);
  if (b.done()) return b.manifest();
  std::vector<size_t> skip_cursor(tasks.size(), 0);
  const size_t w = store::token_bytes(m.token_type);
  for (uint64_t g = 0; g < total; ++g) {
    const Owner& o = owner[g];
    const auto& task = *tasks[o.task];
    const auto& tm = task.manifest();
    store::InputStats in = tm.inputs[o.local];
    in.index = g;
    b.manifest().inputs.push_back(in);
    const auto lengths = task.data().lengths();
    const auto offsets = task.data().offsets();
    for (uint64_t d = o.first_doc; d < o.first_doc + in.documents; ++d) {
      const store::DocRecord& r = task.docs()[d];
      const uint16_t domain = b.domain_index(tm.domains[r.domain].name);
      const uint32_t len = static_cast<uint32_t>(lengths[d]);
      b.add(task.data().bin().substr(static_cast<size_t>(offsets[d]), len * w), len,
            store::DocRecord{r.line, static_cast<uint32_t>(g), r.chars, domain, 0, 0});
    }
    // The listed skipped lines of this input (each task lists its own in input order).
    auto& cur = skip_cursor[o.task];
    while (cur < tm.skipped_lines.size() && tm.skipped_lines[cur].input == in.path) {
      if (b.manifest().skipped_lines.size() < store::kMaxListedSkips) b.manifest().skipped_lines.push_back(tm.skipped_lines[cur]);
      ++cur;
    }
  }
  b.finish();
  return b.manifest();
}

}  // namespace longctx::ingest
