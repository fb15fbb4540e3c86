// The data commands of the CLI run in process (tools/longctx/cli.h): longctx.ingest(...) and the
// other pipeline functions of the package build an argument list and call run() here, so they
// take exactly the CLI's options and fail with its messages, as longctx.Error.
#include <pybind11/stl.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "../../tools/longctx/cli.h"
#include "bindings.h"

namespace py = pybind11;

namespace longctx::python {
namespace {

// Standard output of the calling process, redirected to a temporary file while one command runs
// (stats --json prints its result there). Process-wide: other threads' output goes there too.
class CaptureStdout {
 public:
  CaptureStdout() {
    std::fflush(stdout);
    file_ = std::tmpfile();
    if (!file_) throw Error("cannot create a temporary file to capture standard output");
    saved_ = dup(STDOUT_FILENO);
    dup2(fileno(file_), STDOUT_FILENO);
  }
  ~CaptureStdout() {
    restore();
    if (file_) std::fclose(file_);
  }
  std::string text() {
    restore();
    std::string out;
    std::rewind(file_);
    char buf[1 << 16];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, file_)) > 0) out.append(buf, n);
    return out;
  }

 private:
  void restore() {
    if (saved_ < 0) return;
    std::fflush(stdout);
    dup2(saved_, STDOUT_FILENO);
    close(saved_);
    saved_ = -1;
  }
  std::FILE* file_ = nullptr;
  int saved_ = -1;
};

py::tuple run(const std::vector<std::string>& args, bool capture) {
  int code;
  std::string out;
  {
    py::gil_scoped_release unlocked;
    if (capture) {
      CaptureStdout c;
      code = cli::run(args, cli::data_commands());
      out = c.text();
    } else {
      code = cli::run(args, cli::data_commands());
    }
  }
  return py::make_tuple(code, out);
}

}  // namespace

void bind_cli(py::module_& m) {
  m.def("run", &run, py::arg("args"), py::arg("capture_stdout") = false,
        "Runs one data command of the CLI in process, args as after `longctx` (e.g. ['mix', 'store', '--tokens', '1M', ...]). "
        "Returns (exit status, captured standard output); raises longctx.Error with the CLI's message.");
}

}  // namespace longctx::python
