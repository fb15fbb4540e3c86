#include "decoder.h"

#include "byte_level.h"
#include "longctx/text/utf8.h"
#include "replace.h"

namespace longctx::tokenizer {
namespace {

// "<0xXX>" → the byte, or -1.
int fallback_byte(const std::string& t) {
  if (t.size() != 6 || t.compare(0, 3, "<0x") != 0 || t[5] != '>') return -1;
  auto hex = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1; };
  const int hi = hex(t[3]), lo = hex(t[4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

// Runs of byte tokens become their UTF-8 text; a run that is not valid UTF-8 becomes one U+FFFD
// per byte (HF's ByteFallback decoder).
std::vector<std::string> byte_fallback(std::vector<std::string> tokens) {
  std::vector<std::string> out;
  std::string bytes;
  size_t run = 0;
  auto flush = [&]() {
    if (!run) return;
    const std::string lossless = text::utf8_lossy(bytes);
    if (lossless == bytes) {
      out.push_back(bytes);
    } else {
      for (size_t k = 0; k < run; ++k) out.emplace_back("\xEF\xBF\xBD");
    }
    bytes.clear();
    run = 0;
  };
  for (auto& t : tokens) {
    const int b = fallback_byte(t);
    if (b >= 0) {
      bytes.push_back(static_cast<char>(b));
      ++run;
    } else {
      flush();
      out.push_back(std::move(t));
    }
  }
  flush();
  return out;
}

// Removes up to n leading (or trailing) characters equal to c.
std::string strip(const std::string& t, const std::string& c, size_t start, size_t stop) {
  size_t b = 0, e = t.size();
  for (size_t k = 0; k < start && e - b >= c.size() && t.compare(b, c.size(), c) == 0; ++k) b += c.size();
  for (size_t k = 0; k < stop && e - b >= c.size() && t.compare(e - c.size(), c.size(), c) == 0; ++k) e -= c.size();
  return t.substr(b, e - b);
}

}  // namespace

std::string run_decoder(const std::vector<DecoderStep>& steps, std::vector<std::string> tokens) {
  std::string tmp;
  for (const DecoderStep& step : steps) {
    switch (step.kind) {
      case DecoderStep::Kind::kByteLevel: {
        std::string bytes;
        for (const auto& t : tokens) bytes += byte_level_to_bytes(t);
        tokens.assign(1, text::utf8_lossy(bytes));
        break;
      }
      case DecoderStep::Kind::kReplace:
        for (auto& t : tokens) replace_all(t, step.pattern, step.content, tmp);
        break;
      case DecoderStep::Kind::kByteFallback: tokens = byte_fallback(std::move(tokens)); break;
      case DecoderStep::Kind::kFuse: {
        std::string all;
        for (const auto& t : tokens) all += t;
        tokens.assign(1, std::move(all));
        break;
      }
      case DecoderStep::Kind::kStrip:
        for (auto& t : tokens) t = strip(t, step.content, step.start, step.stop);
        break;
      case DecoderStep::Kind::kMetaspace:
        // HF drops every replacement character of the first token (not just a leading one) when a
        // prefix was prepended at encode time; elsewhere each becomes a space.
        for (size_t i = 0; i < tokens.size(); ++i)
          replace_all(tokens[i], step.content, i == 0 && step.prepend ? "" : " ", tmp);
        break;
    }
  }
  std::string out;
  for (const auto& t : tokens) out += t;
  return out;
}

}  // namespace longctx::tokenizer
