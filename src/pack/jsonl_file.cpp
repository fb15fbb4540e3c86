#include "longctx/pack/jsonl_file.h"

#include <simdjson.h>

#include <filesystem>
#include <unordered_map>

#include "longctx/corpus/byte_source.h"
#include "longctx/util/error.h"

namespace longctx::pack {

bool is_bare_jsonl(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec)) return false;
  if (fs::exists(path, ec)) return true;
  // Not there: a name that says JSONL is reported as a missing file, anything else as a missing folder.
  for (const char* ext : {".jsonl", ".jsonl.zst", ".jsonl.gz", ".json", ".zst", ".gz"}) {
    const std::string e = ext;
    if (path.size() >= e.size() && path.compare(path.size() - e.size(), e.size(), e) == 0) return true;
  }
  return false;
}

namespace {

// A short description of a JSON value for "found ..." (numbers and short strings as they are).
std::string describe(simdjson::dom::element v) {
  switch (v.type()) {
    case simdjson::dom::element_type::ARRAY: return "an array";
    case simdjson::dom::element_type::OBJECT: return "an object";
    case simdjson::dom::element_type::STRING: {
      const std::string s(v.get_string().value_unsafe());
      return s.size() <= 40 ? "the string \"" + s + "\"" : "a string";
    }
    case simdjson::dom::element_type::BOOL: return v.get_bool().value_unsafe() ? "true" : "false";
    case simdjson::dom::element_type::NULL_VALUE: return "null";
    default: return simdjson::minify(v);
  }
}

}  // namespace

struct BareJsonlReader::Impl {
  std::string path;
  uint64_t L = 0, S = 0, line_no = 0, span_count = 0;
  std::vector<std::string> domains;
  std::unordered_map<std::string, uint16_t> domain_index;
  std::unique_ptr<corpus::ByteSource> src;
  std::string pending;
  size_t pending_pos = 0;
  bool eof = false;
  simdjson::dom::parser parser;

  void open() {
    src = corpus::open_source(path);
    pending.clear();
    pending_pos = 0;
    eof = false;
    line_no = 0;
    span_count = 0;
  }

  // The next line (without '\n' or a trailing '\r'); false at the end of the data.
  bool next_line(std::string& line) {
    while (true) {
      const size_t nl = pending.find('\n', pending_pos);
      if (nl != std::string::npos) {
        line.assign(pending, pending_pos, nl - pending_pos);
        pending_pos = nl + 1;
        break;
      }
      if (eof) {
        if (pending_pos >= pending.size()) return false;
        line.assign(pending, pending_pos, std::string::npos);  // a last line without '\n'
        pending_pos = pending.size();
        break;
      }
      pending.erase(0, pending_pos);
      pending_pos = 0;
      char buf[1 << 16];
      const size_t n = src->read(buf, sizeof buf);
      if (n == 0) eof = true;
      pending.append(buf, n);
    }
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return true;
  }

  [[noreturn]] void fail(const std::string& expected, const std::string& found) const {
    throw Error(path + ":" + std::to_string(line_no) + ": expected " + expected + ", found " + found);
  }

  // Parses and checks one row; the first row fixes L. Fills tokens (L ids) and spans.
  void parse_row(const std::string& line, std::vector<uint32_t>& tokens, std::vector<Span>& spans) {
    if (line.find_first_not_of(" \t") == std::string::npos) fail("a JSON object (one row per line)", "an empty line");
    simdjson::dom::element row;
    if (const auto err = parser.parse(line).get(row)) fail("a JSON object", std::string("invalid JSON (") + simdjson::error_message(err) + ")");
    simdjson::dom::object obj;
    if (row.get(obj)) fail("a JSON object", describe(row));
    simdjson::dom::element ids_el;
    if (obj["input_ids"].get(ids_el)) fail("an \"input_ids\" array of token ids", "no \"input_ids\"");
    simdjson::dom::array ids;
    if (ids_el.get(ids)) fail("\"input_ids\" an array of token ids", describe(ids_el));
    const uint64_t n = ids.size();
    if (n == 0) fail("\"input_ids\" a non-empty array of token ids", "[]");
    if (L == 0) L = n;
    if (n != L) fail("\"input_ids\" of " + std::to_string(L) + " ids (as line 1)", std::to_string(n) + " ids");
    tokens.resize(L);
    size_t i = 0;
    for (const auto v : ids) {
      uint64_t x;
      if (v.get(x) || x > UINT32_MAX) fail("input_ids[" + std::to_string(i) + "] a token id (an integer in [0, 2^32))", describe(v));
      tokens[i++] = static_cast<uint32_t>(x);
    }
    simdjson::dom::element lab;
    if (!obj["labels"].get(lab)) {
      simdjson::dom::array la;
      uint64_t x;
      if (!lab.get(la)) {
        if (la.size() != L) fail("\"labels\" the next token id or an array of " + std::to_string(L) + " ids (as input_ids)", std::to_string(la.size()) + " ids");
        size_t k = 0;
        for (const auto v : la) {
          int64_t y;  // -100 (ignored position) is what HF-style label arrays hold
          if (v.get(y) || y < -100 || y > static_cast<int64_t>(UINT32_MAX))
            fail("labels[" + std::to_string(k) + "] a token id or -100", describe(v));
          ++k;
        }
      } else if (lab.get(x) || x > UINT32_MAX) {
        fail("\"labels\" the next token id (an integer in [0, 2^32)) or an array of " + std::to_string(L) + " ids", describe(lab));
      }
    }
    spans.clear();
    simdjson::dom::element src_el;
    if (!obj["source"].get(src_el)) {
      simdjson::dom::array arr;
      if (src_el.get(arr)) fail("\"source\" an array of {\"source\", \"start\", \"end\"} spans", describe(src_el));
      uint64_t prev_end = 0;
      size_t k = 0;
      for (const auto sp : arr) {
        const std::string at = "source[" + std::to_string(k) + "]";
        simdjson::dom::object so;
        if (sp.get(so)) fail(at + " an object {\"source\", \"start\", \"end\"}", describe(sp));
        std::string_view name;
        simdjson::dom::element f;
        if (so["source"].get(f)) fail(at + ".source a domain name", "no \"source\"");
        if (f.get(name)) fail(at + ".source a domain name (a string)", describe(f));
        uint64_t start, end;
        if (so["start"].get(f)) fail(at + ".start", "no \"start\"");
        if (f.get(start)) fail(at + ".start a non-negative integer", describe(f));
        if (so["end"].get(f)) fail(at + ".end", "no \"end\"");
        if (f.get(end)) fail(at + ".end a non-negative integer", describe(f));
        if (start < prev_end)
          fail(at + " to start at or after the previous span's end " + std::to_string(prev_end), "start " + std::to_string(start));
        if (end <= start || end > L)
          fail(at + " start < end <= " + std::to_string(L), "start " + std::to_string(start) + ", end " + std::to_string(end));
        prev_end = end;
        auto it = domain_index.find(std::string(name));
        if (it == domain_index.end()) {
          if (domains.size() > UINT16_MAX) fail("at most 65536 distinct source names", "more");
          it = domain_index.emplace(std::string(name), static_cast<uint16_t>(domains.size())).first;
          domains.emplace_back(name);
        }
        spans.push_back(Span{span_count++, 0, static_cast<uint32_t>(start), static_cast<uint32_t>(end), it->second});
        ++k;
      }
    }
  }
};

BareJsonlReader::BareJsonlReader(const std::string& path) : impl_(std::make_unique<Impl>()) {
  auto& m = *impl_;
  m.path = path;
  m.open();
  std::string line;
  std::vector<uint32_t> tokens;
  std::vector<Span> spans;
  while (m.next_line(line)) {
    m.parse_row(line, tokens, spans);
    ++m.S;
  }
  if (m.S == 0) throw Error(path + ":1: expected rows of the paper's schema ({\"input_ids\": [...], \"labels\", \"source\"}), found an empty file");
  m.open();  // rows are read again, in order, by next()
}

BareJsonlReader::~BareJsonlReader() = default;
uint64_t BareJsonlReader::sequences() const { return impl_->S; }
uint64_t BareJsonlReader::seq_len() const { return impl_->L; }
const std::vector<std::string>& BareJsonlReader::domains() const { return impl_->domains; }

bool BareJsonlReader::next(std::vector<uint32_t>& tokens, std::vector<Span>& spans) {
  std::string line;
  if (!impl_->next_line(line)) return false;
  impl_->parse_row(line, tokens, spans);
  return true;
}

}  // namespace longctx::pack
