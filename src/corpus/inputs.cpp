#include "longctx/corpus/inputs.h"

#include <algorithm>
#include <filesystem>
#include <numeric>
#include <queue>

#include "longctx/util/error.h"

namespace longctx::corpus {
namespace {

namespace fs = std::filesystem;

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool is_jsonl_name(const std::string& name) {
  return ends_with(name, ".jsonl") || ends_with(name, ".jsonl.zst") || ends_with(name, ".jsonl.gz");
}

std::string parent_name(const fs::path& p) {
  const auto parent = fs::absolute(p).lexically_normal().parent_path();
  return parent.filename().string();
}

}  // namespace

const char* kind_name(InputKind k) { return k == InputKind::kJsonl ? "jsonl" : "text"; }

std::vector<InputFile> expand_inputs(const std::vector<std::string>& paths) {
  std::vector<InputFile> out;
  for (const std::string& given : paths) {
    std::error_code ec;
    if (given == "-") {
      out.push_back({given, InputKind::kJsonl, "", 0});
      continue;
    }
    const auto st = fs::status(given, ec);
    if (ec || !fs::exists(st)) throw Error(given + ": cannot read: no such file or folder");
    if (!fs::is_directory(st)) {
      out.push_back({given, InputKind::kJsonl, parent_name(given), static_cast<uint64_t>(fs::file_size(given, ec))});
      continue;
    }
    std::vector<std::string> rel;
    auto it = fs::recursive_directory_iterator(given, fs::directory_options::follow_directory_symlink, ec);
    if (ec) throw Error(given + ": cannot list: " + ec.message());
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) throw Error(given + ": cannot list: " + ec.message());
      const std::string name = it->path().filename().string();
      if (!name.empty() && name[0] == '.') {
        if (it->is_directory()) it.disable_recursion_pending();
        continue;
      }
      if (it->is_regular_file()) rel.push_back(fs::relative(it->path(), given).generic_string());
    }
    if (rel.empty()) throw Error(given + ": expected files in this folder, found none");
    std::sort(rel.begin(), rel.end());  // byte order, not the file system's
    const std::string base = given.back() == '/' ? given : given + "/";
    for (const auto& r : rel) {
      const std::string path = base + r;
      out.push_back({path, is_jsonl_name(r) ? InputKind::kJsonl : InputKind::kText, parent_name(path),
                     static_cast<uint64_t>(fs::file_size(path, ec))});
    }
  }
  return out;
}

std::vector<uint64_t> task_inputs(const std::vector<InputFile>& inputs, uint64_t tasks, uint64_t id) {
  std::vector<uint64_t> order(inputs.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](uint64_t a, uint64_t b) { return inputs[a].bytes > inputs[b].bytes; });
  // (load, task) min-heap: the least-loaded task, lowest id first.
  using Load = std::pair<uint64_t, uint64_t>;
  std::priority_queue<Load, std::vector<Load>, std::greater<>> heap;
  for (uint64_t t = 0; t < tasks; ++t) heap.push({0, t});
  std::vector<uint64_t> mine;
  for (const uint64_t i : order) {
    auto [load, t] = heap.top();
    heap.pop();
    if (t == id) mine.push_back(i);
    heap.push({load + inputs[i].bytes + 1, t});  // +1: empty files still spread out
  }
  std::sort(mine.begin(), mine.end());
  return mine;
}

}  // namespace longctx::corpus
