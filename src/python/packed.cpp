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

struct Options {
  bool shift_labels = false, mask_cross_document = false;
};

// One sequence's training arrays, written straight into the output rows (no temporaries of L
// elements: an item is a few streaming passes over L tokens, which is what makes a DataLoader over
// 64K-token sequences run at memory speed). cu receives the document starts and L.
void fill_sample(pack::PackedIndex& x, uint64_t k, const Options& o, int64_t* ids, int64_t* labels, int64_t* pos, std::vector<int32_t>& cu,
                 std::vector<pack::Span>& spans) {
  const uint64_t L = x.seq_len();
  const char* raw = x.tokens(k);
  if (x.token_width() == 2) {
    for (uint64_t p = 0; p < L; ++p) {
      uint16_t v;
      std::memcpy(&v, raw + 2 * p, 2);
      ids[p] = v;
    }
  } else {
    for (uint64_t p = 0; p < L; ++p) {
      uint32_t v;
      std::memcpy(&v, raw + 4 * p, 4);
      ids[p] = v;
    }
  }
  x.spans(k, spans);
  // Segments: the trainer's rule — a document starts at 0, at every span's start and right after
  // every span (so padding is a segment of its own). Spans are in order and do not overlap.
  std::vector<std::pair<uint64_t, bool>> seg;  // (start, holds document tokens)
  uint64_t at = 0;
  for (const auto& sp : spans) {
    const uint64_t a = std::min<uint64_t>(sp.start, L), b = std::min<uint64_t>(sp.end, L);
    if (a > at) seg.emplace_back(at, false);  // a gap before the span: padding
    if (b > a) seg.emplace_back(a, true);
    at = std::max(at, b);
  }
  if (at < L || seg.empty()) seg.emplace_back(at, false);
  cu.clear();
  for (size_t j = 0; j < seg.size(); ++j) {
    const uint64_t a = seg[j].first, b = j + 1 < seg.size() ? seg[j + 1].first : L;
    const bool doc = seg[j].second;
    cu.push_back(static_cast<int32_t>(a));
    for (uint64_t p = a; p < b; ++p) pos[p] = static_cast<int64_t>(p - a);
    if (!o.shift_labels) {
      // labels = input_ids (the model shifts); with mask_cross_document a document's first token,
      // which the position before it would be trained to predict, is ignored.
      for (uint64_t p = a; p < b; ++p) labels[p] = doc ? ids[p] : kIgnore;
      if (doc && o.mask_cross_document && a > 0) labels[a] = kIgnore;
      continue;
    }
    // Shifted: p's target is the next token while it lies in the same segment; at a segment's end
    // the next segment's first token, unless that is padding (or masked as another document).
    for (uint64_t p = a; p + 1 < b; ++p) labels[p] = doc ? ids[p + 1] : kIgnore;
    if (b < L) labels[b - 1] = doc && seg[j + 1].second && !o.mask_cross_document ? ids[b] : kIgnore;
  }
  cu.push_back(static_cast<int32_t>(L));
  if (o.shift_labels) {
    // The last position's target is the sequence's true next token when it has one; with
    // mask_cross_document only when the next sequence continues this document.
    const int64_t next = seg.back().second ? x.label(k) : -1;
    bool keep = next >= 0;
    if (keep && o.mask_cross_document) {
      std::vector<pack::Span> after;
      if (k + 1 < x.sequences()) x.spans(k + 1, after);
      keep = !after.empty() && after.front().start == 0 && after.front().doc_offset > 0;
    }
    labels[L - 1] = keep ? next : kIgnore;
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
    const uint64_t k = check(i);
    const auto L = static_cast<py::ssize_t>(seq_len());
    py::array_t<int64_t> ids(L), labels(L), pos(L);
    int64_t *pi = ids.mutable_data(), *pl = labels.mutable_data(), *pp = pos.mutable_data();
    std::vector<int32_t> cu;
    {
      py::gil_scoped_release unlocked;
      std::vector<pack::Span> spans;
      fill_sample(*x_, k, {shift_labels, mask_cross_document}, pi, pl, pp, cu, spans);
    }
    py::array_t<int32_t> cu_seqlens(static_cast<py::ssize_t>(cu.size()));
    std::copy(cu.begin(), cu.end(), cu_seqlens.mutable_data());
    return py::make_tuple(ids, labels, pos, cu_seqlens);
  }

  // A batch of sequences in one call, the rows filled by `threads` threads (0: all cores) without
  // the GIL: (B, L) input_ids, labels, position_ids, the flattened batch's cu_seqlens (sequence b's
  // boundaries + b*L) and max_seqlen — what longctx.collate makes of B samples, without the copies.
  py::tuple batch(const std::vector<int64_t>& indices, bool shift_labels, bool mask_cross_document, int threads) {
    std::vector<uint64_t> ks;
    for (const int64_t i : indices) ks.push_back(check(i));
    const auto B = static_cast<py::ssize_t>(ks.size()), L = static_cast<py::ssize_t>(seq_len());
    py::array_t<int64_t> ids({B, L}), labels({B, L}), pos({B, L});
    int64_t *pi = ids.mutable_data(), *pl = labels.mutable_data(), *pp = pos.mutable_data();
    std::vector<std::vector<int32_t>> cus(ks.size());
    {
      py::gil_scoped_release unlocked;
      const size_t nt = thread_count(threads, ks.size());
      run_threads(nt, [&](size_t t) {
        std::vector<pack::Span> spans;
        for (size_t b = t; b < ks.size(); b += nt) {
          const size_t off = b * static_cast<size_t>(L);
          fill_sample(*x_, ks[b], {shift_labels, mask_cross_document}, pi + off, pl + off, pp + off, cus[b], spans);
        }
      });
    }
    std::vector<int32_t> flat{0};
    int32_t longest = 0;
    for (size_t b = 0; b < cus.size(); ++b)
      for (size_t j = 1; j < cus[b].size(); ++j) {
        flat.push_back(static_cast<int32_t>(b * static_cast<size_t>(L)) + cus[b][j]);
        longest = std::max(longest, cus[b][j] - cus[b][j - 1]);
      }
    py::array_t<int32_t> cu(static_cast<py::ssize_t>(flat.size()));
    std::copy(flat.begin(), flat.end(), cu.mutable_data());
    return py::make_tuple(ids, labels, pos, cu, longest);
  }

 private:
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
           "(input_ids, labels, position_ids, cu_seqlens) numpy arrays of sequence i.")
      .def("batch", &PyPackedIndex::batch, py::arg("indices"), py::arg("shift_labels") = false, py::arg("mask_cross_document") = false,
           py::arg("threads") = 0, "(input_ids, labels, position_ids (B, L), flattened cu_seqlens, max_seqlen) of sequences `indices`.");
}

}  // namespace longctx::python
