// Parallel, order-preserving processing of a line-oriented input (JSONL).
//
// The calling thread reads blocks of whole lines; worker threads turn each block into output bytes
// with their own per-thread state; the calling thread writes the outputs in input order. Output is
// byte-identical whatever the thread count. The first error in input order wins: everything before
// the failing block is written, nothing after it, and the error is rethrown.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace longctx {

class LineProcessor {
 public:
  virtual ~LineProcessor() = default;
  // Appends the output for one line (without its '\n'). `line` stays readable, with at least 64
  // bytes of padding after it, until the call returns; line_no counts from 1.
  virtual void process(std::string_view line, uint64_t line_no, std::string& out) = 0;
};

struct LinePipelineStats {
  uint64_t bytes = 0, lines = 0;
  double seconds = 0;
};

// Reads up to n bytes into buf; returns 0 only at the end of the input (a short read is not the
// end). Throws Error on failure.
using ReadFn = std::function<size_t(char* buf, size_t n)>;

// Reads `read` (named `name` in messages) to the end. make_processor() is called once per thread.
// `sink` receives the output of each block of lines, in order; after_block(bytes, lines), if given,
// is called right after each sink call with the input bytes and lines consumed so far: everything
// up to there has been delivered (a safe point for progress and checkpoints). Lines are numbered
// from first_line (a resumed run starts past the lines it has done).
LinePipelineStats run_line_pipeline(const ReadFn& read, const std::string& name, int threads,
                                    const std::function<std::unique_ptr<LineProcessor>()>& make_processor,
                                    const std::function<void(std::string_view)>& sink,
                                    const std::function<void(uint64_t bytes, uint64_t lines)>& after_block = nullptr,
                                    uint64_t first_line = 1);

}  // namespace longctx
