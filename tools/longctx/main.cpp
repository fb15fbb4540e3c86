// longctx: one binary, one subcommand per stage. A user error prints one line and exits 1;
// a bad flag prints CLI11's message and exits 2.
#include <cstdio>
#include <cstring>
#include <map>
#include <string>

#include "commands.h"
#include "longctx/model/blas.h"
#include "longctx/util/error.h"

int main(int argc, char** argv) {
  // Only the commands that run the model pay for (and profit from) the BLAS settings.
  if (argc > 1 && (!std::strcmp(argv[1], "generate") || !std::strcmp(argv[1], "eval-loss") || !std::strcmp(argv[1], "serve") ||
                   !std::strcmp(argv[1], "needle") || !std::strcmp(argv[1], "bookqa") ||
                   !std::strcmp(argv[1], "train")))
    longctx::model::ensure_blas_kernels(argv);
  CLI::App app{"longctx: long-context data engineering (Fu et al. 2024) in C++"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(LONGCTX_VERSION));
  std::map<std::string, longctx::cli::Run> runs;
  runs["tokenize"] = longctx::cli::add_tokenize(app);
  runs["decode"] = longctx::cli::add_decode(app);
  runs["ingest"] = longctx::cli::add_ingest(app);
  runs["merge"] = longctx::cli::add_merge(app);
  runs["stats"] = longctx::cli::add_stats(app);
  runs["mix"] = longctx::cli::add_mix(app);
  runs["pack"] = longctx::cli::add_pack(app);
  runs["verify"] = longctx::cli::add_verify(app);
  runs["prepare"] = longctx::cli::add_prepare(app);
  runs["generate"] = longctx::cli::add_generate(app);
  runs["eval-loss"] = longctx::cli::add_eval_loss(app);
  runs["serve"] = longctx::cli::add_serve(app);
  runs["report"] = longctx::cli::add_report(app);
  runs["needle"] = longctx::cli::add_needle(app);
  runs["bookqa"] = longctx::cli::add_bookqa(app);
  runs["train"] = longctx::cli::add_train(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    std::fprintf(stderr, "longctx: %s (see --help)\n", e.what());
    return 2;
  }
  try {
    for (auto* sub : app.get_subcommands()) return runs.at(sub->get_name())();
  } catch (const longctx::Error& e) {
    std::fprintf(stderr, "longctx: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "longctx: internal error: %s\n", e.what());
    return 3;
  }
  return 0;
}
