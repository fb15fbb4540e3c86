// longctx train: continual pretraining (or pretraining from a config) on packed sequences.
#include "commands.h"
#include <filesystem>

#include "longctx/dist/mpi.h"
#include "longctx/model/config.h"
#include "longctx/tokenizer/tokenizer.h"
#include "longctx/util/error.h"
#include "longctx/train/trainer.h"

namespace longctx::cli {
namespace {

// The tokenizer a run copies into its models must fit the model: no id past the vocabulary.
void check_tokenizer(const train::TrainOptions& o) {
  const std::string src = o.tokenizer.empty() ? o.init : o.tokenizer;
  if (src.empty()) return;
  const std::string tj = std::filesystem::is_directory(src) ? src + "/tokenizer.json" : src;
  if (!std::filesystem::is_regular_file(tj) || std::filesystem::path(tj).extension() != ".json") return;
  const auto tok = tokenizer::Tokenizer::load(tj);
  const auto c = model::ModelConfig::load(o.init.empty() ? o.config : o.init + "/config.json");
  if (tok->vocab_size() > c.vocab_size)
    throw Error(tj + ": the tokenizer has " + std::to_string(tok->vocab_size()) + " ids, more than the model's vocab_size (" +
                std::to_string(c.vocab_size) + ")");
}

}  // namespace

Run add_train(CLI::App& app) {
  auto o = std::make_shared<train::TrainOptions>();
  auto* sub = app.add_subcommand("train", "continual pretraining of a LLaMA, Mistral, Qwen, Gemma or Phi-3 model on packed sequences (AdamW, ABF RoPE base, MPI data parallel)");
  sub->add_option("--data", o->data, "packed output folder (any layout; from longctx pack), or a bare .jsonl/.jsonl.zst file in the paper's schema (input_ids, labels, source spans)")->required();
  sub->add_option("--out", o->out, "output folder: checkpoints, the final model, run.json")->required();
  sub->add_option("--init", o->init, "Hugging Face checkpoint folder to continue from");
  sub->add_option("--config", o->config, "config.json of a new model (random init, N(0, --init-std))");
  sub->add_option("--tokenizer", o->tokenizer, "tokenizer.json or a folder of tokenizer files to copy next to every model written (default: --init's)");
  sub->add_option("--lr", o->adam.lr, "peak learning rate (the paper: 2e-5, constant)")->capture_default_str();
  sub->add_option("--beta1", o->adam.beta1, "AdamW beta1")->capture_default_str();
  sub->add_option("--beta2", o->adam.beta2, "AdamW beta2")->capture_default_str();
  sub->add_option("--eps", o->adam.eps, "AdamW epsilon")->capture_default_str();
  sub->add_option("--weight-decay", o->adam.weight_decay, "decoupled weight decay on matrices (not RMSNorm gains)")->capture_default_str();
  sub->add_option("--schedule", o->schedule, "constant (the paper) | cosine (ProLong)")
      ->check(CLI::IsMember({"constant", "cosine"}))
      ->capture_default_str();
  sub->add_option("--warmup", o->warmup, "linear warmup steps (from lr 0, as transformers' schedules)")->capture_default_str();
  sub->add_option("--min-lr-ratio", o->min_lr_ratio, "cosine: final learning rate as a fraction of --lr")->capture_default_str();
  sub->add_option("--clip", o->clip, "clip the global gradient norm to this (0: off)")->capture_default_str();
  sub->add_option("--batch-tokens", o->batch_tokens, "tokens per optimizer step, a multiple of the sequence length (default 8 sequences)");
  sub->add_option("--micro-batch", o->micro_batch, "sequences per forward/backward (gradient accumulation over the rest; default: about 4K tokens)");
  sub->add_flag("--doc-mask", o->doc_mask, "document masking: attend only within each packed document's span");
  sub->add_option("--rope-theta", o->rope_theta, "new RoPE base written into the checkpoints' config.json (ABF)");
  sub->add_option("--rope-scaling", o->rope_scaling, "none | dynamic:FACTOR | linear:FACTOR (the paper's checkpoints: dynamic:10)");
  sub->add_option("--max-position", o->max_position, "max_position_embeddings written into config.json");
  sub->add_option("--steps", o->steps, "optimizer steps (default: one pass over the data)");
  sub->add_option("--seed", o->seed, "seed for the data order and a random init")->capture_default_str();
  sub->add_flag("--no-shuffle", [o](int64_t) { o->shuffle = false; }, "read sequences in file order");
  sub->add_option("--save-every", o->save_every, "write a checkpoint every N steps (and always at the end)");
  sub->add_option("--keep", o->keep, "checkpoints kept (0: all)")->capture_default_str();
  sub->add_flag("--resume", o->resume, "continue from the latest checkpoint in --out (same options), or start if there is none");
  sub->add_option("--log", o->log, "one JSON line per optimizer step: step, loss, lr, grad_norm, tokens, tokens_per_s, elapsed_s");
  sub->add_option("--max-sequences", o->max_sequences, "use only the first N packed sequences");
  sub->add_option("--init-std", o->init_std, "--config: standard deviation of the random init")->capture_default_str();
  sub->add_option("--max-loss-jump", o->max_loss_jump, "stop (exit 1, nothing saved for the step) when its loss exceeds R x the previous step's (and by > 1 nat); a non-finite loss always stops (0: off)")
      ->capture_default_str();
  sub->add_option("--threads", o->threads, "threads per process (default: cores / ranks)");
  sub->add_flag("--zero1", o->zero1,
                "with several ranks: shard AdamW's moments over them (ZeRO-1; their memory / ranks); checkpoints are the files an "
                "unsharded run writes; a --resume keeps the flag (run.json)");
  sub->add_flag("--quiet", o->quiet, "no progress on stderr");
  return [o] {
    check_tokenizer(*o);
    dist::MpiSession mpi;
    try {
      return train::train(*o, mpi);
    } catch (const std::exception& e) {
      // A rank that fails mid-run (its checkpoint write, its data) would leave the others waiting
      // in the next collective for ever: say why, then end the whole job. Checkpoints are written
      // under a temporary name and renamed, so the last complete one stays for a --resume.
      if (mpi.size() <= 1) throw;
      const bool ours = dynamic_cast<const Error*>(&e) != nullptr;
      std::fprintf(stderr, "longctx: rank %d: %s%s\n", mpi.rank(), ours ? "" : "internal error: ", e.what());
      mpi.abort_all(ours ? 1 : 3);
    }
  };
}

}  // namespace longctx::cli
