// What the line-oriented commands share: their input (a path, or "-" for standard input) and
// their thread count.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "longctx/util/error.h"

namespace longctx::cli {

class Input {
 public:
  explicit Input(const std::string& path) : name_(path == "-" ? "<stdin>" : path) {
    if (path == "-") {
      file_ = stdin;
    } else {
      file_ = std::fopen(path.c_str(), "rb");
      if (!file_) throw Error(path + ": cannot open: " + std::strerror(errno));
      owned_ = true;
    }
  }
  ~Input() {
    if (owned_) std::fclose(file_);
  }
  Input(const Input&) = delete;
  Input& operator=(const Input&) = delete;
  FILE* file() const { return file_; }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  FILE* file_ = nullptr;
  bool owned_ = false;
};

// --threads 0 means one per core.
inline int thread_count(int requested) {
  return requested > 0 ? requested : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace longctx::cli
