// `longctx train`: continual pretraining of any architecture of docs/models.md on packed sequences. Loads a
// Hugging Face checkpoint (or initialises one from a config), optionally sets a new RoPE base
// (ABF) or rope_scaling, and runs AdamW with gradient accumulation to a global batch, clipping
// and a schedule; data parallel over MPI ranks (gradients summed by allreduce). Checkpoints are
// Hugging Face folders with the optimizer state beside them; a killed run resumes exactly.
//
// OUT/ after a run:
//   config.json, model.safetensors            the final model (engine and transformers load it)
//   tokenizer.json, tokenizer_config.json...  the tokenizer files of --init or --tokenizer
//   checkpoint-STEP/{config.json, model.safetensors, tokenizer files, optimizer.safetensors, trainer_state.json,
//                    checkpoint.json (every file's size and XXH3-128; --resume and the engine verify them)}
//   run.json                                   the options that fix the trajectory (resume checks them)
#pragma once
#include <cstdint>
#include <string>

#include "longctx/dist/mpi.h"
#include "longctx/train/optimizer.h"

namespace longctx::train {

struct TrainOptions {
  std::string data, out, init, config;  // init: checkpoint folder; config: a config.json to start from random weights
  // tokenizer.json, or a folder of tokenizer files, copied next to every model written (default:
  // --init's tokenizer files), so `generate --prompt` works on a fresh checkpoint.
  std::string tokenizer;
  AdamWOptions adam;
  std::string schedule = "constant";  // constant | cosine
  uint64_t warmup = 0;
  double min_lr_ratio = 0.0;
  double clip = 1.0;  // 0: no clipping
  uint64_t batch_tokens = 0, micro_batch = 0;  // 0: 8 sequences; 0: automatic
  bool doc_mask = false, shuffle = true, resume = false, quiet = false;
  // ZeRO-1: with several ranks, each keeps AdamW's moments for its shard of the parameters only
  // (gradients reduce-scattered, the shard updated, parameters all-gathered); checkpoints hold
  // the whole moments as an unsharded run writes them.
  bool zero1 = false;
  double rope_theta = 0;          // > 0: the new base written into config.json (ABF)
  std::string rope_scaling;       // "", "none", "dynamic:F", "linear:F"
  uint64_t max_position = 0;      // > 0: max_position_embeddings written into config.json
  uint64_t steps = 0, seed = 1234, save_every = 0, keep = 2, max_sequences = 0;
  double init_std = 0.02;
  // Stop (exit 1, nothing saved for the step) when a step's loss exceeds this many times the
  // previous step's and by more than 1 nat (also across a resume: the checkpoint's loss); a non-finite loss always stops. 0: off.
  double max_loss_jump = 100;
  std::string log;
  int threads = 0;  // 0: all cores
};

// Returns the exit status; throws Error for bad input (one line naming what is wrong).
int train(const TrainOptions& o, const dist::MpiSession& mpi);

}  // namespace longctx::train
