#include "longctx/train/trainer.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <thread>

#include "longctx/model/blas.h"
#include "longctx/model/checkpoint.h"
#include "longctx/pack/packed_index.h"
#include "longctx/store/megatron.h"
#include "longctx/train/model_grad.h"
#include "longctx/util/error.h"
#include "longctx/util/file.h"
#include "longctx/util/rng.h"

namespace longctx::train {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

// The packed sequences, read when a batch needs them through PackedIndex: the binary layouts
// (flat, megatron, llmc) stay memory-mapped, so the trainer's memory does not grow with the data
// (the text layouts are decoded once, 4 bytes a token, as before).
class TrainData {
 public:
  TrainData(const std::string& dir, uint64_t max_sequences) : dir_(dir), x_(dir) {
    T = x_.seq_len();
    S = max_sequences ? std::min(max_sequences, x_.sequences()) : x_.sequences();
    if (S == 0) throw Error(dir + ": no packed sequences to train on");
  }
  uint64_t S = 0, T = 0;

  // Every token below the vocabulary, checked in one streaming pass before training starts.
  void check_vocab(uint64_t vocab) {
    std::vector<uint32_t> tok(T);
    for (uint64_t i = 0; i < S; ++i) {
      decode(i, tok.data());
      for (const uint32_t t : tok)
        if (t >= vocab)
          throw Error(dir_ + ": token id " + std::to_string(t) + " (sequence " + std::to_string(i) + ") is outside the model's vocabulary (" +
                      std::to_string(vocab) + ")");
    }
  }

  // Sequence i's tokens and each position's document start: 0, every span's start and the position
  // right after every span (padding is a document of its own).
  void read(uint64_t i, uint32_t* tokens, uint32_t* doc_start) {
    decode(i, tokens);
    x_.spans(i, spans_);
    edge_.assign(T, 0);
    edge_[0] = 1;
    for (const auto& sp : spans_) {
      if (sp.start < T) edge_[sp.start] = 1;
      if (sp.end < T) edge_[sp.end] = 1;
    }
    uint32_t cur = 0;
    for (uint32_t p = 0; p < T; ++p) doc_start[p] = cur = edge_[p] ? p : cur;
  }

 private:
  void decode(uint64_t i, uint32_t* out) {
    store::decode_tokens(x_.tokens(i), T, x_.token_width() == 2 ? store::TokenType::kUint16 : store::TokenType::kInt32, out);
  }
  std::string dir_;
  pack::PackedIndex x_;
  std::vector<pack::Span> spans_;
  std::vector<uint8_t> edge_;
};

// The training config: the starting config.json with the RoPE changes asked for.
json training_config(const TrainOptions& o) {
  const std::string path = o.init.empty() ? o.config : o.init + "/config.json";
  json j;
  try {
    j = json::parse(read_file(path));
  } catch (const json::exception& e) {
    throw Error(path + ": invalid JSON: " + e.what());
  }
  if (!j.is_object()) throw Error(path + ": expected a JSON object, found " + std::string(j.type_name()));
  if (!j.contains("architectures")) j["architectures"] = {"LlamaForCausalLM"};
  if (!j.contains("model_type")) j["model_type"] = "llama";
  if (o.rope_theta > 0) j["rope_theta"] = o.rope_theta;
  if (o.max_position > 0) j["max_position_embeddings"] = o.max_position;
  if (!o.rope_scaling.empty()) {
    if (o.rope_scaling == "none") {
      j["rope_scaling"] = nullptr;
    } else {
      const auto colon = o.rope_scaling.find(':');
      const std::string kind = o.rope_scaling.substr(0, colon);
      double factor = 0;
      try {
        factor = colon == std::string::npos ? 0 : std::stod(o.rope_scaling.substr(colon + 1));
      } catch (const std::exception&) {
      }
      if ((kind != "dynamic" && kind != "linear") || !(factor >= 1.0))
        throw Error("--rope-scaling: expected none, dynamic:FACTOR or linear:FACTOR (FACTOR >= 1), found " + o.rope_scaling);
      j["rope_scaling"] = {{"type", kind}, {"factor", factor}};
    }
  }
  j["torch_dtype"] = "float32";
  return j;
}

std::vector<uint64_t> checkpoints(const std::string& out) {
  std::vector<uint64_t> steps;
  if (!fs::is_directory(out)) return steps;
  for (const auto& e : fs::directory_iterator(out)) {
    const std::string n = e.path().filename().string();
    if (n.rfind("checkpoint-", 0) == 0 && fs::exists(e.path() / "trainer_state.json")) steps.push_back(std::stoull(n.substr(11)));
  }
  std::sort(steps.begin(), steps.end());
  return steps;
}


// The files of a Hugging Face tokenizer a model folder may carry.
constexpr const char* kTokenizerFiles[] = {"tokenizer.json",     "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model",
                                           "added_tokens.json",  "vocab.json",            "merges.txt"};

// (name, content) of the tokenizer files every model this run writes carries: read once at the
// start, so a checkpoint never depends on the source still being there.
std::vector<std::pair<std::string, std::string>> tokenizer_files(const TrainOptions& o) {
  std::vector<std::pair<std::string, std::string>> out;
  const std::string src = o.tokenizer.empty() ? o.init : o.tokenizer;
  if (src.empty()) return out;
  if (!o.tokenizer.empty() && !fs::exists(src)) throw Error("--tokenizer " + src + ": no such file or folder");
  if (fs::is_regular_file(src)) {
    const std::string name = fs::path(src).filename().string();
    bool known = false;
    for (const char* f : kTokenizerFiles) known = known || name == f;
    out.emplace_back(known ? name : "tokenizer.json", read_file(src));
    return out;
  }
  for (const char* f : kTokenizerFiles)
    if (fs::is_regular_file(fs::path(src) / f)) out.emplace_back(f, read_file((fs::path(src) / f).string()));
  if (out.empty() && !o.tokenizer.empty()) throw Error("--tokenizer " + src + ": the folder holds no tokenizer files (tokenizer.json, tokenizer.model...)");
  return out;
}

void write_tokenizer(const std::vector<std::pair<std::string, std::string>>& files, const std::string& dir) {
  for (const auto& [name, content] : files) {
    AtomicFile f(dir + "/" + name);
    f.write(content);
    f.commit();
  }
}

uint64_t peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<uint64_t>(u.ru_maxrss) / 1024;
}

// Test hook: LONGCTX_TEST_KILL_AFTER_STEP=N kills the process (SIGKILL, no cleanup) right after
// optimizer step N, as a crash or a preempted job would.
void maybe_die(uint64_t step) {
  static const char* v = std::getenv("LONGCTX_TEST_KILL_AFTER_STEP");
  if (v && std::strtoull(v, nullptr, 10) == step) std::raise(SIGKILL);
}

// Test hook: LONGCTX_TEST_FAIL_AT_STEP=RANK:N makes rank RANK fail (throw Error) in step N before
// its gradients are summed, as a rank-local failure mid-run would, while the others go on into
// the collective.
void maybe_fail(int rank, uint64_t step) {
  static const char* v = std::getenv("LONGCTX_TEST_FAIL_AT_STEP");
  if (!v) return;
  char* colon = nullptr;
  const long r = std::strtol(v, &colon, 10);
  if (colon && *colon == ':' && r == rank && std::strtoull(colon + 1, nullptr, 10) == step)
    throw Error("test hook: rank " + std::to_string(rank) + " fails in step " + std::to_string(step));
}

}  // namespace

int train(const TrainOptions& o, const dist::MpiSession& mpi) {
  if (o.init.empty() == o.config.empty()) throw Error("train: give exactly one of --init MODEL_DIR and --config config.json");
  const int world = mpi.size(), rank = mpi.rank();
  const int threads = o.threads > 0 ? o.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency() / static_cast<unsigned>(world)));
  model::blas::set_num_threads(threads);
  if (!o.init.empty()) model::verify_model_files(o.init);  // before its config.json is read
  const json cj = training_config(o);
  const std::string config_text = cj.dump(2) + "\n";
  const model::ModelConfig c = model::ModelConfig::parse(config_text, o.init.empty() ? o.config : o.init + "/config.json");
  const model::WeightLayout lay(c);
  // Parameters, gradients and AdamW's two moments: 16 bytes a parameter, before any activation.
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0 && lay.total() > static_cast<uint64_t>(pages) / 16 * static_cast<uint64_t>(page))
    throw Error((o.init.empty() ? o.config : o.init + "/config.json") + ": a model of " + std::to_string(lay.total()) +
                " parameters needs " + std::to_string(lay.total() / (uint64_t{1} << 26)) + " GiB for weights, gradients and AdamW moments; this machine has " +
                std::to_string(static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) >> 30) + " GiB");
  const auto tok_files = tokenizer_files(o);
  TrainData data(o.data, o.max_sequences);
  const uint64_t T = data.T;
  data.check_vocab(c.vocab_size);
  const uint64_t batch_tokens = o.batch_tokens ? o.batch_tokens : 8 * T;
  if (batch_tokens % T != 0 || batch_tokens < T)
    throw Error("--batch-tokens " + std::to_string(batch_tokens) + " is not a multiple of the sequence length " + std::to_string(T));
  const uint64_t Bg = batch_tokens / T;
  if (Bg % static_cast<uint64_t>(world) != 0)
    throw Error("--batch-tokens gives " + std::to_string(Bg) + " sequences per step, not divisible by the " + std::to_string(world) + " ranks");
  const uint64_t per_rank = Bg / static_cast<uint64_t>(world);
  const uint64_t micro = o.micro_batch ? std::min(o.micro_batch, per_rank) : std::max<uint64_t>(1, std::min(per_rank, 4096 / T));
  const uint64_t steps = o.steps ? o.steps : std::max<uint64_t>(1, data.S / Bg);

  // The options that fix the trajectory: a resume must use the same ones.
  json run;
  run["data"] = fs::absolute(o.data).lexically_normal().string();
  run["init"] = o.init.empty() ? json(nullptr) : json(fs::absolute(o.init).lexically_normal().string());
  run["config"] = cj;
  run["lr"] = o.adam.lr;
  run["beta1"] = o.adam.beta1;
  run["beta2"] = o.adam.beta2;
  run["eps"] = o.adam.eps;
  run["weight_decay"] = o.adam.weight_decay;
  run["schedule"] = o.schedule;
  run["warmup"] = o.warmup;
  run["min_lr_ratio"] = o.min_lr_ratio;
  run["clip"] = o.clip;
  run["batch_tokens"] = batch_tokens;
  run["micro_batch"] = micro;
  run["doc_mask"] = o.doc_mask;
  run["steps"] = steps;
  run["seed"] = o.seed;
  run["shuffle"] = o.shuffle;
  run["init_std"] = o.init_std;
  run["max_sequences"] = o.max_sequences;
  run["ranks"] = world;
  // Sharding sums the gradient norm in another order (last bits of the clip factor): recorded,
  // only when on, so that runs from before the option resume as they did.
  const bool zero1 = o.zero1 && world > 1;
  if (zero1) run["zero1"] = true;
  if (zero1 && lay.total() > static_cast<uint64_t>(std::numeric_limits<int>::max()))
    throw Error("--zero1: the model has " + std::to_string(lay.total()) +
                " parameters; the sharded collectives take at most 2^31 - 1 (MPI's int counts): leave --zero1 off");
  const std::string run_text = run.dump(2) + "\n";

  std::vector<float> P(lay.total(), 0.0f), G(lay.total(), 0.0f);
  // This rank's shard of the flat buffer (all of it without --zero1) and its summed gradient.
  const uint64_t shard0 = zero1 ? mpi.shard_begin(lay.total(), rank) : 0;
  const uint64_t shard1 = zero1 ? mpi.shard_begin(lay.total(), rank + 1) : lay.total();
  AdamW opt(lay, o.adam, shard0, shard1);
  std::vector<float> Gs(zero1 ? shard1 - shard0 : 0);
  uint64_t start = 0;
  double prev_loss = 0;  // the previous step's loss (0: none yet), for the explosion check
  const auto done = checkpoints(o.out);
  if (!done.empty() && !o.resume)
    throw Error(o.out + ": already holds checkpoints (up to step " + std::to_string(done.back()) + "); pass --resume to continue, or another --out");
  if (!done.empty()) {  // resuming: the run there must be this one
    if (read_file(o.out + "/run.json") != run_text)
      throw Error(o.out + "/run.json: the run there used other options; --resume needs the same data, model and training options");
  }
  if (!done.empty()) {
    start = done.back();
    const std::string ck = o.out + "/checkpoint-" + std::to_string(start);
    // Every file against checkpoint.json's content hashes: a corrupted checkpoint is refused,
    // never trained on (a flipped byte in the AdamW moments would blow the loss up).
    if (model::has_checkpoint_manifest(ck))
      model::verify_checkpoint(ck, true);
    else if (rank == 0 && !o.quiet)
      std::fprintf(stderr, "train: %s has no checkpoint.json (written before checkpoints carried hashes): not verified\n", ck.c_str());
    try {
      const json st = json::parse(read_file(ck + "/trainer_state.json"));
      if (st.contains("loss") && st["loss"].is_number()) prev_loss = st["loss"].get<double>();
    } catch (const json::exception& e) {
      throw Error(ck + "/trainer_state.json: expected {\"step\", \"tokens\", \"loss\"}, found invalid JSON: " + e.what());
    }
    lay.load(P.data(), ck);
    // The file holds the whole moments; a shard reads its part only.
    lay.load_buffer_range(opt.m().data(), "exp_avg.", ck + "/optimizer.safetensors", shard0, shard1);
    lay.load_buffer_range(opt.v().data(), "exp_avg_sq.", ck + "/optimizer.safetensors", shard0, shard1);
    opt.set_steps(start);
  } else if (!o.init.empty()) {
    lay.load(P.data(), o.init);
  } else {
    lay.init_random(P.data(), o.seed, o.init_std);
  }
  // The log keeps the lines up to the step resumed from, so a resumed log reads as one run's.
  std::string log_keep;
  if (rank == 0) {
    fs::create_directories(o.out);
    AtomicFile rj(o.out + "/run.json");
    rj.write(run_text);
    rj.commit();
    if (!o.log.empty() && start > 0 && fs::exists(o.log)) {
      std::ifstream in(o.log);
      for (std::string line; std::getline(in, line);) {
        try {
          if (json::parse(line).at("step").get<uint64_t>() <= start) log_keep += line + "\n";
        } catch (const json::exception&) {
          break;  // a line cut by the kill
        }
      }
    }
  }
  FILE* log = nullptr;
  if (rank == 0 && !o.log.empty()) {
    {
      AtomicFile lf(o.log);
      lf.write(log_keep);
      lf.commit();
    }
    log = std::fopen(o.log.c_str(), "a");
    if (!log) throw Error(o.log + ": cannot open the log for writing");
  }

  Schedule sched{o.schedule, o.warmup, steps, o.min_lr_ratio};
  ModelGrad fb(c, lay, threads);
  const uint64_t params_count = [&] {
    uint64_t n = 0;
    for (const auto& t : lay.tensors()) n += t.size;
    return n;
  }();
  if (rank == 0 && !o.quiet)
    std::fprintf(stderr, "train: %.2fM parameters, %llu sequences of %llu tokens, %llu per step (%llu per rank, micro-batch %llu), steps %llu..%llu, %d rank(s) x %d thread(s)\n",
                 static_cast<double>(params_count) / 1e6, static_cast<unsigned long long>(data.S), static_cast<unsigned long long>(T),
                 static_cast<unsigned long long>(Bg), static_cast<unsigned long long>(per_rank), static_cast<unsigned long long>(micro),
                 static_cast<unsigned long long>(start + 1), static_cast<unsigned long long>(steps), world, threads);

  // The order sequences are read in: epoch e is a permutation seeded by (seed, e), or file order.
  std::vector<uint64_t> order;
  uint64_t order_epoch = UINT64_MAX;
  auto seq_at = [&](uint64_t k) {
    const uint64_t e = k / data.S;
    if (e != order_epoch) {
      order.resize(data.S);
      for (uint64_t i = 0; i < data.S; ++i) order[i] = i;
      if (o.shuffle) Rng(o.seed, 0x5eed0000 + e).shuffle(std::span<uint64_t>(order));
      order_epoch = e;
    }
    return order[k % data.S];
  };

  std::vector<uint32_t> mb_tokens, mb_docs;
  const auto t_begin = std::chrono::steady_clock::now();
  for (uint64_t step = start; step < steps; ++step) {
    const auto t0 = std::chrono::steady_clock::now();
    std::fill(G.begin(), G.end(), 0.0f);
    double loss_sum = 0;
    // This rank's sequences of the step: j = rank, rank + world, ... of the global batch.
    std::vector<uint64_t> mine;
    for (uint64_t j = static_cast<uint64_t>(rank); j < Bg; j += static_cast<uint64_t>(world)) mine.push_back(seq_at(step * Bg + j));
    for (uint64_t a = 0; a < mine.size(); a += micro) {
      const uint64_t b = std::min(micro, mine.size() - a);
      mb_tokens.resize(b * T);
      mb_docs.resize(b * T);
      for (uint64_t i = 0; i < b; ++i) data.read(mine[a + i], mb_tokens.data() + i * T, mb_docs.data() + i * T);
      const auto losses = fb.forward_backward(P.data(), G.data(), mb_tokens.data(), b, T, o.doc_mask ? mb_docs.data() : nullptr,
                                              1.0f / static_cast<float>(Bg));
      for (const double l : losses) loss_sum += l;
    }
    maybe_fail(rank, step + 1);
    if (zero1) {
      mpi.reduce_scatter_sum(G.data(), G.size(), Gs.data());
    } else {
      mpi.allreduce_sum(G.data(), G.size());
    }
    mpi.allreduce_sum(&loss_sum, 1);
    // A loss that is not finite or grew by orders of magnitude in one step means broken weights or
    // optimizer state (or a far too high --lr): stop before the update and before anything is saved.
    {
      const double l = loss_sum / static_cast<double>(Bg);
      if (!std::isfinite(l))
        throw Error("train: the loss is " + std::to_string(l) + " at step " + std::to_string(step + 1) + "; stopped before the update, nothing saved for this step (lower --lr?)");
      if (o.max_loss_jump > 0 && prev_loss > 0 && l > o.max_loss_jump * prev_loss && l > prev_loss + 1.0)  // and > 1 nat
        throw Error("train: the loss jumped from " + std::to_string(prev_loss) + " to " + std::to_string(l) + " at step " + std::to_string(step + 1) +
                    " (more than " + std::to_string(static_cast<uint64_t>(o.max_loss_jump)) +
                    "x, --max-loss-jump); stopped before the update, nothing saved for this step (lower --lr?)");
      prev_loss = l;
    }
    const double lr = o.adam.lr * sched.factor(step);
    // This rank's summed gradient: its shard (--zero1) or the whole buffer. With --zero1 the norm
    // sums the shards' squares over the ranks, and every rank's updated shard goes to every rank.
    float* const g = zero1 ? Gs.data() : G.data();
    double sq = sum_squares(g, opt.size());
    if (zero1) mpi.allreduce_sum(&sq, 1);
    const double norm = std::sqrt(sq);
    if (o.clip > 0) clip_gradients(g, opt.size(), norm, o.clip);
    opt.step(P.data() + shard0, g, lr);
    if (zero1) mpi.allgather_shards(P.data(), P.size());
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double loss = loss_sum / static_cast<double>(Bg), tps = static_cast<double>(Bg * T) / secs;
    if (rank == 0) {
      if (log) {
        json line;
        line["step"] = step + 1;
        line["loss"] = loss;
        line["lr"] = lr;
        line["grad_norm"] = norm;
        line["tokens"] = (step + 1) * Bg * T;
        line["tokens_per_s"] = std::round(tps * 10) / 10;
        line["elapsed_s"] = std::round(std::chrono::duration<double>(std::chrono::steady_clock::now() - t_begin).count() * 1000) / 1000;
        const std::string s = line.dump() + "\n";
        std::fwrite(s.data(), 1, s.size(), log);
        std::fflush(log);
      }
      if (!o.quiet)
        std::fprintf(stderr, "step %llu/%llu  loss %.4f  lr %.3g  grad_norm %.3f  %.0f tok/s\n", static_cast<unsigned long long>(step + 1),
                     static_cast<unsigned long long>(steps), loss, lr, norm, tps);
      if (step == start && !o.quiet)
        std::fprintf(stderr, "memory: parameters+gradients+AdamW %.1f MB%s, activations %.1f MB, peak RSS %llu MB\n",
                     static_cast<double>(lay.total() * 8 + opt.size() * 8 + Gs.size() * 4) / 1e6, zero1 ? " (moments sharded)" : "", static_cast<double>(fb.workspace_bytes()) / 1e6,
                     static_cast<unsigned long long>(peak_rss_mb()));
    }
    const bool last = step + 1 == steps;
    const bool save = last || (o.save_every && (step + 1) % o.save_every == 0);
    // A checkpoint holds the whole moments, as an unsharded run writes them. With --zero1, rank 0
    // writes them a tensor at a time, each gathered from the ranks' shards as it is written
    // (memory: one tensor); the other ranks send their parts of the same tensors in the same order.
    // Unsharded, the tensors are read in place.
    const auto& tensors = lay.tensors();
    std::vector<float> piece;
    auto moment_tensor = [&](size_t i) -> const float* {  // i: exp_avg's tensors, then exp_avg_sq's
      const auto& t = tensors[i % tensors.size()];
      const float* moment = i < tensors.size() ? opt.m().data() : opt.v().data();
      if (!zero1) return moment + t.offset;
      if (rank == 0) piece.resize(t.size);
      mpi.gather_range(moment, lay.total(), t.offset, t.offset + t.size, piece.data());
      return piece.data();
    };
    if (save && zero1 && rank != 0)
      for (size_t i = 0; i < 2 * tensors.size(); ++i) moment_tensor(i);
    if (rank == 0) {
      if (save) {
        const std::string name = "checkpoint-" + std::to_string(step + 1), tmp = o.out + "/.tmp-" + name, dst = o.out + "/" + name;
        fs::remove_all(tmp);
        fs::create_directories(tmp);
        lay.save(P.data(), config_text, tmp);
        write_tokenizer(tok_files, tmp);
        lay.save_buffers({{nullptr, "exp_avg."}, {nullptr, "exp_avg_sq."}}, tmp + "/optimizer.safetensors", moment_tensor);
        json st;
        st["step"] = step + 1;
        st["tokens"] = (step + 1) * Bg * T;
        st["loss"] = loss;
        AtomicFile sf(tmp + "/trainer_state.json");
        sf.write(st.dump(2) + "\n");
        sf.commit();
        // Content hashes of every file (docs/formats/train.md), written last.
        std::vector<std::string> listed = {"config.json", "model.safetensors"};
        for (const auto& tf : tok_files) listed.push_back(tf.first);
        const std::vector<std::string> model_files = listed;
        listed.push_back("optimizer.safetensors");
        listed.push_back("trainer_state.json");
        model::write_checkpoint_manifest(tmp, listed);
        fs::remove_all(dst);
        fs::rename(tmp, dst);
        const auto all = checkpoints(o.out);
        for (size_t i = 0; o.keep > 0 && i + o.keep < all.size(); ++i) fs::remove_all(o.out + "/checkpoint-" + std::to_string(all[i]));
        if (last) {
          fs::remove(o.out + "/checkpoint.json");  // never a stale list beside new files
          lay.save(P.data(), config_text, o.out);
          write_tokenizer(tok_files, o.out);
          model::write_checkpoint_manifest(o.out, model_files);
        }
      }
    }
    mpi.barrier();
    maybe_die(step + 1);
  }
  if (log) std::fclose(log);
  if (rank == 0 && !o.quiet) std::fprintf(stderr, "train: done, model in %s (peak RSS %llu MB)\n", o.out.c_str(), static_cast<unsigned long long>(peak_rss_mb()));
  return 0;
}

}  // namespace longctx::train
