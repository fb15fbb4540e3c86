// Opening a command's input: a path, or "-" for standard input.
#pragma once

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

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

}  // namespace longctx::cli
