// The Python extension `longctx._longctx` (pybind11): thin bindings over the C++ library. This
// file: the tokenizer and the store; packed.cpp and cli.cpp add the rest (bindings.h). The
// Python package (python/longctx/__init__.py) re-exports it and adds what is easier in Python.
//
// Names and defaults follow Hugging Face tokenizers' Python API where the two overlap
// (Tokenizer.from_file, encode -> Encoding with .ids, encode_batch, decode(skip_special_tokens=True),
// decode_batch, token_to_id, id_to_token, get_vocab_size), so longctx can stand in for it in
// existing scripts. Every longctx::Error becomes longctx.Error with the CLI's one-line message.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "bindings.h"
#include "longctx/store/megatron.h"
#include "longctx/store/store.h"
#include "longctx/tokenizer/tokenizer.h"
#include "longctx/util/error.h"

namespace py = pybind11;
using longctx::Error;

namespace {

// The result of one encode, as HF's Encoding where it matters: .ids, .tokens, len().
struct Encoding {
  std::vector<uint32_t> ids;
  std::shared_ptr<const longctx::tokenizer::Tokenizer> tok;
  std::vector<std::string> tokens() const {
    std::vector<std::string> out;
    out.reserve(ids.size());
    for (const uint32_t id : ids) out.push_back(tok->id_to_token(id).value_or(""));
    return out;
  }
};

class PyTokenizer {
 public:
  explicit PyTokenizer(std::shared_ptr<const longctx::tokenizer::Tokenizer> t) : tok_(std::move(t)) {}
  static PyTokenizer from_file(const std::string& path) { return PyTokenizer(longctx::tokenizer::Tokenizer::load(path)); }
  static PyTokenizer from_str(const std::string& json) { return PyTokenizer(longctx::tokenizer::Tokenizer::from_json(json, "<string>")); }

  Encoding encode(const std::string& text, bool add_special_tokens, bool parse_special) const {
    Encoding e{{}, tok_};
    {
      py::gil_scoped_release unlocked;
      longctx::tokenizer::Encoder enc(*tok_);
      enc.encode(text, {add_special_tokens, parse_special}, e.ids);
    }
    return e;
  }

  // Texts split over `threads` threads (0: all cores), each with its own Encoder, the GIL released:
  // text i is encoded by thread i % threads, so the result does not depend on scheduling.
  std::vector<Encoding> encode_batch(const std::vector<std::string>& texts, bool add_special_tokens, bool parse_special, int threads) const {
    std::vector<Encoding> out(texts.size(), Encoding{{}, tok_});
    const size_t nt = longctx::python::thread_count(threads, texts.size());
    py::gil_scoped_release unlocked;
    longctx::python::run_threads(nt, [&](size_t t) {
      longctx::tokenizer::Encoder enc(*tok_);
      for (size_t i = t; i < texts.size(); i += nt) enc.encode(texts[i], {add_special_tokens, parse_special}, out[i].ids);
    });
    return out;
  }

  std::string decode(const std::vector<uint32_t>& ids, bool skip_special_tokens) const { return tok_->decode(ids, skip_special_tokens); }
  std::vector<std::string> decode_batch(const std::vector<std::vector<uint32_t>>& seqs, bool skip_special_tokens) const {
    std::vector<std::string> out;
    out.reserve(seqs.size());
    for (const auto& s : seqs) out.push_back(tok_->decode(s, skip_special_tokens));
    return out;
  }
  std::optional<uint32_t> token_to_id(const std::string& token) const { return tok_->token_to_id(token); }
  std::optional<std::string> id_to_token(uint32_t id) const { return tok_->id_to_token(id); }
  size_t vocab_size() const { return tok_->vocab_size(); }

 private:
  std::shared_ptr<const longctx::tokenizer::Tokenizer> tok_;
};

// A document store opened read-only: documents as numpy views of the memory-mapped data.bin.
class PyStore {
 public:
  explicit PyStore(const std::string& dir) : r_(std::make_shared<longctx::store::StoreReader>(dir)) {}
  size_t size() const { return r_->docs().size(); }
  void check(int64_t i) const {
    if (i < 0 || static_cast<uint64_t>(i) >= size())
      throw py::index_error("document " + std::to_string(i) + " is outside the store's " + std::to_string(size()));
  }
  // Zero-copy: the array's base keeps the store (and its mapping) alive.
  py::array doc(py::object self, int64_t i) const {
    check(i);
    const auto& m = r_->data();
    const char* p = m.bin().data() + m.offsets()[static_cast<size_t>(i)];
    const auto n = static_cast<py::ssize_t>(m.lengths()[static_cast<size_t>(i)]);
    py::array a = m.type() == longctx::store::TokenType::kUint16
                      ? py::array(py::dtype::of<uint16_t>(), {n}, {py::ssize_t{2}}, p, self)
                      : py::array(py::dtype::of<int32_t>(), {n}, {py::ssize_t{4}}, p, self);
    a.attr("setflags")(py::arg("write") = false);  // the store's files are shared and hashed
    return a;
  }
  std::string domain(int64_t i) const {
    check(i);
    return r_->manifest().domains.at(r_->docs()[static_cast<size_t>(i)].domain).name;
  }
  py::dict stats() const {
    const auto& m = r_->manifest();
    py::dict d, domains;
    d["documents"] = m.documents;
    d["tokens"] = m.tokens;
    d["vocab_size"] = m.vocab_size;
    d["tokenizer"] = m.tokenizer_path;
    for (const auto& dm : m.domains) {
      py::dict e;
      e["documents"] = dm.documents;
      e["tokens"] = dm.tokens;
      domains[py::str(dm.name)] = e;
    }
    d["domains"] = domains;
    return d;
  }
  std::vector<std::string> domains() const {
    std::vector<std::string> out;
    for (const auto& dm : r_->manifest().domains) out.push_back(dm.name);
    return out;
  }
  void verify() const {
    py::gil_scoped_release unlocked;
    r_->verify();
  }

 private:
  std::shared_ptr<longctx::store::StoreReader> r_;
};

}  // namespace

PYBIND11_MODULE(_longctx, m) {
  m.doc() = "longctx: byte-exact Hugging Face tokenizers, document stores and packed data for long-context training";
  static py::exception<Error> error(m, "Error");
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Error& e) {
      error(e.what());
    }
  });

  py::class_<Encoding>(m, "Encoding", "The ids of one text (HF's Encoding: .ids, .tokens, len()).")
      .def_readonly("ids", &Encoding::ids)
      .def_property_readonly("tokens", &Encoding::tokens)
      .def("__len__", [](const Encoding& e) { return e.ids.size(); })
      .def("__repr__", [](const Encoding& e) { return "Encoding(num_tokens=" + std::to_string(e.ids.size()) + ")"; });

  py::class_<PyTokenizer>(m, "Tokenizer", "A Hugging Face tokenizer.json run natively, ids identical to HF tokenizers'.")
      .def_static("from_file", &PyTokenizer::from_file, py::arg("path"), "Loads tokenizer.json (refuses unsupported parts with longctx.Error).")
      .def_static("from_str", &PyTokenizer::from_str, py::arg("json"))
      .def("encode", &PyTokenizer::encode, py::arg("sequence"), py::arg("add_special_tokens") = true, py::arg("parse_special") = false,
           "Ids of a text. parse_special: turn special-token strings in the text into their ids (off: text cannot inject them).")
      .def("encode_batch", &PyTokenizer::encode_batch, py::arg("input"), py::arg("add_special_tokens") = true,
           py::arg("parse_special") = false, py::arg("threads") = 0, "Encodes many texts on `threads` threads (0: all cores), GIL released.")
      .def("decode", &PyTokenizer::decode, py::arg("ids"), py::arg("skip_special_tokens") = true)
      .def("decode_batch", &PyTokenizer::decode_batch, py::arg("sequences"), py::arg("skip_special_tokens") = true)
      .def("token_to_id", &PyTokenizer::token_to_id, py::arg("token"))
      .def("id_to_token", &PyTokenizer::id_to_token, py::arg("id"))
      .def("get_vocab_size", [](const PyTokenizer& t, bool) { return t.vocab_size(); }, py::arg("with_added_tokens") = true)
      .def_property_readonly("vocab_size", &PyTokenizer::vocab_size);

  py::class_<PyStore>(m, "Store", "A longctx document store (ingest's output), read-only and memory-mapped.")
      .def(py::init<const std::string&>(), py::arg("path"))
      .def("__len__", &PyStore::size)
      .def("doc", [](py::object self, int64_t i) { return self.cast<const PyStore&>().doc(self, i); }, py::arg("i"),
           "Document i's token ids: a read-only numpy view of the store (uint16 or int32), no copy.")
      .def("domain", &PyStore::domain, py::arg("i"))
      .def_property_readonly("domains", &PyStore::domains)
      .def("stats", &PyStore::stats, "Documents and tokens, in all and per domain (the manifest's counts).")
      .def("verify", &PyStore::verify, "Rehashes every file against the manifest; raises longctx.Error on a mismatch.");

  longctx::python::bind_packed(m);
  longctx::python::bind_cli(m);
}
