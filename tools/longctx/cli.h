// The command line as a library: parse an argument list and run one subcommand. main.cpp runs it
// for the `longctx` binary; the Python package runs the data commands in process, so that
// longctx.ingest(...) takes the CLI's options and fails with the CLI's one-line messages.
#pragma once

#include <string>
#include <vector>

#include "commands.h"
#include "longctx/util/error.h"

namespace longctx::cli {

struct Command {
  const char* name;
  Run (*add)(CLI::App& app);
};

// tokenize, decode, ingest, merge, stats, mix, pack, verify, prepare: no model, no BLAS.
const std::vector<Command>& data_commands();
// generate, eval-loss, serve, report, needle, bookqa, train.
const std::vector<Command>& model_commands();

// A flag CLI11 refused (unknown option, missing value...): CLI11's message.
struct UsageError : Error {
  using Error::Error;
};

// ARGS without the program name, e.g. {"mix", "out/store", "--tokens", "1M", ...}. Returns the
// subcommand's exit status (0 after --help / --version, printed on stdout). A user error throws
// Error (its one line), a bad flag UsageError.
int run(const std::vector<std::string>& args, const std::vector<Command>& commands);

}  // namespace longctx::cli
