// The files `bookqa` reads: the longbook_qa_eng rows (--data JSONL) and, to resume and summarize, its
// own results (RUN/bookqa.jsonl). Byte 0 even: rows, odd: results; the rest is the file. The needle
// run files (run.json, trials.jsonl) are report_inputs' (load_needle_run, also what needle resumes
// from). A result or one Error, never a crash or another exception.
#include <cstdint>
#include <cstdio>
#include <string>

#include "fuzz_util.h"
#include "longctx/eval/needle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const std::string file = longctx::fuzz::scratch_path("bookqa.jsonl");
  longctx::fuzz::write_file(file, data + 1, size - 1);
  try {
    if (data[0] & 1) {
      const auto r = longctx::eval::read_bookqa_results(file);
      if (r.ids.size() > r.rows) __builtin_trap();
    } else {
      for (const auto& row : longctx::eval::read_bookqa_rows(file))
        if (row.answers.empty()) __builtin_trap();  // what bookqa scores against answers[0]
    }
  } catch (const longctx::Error&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "not an Error: %s\n", e.what());
    __builtin_trap();
  }
  return 0;
}
