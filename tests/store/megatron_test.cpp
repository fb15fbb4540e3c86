// The Megatron writer against an independent reader (tests/store/read_megatron.py, written from
// Megatron's format description), and our validating reader against damaged files.
#include "longctx/store/megatron.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "longctx/util/error.h"

namespace longctx::store {
namespace {

namespace fs = std::filesystem;

class Megatron : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("longctx_megatron_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::vector<std::vector<uint32_t>> docs(uint32_t max_id, uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<std::vector<uint32_t>> out{{}, {0}, {max_id}};  // empty, smallest, largest
    for (int d = 0; d < 200; ++d) {
      std::vector<uint32_t> doc(rng() % 3000);
      for (auto& id : doc) id = rng() % (max_id + 1);
      out.push_back(doc);
    }
    return out;
  }

  // Writes docs with our writer and has the independent reader compare them.
  void round_trip(TokenType type, uint32_t max_id) {
    const auto input = docs(max_id, 5);
    const std::string prefix = (dir_ / "data").string();
    MegatronWriter w(prefix, type);
    for (const auto& d : input) w.add_document(d);
    EXPECT_FALSE(fs::exists(prefix + ".idx"));  // nothing visible before commit
    w.commit();
    std::ofstream expect(dir_ / "expect.json");
    expect << "{\"dtype\":\"" << (type == TokenType::kUint16 ? "uint16" : "int32") << "\",\"sequences\":[";
    for (size_t i = 0; i < input.size(); ++i) {
      expect << (i ? "," : "") << "[";
      for (size_t k = 0; k < input[i].size(); ++k) expect << (k ? "," : "") << input[i][k];
      expect << "]";
    }
    expect << "]}";
    expect.close();
    const std::string cmd = "/usr/bin/python3 " LONGCTX_SOURCE_DIR "/tests/store/read_megatron.py " + prefix +
                            " --expect " + (dir_ / "expect.json").string();
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    MegatronReader r(prefix);
    ASSERT_EQ(r.sequences(), input.size());
    for (size_t i = 0; i < input.size(); ++i) ASSERT_EQ(r.sequence(i), input[i]);
  }

  fs::path dir_;
};

TEST_F(Megatron, Uint16RoundTripThroughIndependentReader) { round_trip(TokenType::kUint16, 31999); }
TEST_F(Megatron, Int32RoundTripThroughIndependentReader) { round_trip(TokenType::kInt32, 128255); }

TEST_F(Megatron, TokenTypeFollowsMegatronsRule) {
  EXPECT_EQ(token_type_for_vocab(32000), TokenType::kUint16);
  EXPECT_EQ(token_type_for_vocab(65499), TokenType::kUint16);
  EXPECT_EQ(token_type_for_vocab(65500), TokenType::kInt32);
  EXPECT_EQ(token_type_for_vocab(128256), TokenType::kInt32);
}

TEST_F(Megatron, RefusesIdsTheTypeCannotHold) {
  MegatronWriter w((dir_ / "x").string(), TokenType::kUint16);
  const std::vector<uint32_t> doc{1, 70000};
  EXPECT_THROW(w.add_document(doc), Error);
}

TEST_F(Megatron, ReaderRejectsDamagedFiles) {
  const std::string prefix = (dir_ / "d").string();
  MegatronWriter w(prefix, TokenType::kUint16);
  const std::vector<uint32_t> doc{1, 2, 3};
  w.add_document(doc);
  w.commit();
  auto expect_error = [&](const std::string& needle) {
    try {
      MegatronReader r(prefix);
      ADD_FAILURE() << "no error, expected " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  fs::resize_file(prefix + ".bin", 4);
  expect_error("d.bin: expected 6 bytes from the index, found 4");
  fs::resize_file(prefix + ".idx", 40);
  expect_error("do not match the file size 40");
  std::fstream f(prefix + ".idx", std::ios::in | std::ios::out | std::ios::binary);
  f.write("XX", 2);
  f.close();
  expect_error("expected magic MMIDIDX");
}

}  // namespace
}  // namespace longctx::store
