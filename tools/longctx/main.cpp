// longctx: one binary, one subcommand per stage (cli.h). A user error prints one line and exits 1;
// a bad flag prints CLI11's message and exits 2.
#include <cstdio>
#include <cstring>
#include <string>

#include "cli.h"
#include "longctx/model/blas.h"

namespace longctx::cli {

const std::vector<Command>& model_commands() {
  static const std::vector<Command> c = {{"generate", add_generate}, {"eval-loss", add_eval_loss}, {"serve", add_serve},
                                         {"report", add_report},     {"needle", add_needle},       {"bookqa", add_bookqa},
                                         {"train", add_train}};
  return c;
}

}  // namespace longctx::cli

int main(int argc, char** argv) {
  using namespace longctx::cli;
  // Only the commands that run the model pay for (and profit from) the BLAS settings.
  if (argc > 1 && (!std::strcmp(argv[1], "generate") || !std::strcmp(argv[1], "eval-loss") || !std::strcmp(argv[1], "serve") ||
                   !std::strcmp(argv[1], "needle") || !std::strcmp(argv[1], "bookqa") ||
                   !std::strcmp(argv[1], "train")))
    longctx::model::ensure_blas_kernels(argv);
  std::vector<Command> commands = data_commands();
  commands.insert(commands.end(), model_commands().begin(), model_commands().end());
  try {
    return run(std::vector<std::string>(argv + 1, argv + argc), commands);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "longctx: %s (see --help)\n", e.what());
    return 2;
  } catch (const longctx::Error& e) {
    std::fprintf(stderr, "longctx: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "longctx: internal error: %s\n", e.what());
    return 3;
  }
}
