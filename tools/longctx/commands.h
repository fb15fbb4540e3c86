// Each subcommand registers its options on the CLI11 app and returns the function that runs it.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace longctx::cli {

using Run = std::function<int()>;

Run add_tokenize(CLI::App& app);
Run add_decode(CLI::App& app);
Run add_ingest(CLI::App& app);
Run add_merge(CLI::App& app);
Run add_stats(CLI::App& app);
Run add_mix(CLI::App& app);
Run add_pack(CLI::App& app);
Run add_verify(CLI::App& app);
Run add_prepare(CLI::App& app);
Run add_generate(CLI::App& app);
Run add_eval_loss(CLI::App& app);
Run add_serve(CLI::App& app);
Run add_report(CLI::App& app);
Run add_needle(CLI::App& app);
Run add_bookqa(CLI::App& app);
Run add_train(CLI::App& app);

}  // namespace longctx::cli
