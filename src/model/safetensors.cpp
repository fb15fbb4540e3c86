#include "longctx/model/safetensors.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "longctx/util/error.h"
#include "longctx/util/file.h"

namespace longctx::model {
namespace {

size_t dtype_size(DType t) { return t == DType::kF32 ? 4 : 2; }

}  // namespace

uint64_t TensorInfo::elements() const {
  uint64_t n = 1;
  for (const uint64_t d : shape) n *= d;
  return n;
}

float bf16_to_f32(uint16_t v) {
  const uint32_t bits = static_cast<uint32_t>(v) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

float f16_to_f32(uint16_t h) {
  const uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1F, mant = h & 0x3FF;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      int e = -1;
      uint32_t m = mant;
      do {
        ++e;
        m <<= 1;
      } while ((m & 0x400) == 0);
      bits = sign | ((127 - 15 - e) << 23) | ((m & 0x3FF) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7F800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path), file_(path) {
  auto bad = [&](const std::string& what) { return Error(path + ": " + what); };
  if (file_.size() < 8) throw bad("expected a safetensors file (8-byte header length), found " + std::to_string(file_.size()) + " bytes");
  uint64_t n;
  std::memcpy(&n, file_.data(), 8);
  if (n > file_.size() - 8 || n > (100u << 20)) throw bad("header length " + std::to_string(n) + " exceeds the file or 100 MB");
  data_start_ = 8 + n;
  const uint64_t data_size = file_.size() - data_start_;
  nlohmann::json h;
  try {
    h = nlohmann::json::parse(std::string_view(file_.data() + 8, n));
  } catch (const nlohmann::json::exception& e) {
    throw bad(std::string("header is not valid JSON: ") + e.what());
  }
  if (!h.is_object()) throw bad("header is not a JSON object");
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (const auto& [name, t] : h.items()) {
    if (name == "__metadata__") continue;
    try {
      TensorInfo info;
      const auto dt = t.at("dtype").get<std::string>();
      if (dt == "F32") info.dtype = DType::kF32;
      else if (dt == "BF16") info.dtype = DType::kBF16;
      else if (dt == "F16") info.dtype = DType::kF16;
      else throw bad("tensor " + name + ": dtype " + dt + " is not supported (F32, BF16, F16)");
      info.shape = t.at("shape").get<std::vector<uint64_t>>();
      const auto off = t.at("data_offsets").get<std::vector<uint64_t>>();
      if (off.size() != 2 || off[0] > off[1] || off[1] > data_size)
        throw bad("tensor " + name + ": data_offsets outside the data section (" + std::to_string(data_size) + " bytes)");
      info.begin = off[0];
      info.end = off[1];
      uint64_t elements = 1;
      for (const uint64_t d : info.shape) {
        if (d != 0 && elements > UINT64_MAX / 4 / d) throw bad("tensor " + name + ": shape overflows");
        elements *= d;
      }
      if (elements * dtype_size(info.dtype) != info.end - info.begin)
        throw bad("tensor " + name + ": " + std::to_string(info.end - info.begin) + " bytes for " + std::to_string(elements) +
                  " elements of " + dt);
      ranges.emplace_back(info.begin, info.end);
      tensors_.emplace(name, std::move(info));
    } catch (const nlohmann::json::exception& e) {
      throw bad("tensor " + name + ": malformed entry (" + e.what() + ")");
    }
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].first < ranges[i - 1].second) throw bad("tensors overlap in the data section");
}

std::vector<float> SafetensorsFile::read_f32(const std::string& name) const {
  const auto it = tensors_.find(name);
  if (it == tensors_.end()) throw Error(path_ + ": no tensor " + name);
  const TensorInfo& t = it->second;
  std::vector<float> out(t.elements());
  const char* p = file_.data() + data_start_ + t.begin;
  if (out.empty()) return out;  // an empty tensor: no bytes to copy (memcpy from/to null is undefined)
  if (t.dtype == DType::kF32) {
    std::memcpy(out.data(), p, out.size() * 4);
  } else {
    for (size_t i = 0; i < out.size(); ++i) {
      uint16_t v;
      std::memcpy(&v, p + 2 * i, 2);
      out[i] = t.dtype == DType::kBF16 ? bf16_to_f32(v) : f16_to_f32(v);
    }
  }
  return out;
}

std::vector<std::string> checkpoint_files(const std::string& dir) {
  std::vector<std::string> files;
  const std::string index = dir + "/model.safetensors.index.json";
  if (std::filesystem::exists(index)) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(read_file(index));
      std::map<std::string, bool> seen;
      for (const auto& [name, file] : j.at("weight_map").items()) {
        const auto f = file.get<std::string>();
        if (f.find('/') != std::string::npos) throw Error(index + ": weight file " + f + " is outside the folder");
        if (!seen[f]) files.push_back(dir + "/" + f);
        seen[f] = true;
      }
    } catch (const nlohmann::json::exception& e) {
      throw Error(index + ": malformed index: " + e.what());
    }
  } else if (std::filesystem::exists(dir + "/model.safetensors")) {
    files.push_back(dir + "/model.safetensors");
  } else {
    throw Error(dir + ": expected model.safetensors or model.safetensors.index.json");
  }
  return files;
}

void write_safetensors(const std::string& path, const std::vector<TensorRef>& tensors, const std::map<std::string, std::string>& metadata,
                       const TensorFill& fill) {
  nlohmann::ordered_json h;
  uint64_t off = 0;
  for (const auto& t : tensors) {
    uint64_t n = 1;
    for (const uint64_t d : t.shape) n *= d;
    h[t.name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {off, off + n * 4}}};
    off += n * 4;
  }
  if (!metadata.empty()) h["__metadata__"] = metadata;
  std::string header = h.dump();
  header.append((8 - header.size() % 8) % 8, ' ');
  AtomicFile f(path);
  const uint64_t len = header.size();
  char le[8];
  for (int i = 0; i < 8; ++i) le[i] = static_cast<char>((len >> (8 * i)) & 0xFF);
  f.write(std::string_view(le, 8));
  f.write(header);
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& t = tensors[i];
    uint64_t n = 1;
    for (const uint64_t d : t.shape) n *= d;
    const float* data = fill ? fill(i) : t.data;
    f.write(std::string_view(reinterpret_cast<const char*>(data), n * 4));  // little-endian hosts only (x86-64, aarch64)
  }
  f.commit();
}

}  // namespace longctx::model
