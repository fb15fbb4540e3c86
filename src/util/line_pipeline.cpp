#include "longctx/util/line_pipeline.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "longctx/util/error.h"

namespace longctx {
namespace {

constexpr size_t kBlockBytes = 1 << 18;  // lines per block: enough work to amortise hand-offs
constexpr size_t kPadding = 64;          // simdjson reads up to 64 bytes past a document

struct Block {
  uint64_t index = 0;
  uint64_t first_line = 1;
  std::string data;  // whole lines, each ending in '\n' (the last one may not), then padding
  size_t size = 0;   // bytes of data before the padding
  uint64_t lines = 0;
  std::string out;
  std::exception_ptr error;
};

// Reads the next block of whole lines; carries a partial last line over to the next call.
class BlockReader {
 public:
  BlockReader(const ReadFn& read, std::string name, uint64_t first_line)
      : read_(read), name_(std::move(name)), line_(first_line) {}

  bool next(Block& b) {
    b.data.clear();
    b.data.swap(carry_);
    // Room for a full block, a carried-over partial line and the padding, so that neither the
    // reads nor the padding reallocate (a reallocation copies the whole block).
    b.data.reserve(2 * kBlockBytes + kPadding);
    while (!eof_ && b.data.size() < kBlockBytes) {
      const size_t old = b.data.size();
      b.data.resize(old + kBlockBytes);
      const size_t n = read_(b.data.data() + old, kBlockBytes);  // may be short; 0 only at the end
      b.data.resize(old + n);
      eof_ = n == 0;
    }
    if (b.data.empty()) return false;
    if (!eof_) {
      const size_t nl = b.data.rfind('\n');
      if (nl == std::string::npos) {
        // One line longer than a block: keep reading until it ends.
        carry_.swap(b.data);
        return next_long(b);
      }
      carry_.assign(b.data, nl + 1);
      b.data.resize(nl + 1);
    }
    finish(b);
    return true;
  }

 private:
  bool next_long(Block& b) {
    std::string chunk(kBlockBytes, '\0');
    while (!eof_) {
      const size_t n = read_(chunk.data(), chunk.size());
      eof_ = n == 0;
      const size_t nl = std::string_view(chunk.data(), n).find('\n');
      if (nl != std::string_view::npos) {
        carry_.append(chunk, 0, nl + 1);
        b.data.swap(carry_);
        carry_.assign(chunk, nl + 1, n - nl - 1);
        finish(b);
        return true;
      }
      carry_.append(chunk, 0, n);
    }
    b.data.swap(carry_);
    carry_.clear();
    finish(b);
    return true;
  }
  void finish(Block& b) {
    b.index = index_++;
    b.first_line = line_;
    // memchr (vectorised in libc) from one line end to the next: std::count went byte by byte.
    b.lines = 0;
    for (const char *p = b.data.data(), *e = p + b.data.size(); (p = static_cast<const char*>(std::memchr(p, '\n', e - p))); ++p)
      ++b.lines;
    if (!b.data.empty() && b.data.back() != '\n') ++b.lines;  // a last line without '\n'
    line_ += b.lines;
    b.size = b.data.size();
    b.data.append(kPadding, '\0');
  }

  const ReadFn& read_;
  std::string name_;
  std::string carry_;
  bool eof_ = false;
  uint64_t index_ = 0, line_;
};

void process_block(LineProcessor& p, Block& b) {
  b.out.clear();
  try {
    const char* data = b.data.data();
    size_t pos = 0;
    uint64_t line = b.first_line;
    while (pos < b.size) {
      const char* nl = static_cast<const char*>(std::memchr(data + pos, '\n', b.size - pos));
      const size_t end = nl ? static_cast<size_t>(nl - data) : b.size;
      size_t len = end - pos;
      if (len && data[pos + len - 1] == '\r') --len;  // CRLF files
      p.process(std::string_view(data + pos, len), line, b.out);
      ++line;
      pos = end + 1;
    }
  } catch (...) {
    b.error = std::current_exception();
  }
}

}  // namespace

LinePipelineStats run_line_pipeline(const ReadFn& read, const std::string& name, int threads,
                                    const std::function<std::unique_ptr<LineProcessor>()>& make_processor,
                                    const std::function<void(std::string_view)>& sink,
                                    const std::function<void(uint64_t, uint64_t)>& after_block,
                                    uint64_t first_line) {
  const auto t0 = std::chrono::steady_clock::now();
  LinePipelineStats stats;
  BlockReader reader(read, name, first_line);
  auto deliver = [&](Block& b) {
    if (b.error) std::rethrow_exception(b.error);
    sink(b.out);
    stats.bytes += b.size;
    stats.lines += b.lines;
    if (after_block) after_block(stats.bytes, stats.lines);
  };

  if (threads <= 1) {
    auto p = make_processor();
    Block b;
    while (reader.next(b)) {
      process_block(*p, b);
      deliver(b);
    }
  } else {
    // threads - 1 workers, and the calling thread reads, writes, and processes blocks itself
    // whenever it would otherwise wait: N threads on N cores, none idle.
    std::mutex mu;
    std::condition_variable work_cv, done_cv;
    std::deque<std::unique_ptr<Block>> todo;
    std::map<uint64_t, std::unique_ptr<Block>> done;
    bool closing = false;
    // Blocks finished out of order wait for the oldest one; a generous window keeps the workers
    // fed meanwhile (with 3 per thread the worker idled a quarter of the time).
    const size_t max_in_flight = static_cast<size_t>(threads) * 8;
    std::vector<std::unique_ptr<LineProcessor>> processors;
    for (int t = 0; t < threads; ++t) processors.push_back(make_processor());
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) {
      pool.emplace_back([&, t] {
        while (true) {
          std::unique_ptr<Block> b;
          {
            std::unique_lock lk(mu);
            work_cv.wait(lk, [&] { return closing || !todo.empty(); });
            if (todo.empty()) return;
            b = std::move(todo.front());
            todo.pop_front();
          }
          process_block(*processors[t], *b);
          {
            std::lock_guard lk(mu);
            const uint64_t idx = b->index;
            done.emplace(idx, std::move(b));
          }
          done_cv.notify_all();
        }
      });
    }
    // Finished blocks are reused: fresh 1 MB buffers for every block cost page faults (and the
    // kernel serialises faults of one process), which showed as lost scaling.
    std::vector<std::unique_ptr<Block>> spare;
    uint64_t next_out = 0, submitted = 0;
    bool eof = false;
    std::exception_ptr failure;
    try {
      while (true) {
        while (!eof && submitted - next_out < max_in_flight) {
          std::unique_ptr<Block> b;
          if (spare.empty()) {
            b = std::make_unique<Block>();
          } else {
            b = std::move(spare.back());
            spare.pop_back();
          }
          if (!reader.next(*b)) {
            eof = true;
            break;
          }
          {
            std::lock_guard lk(mu);
            todo.push_back(std::move(b));
          }
          ++submitted;
          work_cv.notify_one();
        }
        // Deliver, in order, whatever is finished.
        while (true) {
          std::unique_ptr<Block> b;
          {
            std::lock_guard lk(mu);
            auto it = done.find(next_out);
            if (it == done.end()) break;
            b = std::move(it->second);
            done.erase(it);
          }
          ++next_out;
          deliver(*b);
          spare.push_back(std::move(b));
        }
        if (eof && next_out == submitted) break;
        // Help with the newest waiting block (workers take the oldest, which the output waits
        // for), or wait for the next one in order.
        std::unique_ptr<Block> mine;
        {
          std::unique_lock lk(mu);
          if (!todo.empty()) {
            mine = std::move(todo.back());
            todo.pop_back();
          } else if (eof || submitted - next_out >= max_in_flight) {
            done_cv.wait(lk, [&] { return done.count(next_out) > 0; });
          }
        }
        if (mine) {
          process_block(*processors[0], *mine);
          std::lock_guard lk(mu);
          const uint64_t idx = mine->index;
          done.emplace(idx, std::move(mine));
        }
      }
    } catch (...) {
      failure = std::current_exception();
    }
    {
      std::lock_guard lk(mu);
      closing = true;
      todo.clear();
    }
    work_cv.notify_all();
    for (auto& th : pool) th.join();
    if (failure) std::rethrow_exception(failure);
  }
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return stats;
}

}  // namespace longctx
