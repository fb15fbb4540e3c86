// Progress on stderr for long work: a rewritten line, at most a few times a second, only when
// stderr is a terminal (or --progress asks for it).
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

namespace longctx::cli {

class Progress {
 public:
  Progress(std::string what, bool force) : what_(std::move(what)), on_(force || ::isatty(2)) {}
  void bytes(uint64_t done) {
    if (!on_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(250)) return;
    last_ = now;
    const double s = std::chrono::duration<double>(now - start_).count();
    std::fprintf(stderr, "\r%s: %.1f MB, %.1f MB/s   ", what_.c_str(), done / 1e6, s > 0 ? done / 1e6 / s : 0.0);
    shown_ = true;
  }
  ~Progress() {
    if (shown_) std::fprintf(stderr, "\r\033[K");
  }

 private:
  std::string what_;
  bool on_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now(), last_ = start_;
};

}  // namespace longctx::cli
