#include "cli.h"

#include <map>

namespace longctx::cli {

const std::vector<Command>& data_commands() {
  static const std::vector<Command> c = {{"tokenize", add_tokenize}, {"decode", add_decode}, {"ingest", add_ingest},
                                         {"merge", add_merge},       {"stats", add_stats},   {"mix", add_mix},
                                         {"pack", add_pack},         {"verify", add_verify}, {"prepare", add_prepare}};
  return c;
}

int run(const std::vector<std::string>& args, const std::vector<Command>& commands) {
  CLI::App app{"longctx: long-context data engineering (Fu et al. 2024) in C++"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(LONGCTX_VERSION));
  std::map<std::string, Run> runs;
  for (const auto& c : commands) runs[c.name] = c.add(app);
  // CLI11 parses argc/argv with the program name first.
  std::vector<const char*> argv{"longctx"};
  for (const auto& a : args) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    throw UsageError(e.what());
  }
  for (auto* sub : app.get_subcommands()) return runs.at(sub->get_name())();
  return 0;
}

}  // namespace longctx::cli
