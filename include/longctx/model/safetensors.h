// Reading Hugging Face safetensors files: an 8-byte little-endian header length N, N bytes of JSON
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}, then the tensor bytes
// (offsets relative to the end of the header). The header is validated before anything in it is
// trusted: offsets within the file, contiguous and non-overlapping, sizes = elements x dtype size.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "longctx/util/mmap.h"

namespace longctx::model {

enum class DType { kF32, kBF16, kF16 };

struct TensorInfo {
  DType dtype;
  std::vector<uint64_t> shape;
  uint64_t begin = 0, end = 0;  // byte range within the data section
  uint64_t elements() const;
};

class SafetensorsFile {
 public:
  // Throws Error("PATH: ...") for any malformed or unsupported part (dtypes: F32, BF16, F16).
  explicit SafetensorsFile(const std::string& path);
  const std::map<std::string, TensorInfo>& tensors() const { return tensors_; }
  // The tensor converted to f32 (bf16 and f16 widened exactly).
  std::vector<float> read_f32(const std::string& name) const;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  MappedFile file_;
  uint64_t data_start_ = 0;
  std::map<std::string, TensorInfo> tensors_;
};

// The weight files of a checkpoint folder: the files model.safetensors.index.json names (each
// once, in first-mention order; none outside the folder), else model.safetensors. Throws Error
// naming the folder when there is neither.
std::vector<std::string> checkpoint_files(const std::string& dir);

// One f32 tensor to write: its name, shape and elements (shape's product of them). data may be
// null when write_safetensors is given a `fill` that supplies it.
struct TensorRef {
  std::string name;
  std::vector<uint64_t> shape;
  const float* data;
};
// Supplies tensor i's elements when it is written (for data not held all at once: a sharded
// optimizer's moments gathered one tensor at a time). The pointer must stay valid until the next call.
using TensorFill = std::function<const float*(size_t index)>;
// Writes an F32 safetensors file all-or-nothing (temporary name, then rename): tensors in the order
// given, the header padded with spaces to a multiple of 8 bytes as the reference writer does.
void write_safetensors(const std::string& path, const std::vector<TensorRef>& tensors,
                       const std::map<std::string, std::string>& metadata = {{"format", "pt"}},
                       const TensorFill& fill = nullptr);

float bf16_to_f32(uint16_t v);
float f16_to_f32(uint16_t v);

}  // namespace longctx::model
