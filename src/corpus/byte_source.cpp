#include "longctx/corpus/byte_source.h"

#include <zlib.h>
#include <zstd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "longctx/util/error.h"
#include "longctx/util/hash.h"

namespace longctx::corpus {
namespace {

constexpr size_t kChunk = 1 << 17;

// The raw bytes of a file or of standard input, with a few bytes of look-ahead for format
// detection put back in front.
class RawFile {
 public:
  explicit RawFile(const std::string& path) : name_(path == "-" ? "<stdin>" : path) {
    if (path == "-") {
      f_ = stdin;
    } else {
      f_ = std::fopen(path.c_str(), "rb");
      if (!f_) throw Error(path + ": cannot open: " + std::strerror(errno));
      owned_ = true;
    }
  }
  ~RawFile() {
    if (owned_) std::fclose(f_);
  }
  size_t read(char* buf, size_t n) {
    size_t got = 0;
    if (peek_pos_ < peek_.size()) {
      got = std::min(n, peek_.size() - peek_pos_);
      std::memcpy(buf, peek_.data() + peek_pos_, got);
      peek_pos_ += got;
      if (got == n) return got;
    }
    const size_t r = std::fread(buf + got, 1, n - got, f_);
    if (r < n - got && std::ferror(f_)) throw Error(name_ + ": read error: " + std::strerror(errno));
    hash_.update(buf + got, r);
    offset_ += r;
    return got + r;
  }
  // The first bytes of the file, without consuming them.
  const std::string& peek(size_t n) {
    while (peek_.size() < n) {
      char c[64];
      const size_t r = std::fread(c, 1, std::min(sizeof c, n - peek_.size()), f_);
      if (r == 0) break;
      peek_.append(c, r);
      hash_.update(c, r);
      offset_ += r;
    }
    return peek_;
  }
  uint64_t offset() const { return offset_; }  // bytes consumed from the file so far
  std::string hash() const { return hash_.hex(); }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  FILE* f_ = nullptr;
  bool owned_ = false;
  std::string peek_;
  size_t peek_pos_ = 0;
  uint64_t offset_ = 0;
  Hasher128 hash_;  // of every raw byte read: the input's identity in manifests
};

class PlainSource : public ByteSource {
 public:
  explicit PlainSource(std::unique_ptr<RawFile> f) : ByteSource(f->name()), f_(std::move(f)) {}
  size_t read(char* buf, size_t n) override { return f_->read(buf, n); }

  uint64_t raw_bytes() const override { return f_->offset(); }
  std::string raw_hash() const override { return f_->hash(); }

 private:
  std::unique_ptr<RawFile> f_;
};

// zstd: ZSTD_decompressStream across frames; a frame still open at the end of the file is a
// truncated file.
class ZstdSource : public ByteSource {
 public:
  explicit ZstdSource(std::unique_ptr<RawFile> f) : ByteSource(f->name()), f_(std::move(f)), in_buf_(kChunk) {
    ctx_ = ZSTD_createDStream();
    ZSTD_initDStream(ctx_);
  }
  ~ZstdSource() override { ZSTD_freeDStream(ctx_); }

  size_t read(char* buf, size_t n) override {
    ZSTD_outBuffer out{buf, n, 0};
    while (out.pos == 0) {
      if (in_.pos == in_.size) {
        const size_t r = f_->read(in_buf_.data(), in_buf_.size());
        if (r == 0) {
          if (frame_open_)
            throw Error(name_ + ": truncated zstd data (the last frame ends early, at compressed byte " +
                        std::to_string(f_->offset()) + ")");
          return 0;
        }
        in_ = ZSTD_inBuffer{in_buf_.data(), r, 0};
      }
      const size_t ret = ZSTD_decompressStream(ctx_, &out, &in_);
      if (ZSTD_isError(ret))
        throw Error(name_ + ": corrupt zstd data near compressed byte " + std::to_string(f_->offset()) + ": " +
                    ZSTD_getErrorName(ret));
      frame_open_ = ret != 0;  // 0: a frame just ended
    }
    return out.pos;
  }

  uint64_t raw_bytes() const override { return f_->offset(); }
  std::string raw_hash() const override { return f_->hash(); }

 private:
  std::unique_ptr<RawFile> f_;
  ZSTD_DStream* ctx_;
  std::vector<char> in_buf_;
  ZSTD_inBuffer in_{nullptr, 0, 0};
  bool frame_open_ = false;
};

// gzip: zlib's inflate with gzip headers; concatenated members are read one after another.
class GzipSource : public ByteSource {
 public:
  explicit GzipSource(std::unique_ptr<RawFile> f) : ByteSource(f->name()), f_(std::move(f)), in_buf_(kChunk) {
    std::memset(&z_, 0, sizeof z_);
    if (inflateInit2(&z_, 16 + MAX_WBITS) != Z_OK) throw Error(name_ + ": cannot start gzip decompression");
  }
  ~GzipSource() override { inflateEnd(&z_); }

  size_t read(char* buf, size_t n) override {
    z_.next_out = reinterpret_cast<Bytef*>(buf);
    z_.avail_out = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
    while (z_.next_out == reinterpret_cast<Bytef*>(buf)) {  // until some output
      if (z_.avail_in == 0) {
        const size_t r = f_->read(in_buf_.data(), in_buf_.size());
        if (r == 0) {
          if (member_open_)
            throw Error(name_ + ": truncated gzip data (ends inside a member, at compressed byte " +
                        std::to_string(f_->offset()) + ")");
          return 0;
        }
        z_.next_in = reinterpret_cast<Bytef*>(in_buf_.data());
        z_.avail_in = static_cast<uInt>(r);
      }
      const int ret = inflate(&z_, Z_NO_FLUSH);
      if (ret == Z_STREAM_END) {
        member_open_ = false;
        inflateReset(&z_);  // another member may follow
      } else if (ret == Z_OK || ret == Z_BUF_ERROR) {
        member_open_ = true;
      } else {
        throw Error(name_ + ": corrupt gzip data near compressed byte " + std::to_string(f_->offset()) + ": " +
                    (z_.msg ? z_.msg : "inflate error"));
      }
    }
    return static_cast<size_t>(reinterpret_cast<char*>(z_.next_out) - buf);
  }

  uint64_t raw_bytes() const override { return f_->offset(); }
  std::string raw_hash() const override { return f_->hash(); }

 private:
  std::unique_ptr<RawFile> f_;
  z_stream z_;
  std::vector<char> in_buf_;
  bool member_open_ = false;
};

}  // namespace

std::unique_ptr<ByteSource> open_source(const std::string& path) {
  auto f = std::make_unique<RawFile>(path);
  const std::string& head = f->peek(4);
  if (head.size() >= 4 && static_cast<uint8_t>(head[0]) == 0x28 && static_cast<uint8_t>(head[1]) == 0xB5 &&
      static_cast<uint8_t>(head[2]) == 0x2F && static_cast<uint8_t>(head[3]) == 0xFD)
    return std::make_unique<ZstdSource>(std::move(f));
  if (head.size() >= 2 && static_cast<uint8_t>(head[0]) == 0x1F && static_cast<uint8_t>(head[1]) == 0x8B)
    return std::make_unique<GzipSource>(std::move(f));
  return std::make_unique<PlainSource>(std::move(f));
}

}  // namespace longctx::corpus
