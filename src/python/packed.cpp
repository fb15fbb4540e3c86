// PackedIndex for Python: random access to packed outputs, and the training sample of a sequence
// (input_ids, labels, position_ids, cu_seqlens) built in C++ with the GIL released, so that a
// DataLoader's per-item cost is a few passes over L tokens rather than Python loops.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "bindings.h"
#include "longctx/pack/packed_index.h"
#include "longctx/store/megatron.h"

namespace py = pybind11;

namespace longctx::python {
namespace {

constexpr int64_t kIgnore = -100;  // PyTorch cross_entropy's default ignore_index

// The arrays of one sequence, filled without the GIL.
struct Sample {
  std::vector<uint32_t> tokens;
  std::vector<pack::Span> spans, next_spans;
  int64_t label = -1;
};

// Where documents start (the trainer's rule: 0, every span's start, the position after every span,
// so padding is a segment of its own) and which positions hold document tokens.
void segments(const Sample& s, uint64_t L, std::vector<uint8_t>& edge, std::vector<uint8_t>& in_doc) {
  edge.assign(L, 0);
  in_doc.assign(L, 0);
  edge[0] = 1;
  for (const auto& sp : s.spans) {
    const uint64_t a = std::min<uint64_t>(sp.start, L), b = std::min<uint64_t>(sp.end, L);
    if (a < L) edge[a] = 1;
    if (b < L) edge[b] = 1;
    std::fill(in_doc.begin() + static_cast<int64_t>(a), in_doc.begin() + static_cast<int64_t>(b), 1);
  }
}

class PyPackedIndex {
 public:
  explicit PyPackedIndex(const std::string& path) : x_(std::make_shared<pack::PackedIndex>(path)) {}

  uint64_t size() const { return x_->sequences(); }
  uint64_t seq_len() const { return x_->seq_len(); }
  std::string layout() const { return x_->layout(); }
  std::vector<std::string> domains() const { return x_->domains(); }
  int64_t pad_id() const { return x_->pad_id(); }
  uint64_t check(int64_t i) const {
    if (i < 0 || static_cast<uint64_t>(i) >= size())
      throw py::index_error("sequence " + std::to_string(i) + " is outside the output's " + std::to_string(size()));
    return static_cast<uint64_t>(i);
  }

  // Zero-copy for the binary layouts: the array's base keeps the index (and its mapping) alive.
  py::array tokens(py::object self, int64_t i) {
    const uint64_t k = check(i);
    const char* p;
    {
      py::gil_scoped_release unlocked;
      p = x_->tokens(k);
    }
    const auto n = static_cast<py::ssize_t>(seq_len());
    const unsigned w = x_->token_width();
    const bool text = x_->layout() == "jsonl" || x_->layout() == "jsonl.zst" || x_->layout() == "bare-jsonl";
    py::array a = w == 2   ? py::array(py::dtype::of<uint16_t>(), {n}, {py::ssize_t{2}}, p, self)
                  : text ? py::array(py::dtype::of<uint32_t>(), {n}, {py::ssize_t{4}}, p, self)
                         : py::array(py::dtype::of<int32_t>(), {n}, {py::ssize_t{4}}, p, self);
    a.attr("setflags")(py::arg("write") = false);
    return a;
  }
  int64_t label(int64_t i) { return x_->label(check(i)); }
  // (n, 5) int64: doc, doc_offset, start, end, domain.
  py::array_t<int64_t> spans(int64_t i) {
    std::vector<pack::Span> sp;
    x_->spans(check(i), sp);
    py::array_t<int64_t> out({static_cast<py::ssize_t>(sp.size()), py::ssize_t{5}});
    auto v = out.mutable_unchecked<2>();
    for (size_t r = 0; r < sp.size(); ++r) {
      const auto ri = static_cast<py::ssize_t>(r);
      v(ri, 0) = static_cast<int64_t>(sp[r].doc);
      v(ri, 1) = sp[r].doc_offset;
      v(ri, 2) = sp[r].start;
      v(ri, 3) = sp[r].end;
      v(ri, 4) = sp[r].domain;
    }
    return out;
  }

  // The training sample of sequence i (docs/python.md): input_ids, labels, position_ids (int64, L)
  // and cu_seqlens (int32). shift_labels: labels[p] is the token after p (the sequence's label token
  // at L - 1); else labels equal input_ids (the model shifts, as Hugging Face's and longctx's
  // trainers do). -100 marks positions without a true target: padding, and with mask_cross_document
  // a target that starts another document.
  py::tuple sample(int64_t i, bool shift_labels, bool mask_cross_document) {
    const uint64_t k = check(i), L = seq_len();
    Sample s;
    std::vector<uint8_t> edge, in_doc;
    std::vector<int32_t> cu;
    py::array_t<int64_t> ids(static_cast<py::ssize_t>(L)), labels(static_cast<py::ssize_t>(L)), pos(static_cast<py::ssize_t>(L));
    int64_t* pi = ids.mutable_data();
    int64_t* pl = labels.mutable_data();
    int64_t* pp = pos.mutable_data();
    {
      py::gil_scoped_release unlocked;
      s.tokens.resize(L);
      store::decode_tokens(x_->tokens(k), L, x_->token_width() == 2 ? store::TokenType::kUint16 : store::TokenType::kInt32, s.tokens.data());
      x_->spans(k, s.spans);
      if (shift_labels) {
        s.label = x_->label(k);
        if (mask_cross_document && s.label >= 0 && k + 1 < size()) x_->spans(k + 1, s.next_spans);
      }
      segments(s, L, edge, in_doc);
      uint64_t start = 0;
      for (uint64_t p = 0; p < L; ++p) {
        if (edge[p]) {
          start = p;
          cu.push_back(static_cast<int32_t>(p));
        }
        pi[p] = s.tokens[p];
        pp[p] = static_cast<int64_t>(p - start);
      }
      cu.push_back(static_cast<int32_t>(L));
      fill_labels(s, edge, in_doc, shift_labels, mask_cross_document, pl);
    }
    py::array_t<int32_t> cu_seqlens(static_cast<py::ssize_t>(cu.size()));
    std::copy(cu.begin(), cu.end(), cu_seqlens.mutable_data());
    return py::make_tuple(ids, labels, pos, cu_seqlens);
  }

 private:
  void fill_labels(const Sample& s, const std::vector<uint8_t>& edge, const std::vector<uint8_t>& in_doc, bool shift, bool mask_cross,
                   int64_t* out) const {
    const uint64_t L = s.tokens.size();
    if (!shift) {
      for (uint64_t p = 0; p < L; ++p) out[p] = in_doc[p] && !(mask_cross && p > 0 && edge[p]) ? s.tokens[p] : kIgnore;
      return;
    }
    for (uint64_t p = 0; p + 1 < L; ++p)
      out[p] = in_doc[p] && in_doc[p + 1] && !(mask_cross && edge[p + 1]) ? s.tokens[p + 1] : kIgnore;
    // The label token continues the last document only when the next sequence starts inside it.
    const bool continues = !s.next_spans.empty() && s.next_spans.front().start == 0 && s.next_spans.front().doc_offset > 0;
    out[L - 1] = in_doc[L - 1] && s.label >= 0 && (!mask_cross || continues) ? s.label : kIgnore;
  }

  std::shared_ptr<pack::PackedIndex> x_;
};

}  // namespace

void bind_packed(py::module_& m) {
  py::class_<PyPackedIndex>(m, "PackedIndex",
                            "Random access to a packed output (pack's folder, any layout, or a bare .jsonl file); "
                            "binary layouts are memory-mapped, text layouts decoded once.")
      .def(py::init<const std::string&>(), py::arg("path"))
      .def("__len__", &PyPackedIndex::size)
      .def_property_readonly("seq_len", &PyPackedIndex::seq_len)
      .def_property_readonly("layout", &PyPackedIndex::layout)
      .def_property_readonly("domains", &PyPackedIndex::domains)
      .def_property_readonly("pad_id", &PyPackedIndex::pad_id)
      .def("tokens", [](py::object self, int64_t i) { return self.cast<PyPackedIndex&>().tokens(self, i); }, py::arg("i"),
           "Sequence i's tokens: a read-only numpy view of the mapped shard (binary layouts), no copy.")
      .def("label", &PyPackedIndex::label, py::arg("i"), "The true token after sequence i, or -1.")
      .def("spans", &PyPackedIndex::spans, py::arg("i"), "Sequence i's document spans: (n, 5) int64 doc, doc_offset, start, end, domain.")
      .def("sample", &PyPackedIndex::sample, py::arg("i"), py::arg("shift_labels") = false, py::arg("mask_cross_document") = false,
           "(input_ids, labels, position_ids, cu_seqlens) numpy arrays of sequence i.");
}

}  // namespace longctx::python
