// Every transfer syntax a hospital archive holds decodes to the same voxels as the uncompressed
// original. The variants are made from a real CT slice by DCMTK's and GDCM's own encoders.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "support.h"

namespace {

using namespace oqtest;

struct Variant {
  const char* name;
  const char* command;          // {in} and {out} are replaced
  const char* expected_syntax;  // as `info` names it
  bool lossless;
};

const Variant kVariants[] = {
    {"implicit", "dcmconv +ti {in} {out}", "Little Endian Implicit", true},
    {"big_endian", "dcmconv +tb {in} {out}", "Big Endian Explicit", true},
    {"deflate", "dcmconv +td {in} {out}", "Deflated Explicit VR Little Endian", true},
    {"rle", "dcmcrle {in} {out}", "RLE Lossless", true},
    {"jpeg_lossless_sv1", "dcmcjpeg +e1 {in} {out}", "JPEG Lossless, Non-hierarchical, 1st Order Prediction", true},
    {"jpeg_lossless_p14", "dcmcjpeg +el {in} {out}", "JPEG Lossless, Non-hierarchical, Process 14", true},
    {"jpeg_extended", "dcmcjpeg +ee {in} {out}", "JPEG Extended", false},
    {"jpeg_ls", "dcmcjpls {in} {out}", "JPEG-LS Lossless", true},
    {"jpeg_2000", "gdcmconv --j2k {in} {out}", "JPEG 2000", true},
};

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
  return s;
}

class TransferSyntax : public ::testing::TestWithParam<Variant> {};

TEST_P(TransferSyntax, DecodesToTheOriginalVoxels) {
  const Variant& v = GetParam();
  const std::string original = shared_dir() + "/data/dicom/ct/orthanc_SignedCT.dcm";
  const fs::path dir = scratch(std::string("ts_") + v.name);
  const fs::path encoded = dir / "encoded.dcm";
  const CliRun enc = shell(replace_all(replace_all(v.command, "{in}", quote(original)), "{out}", quote(encoded.string())));
  ASSERT_EQ(enc.exit_code, 0) << enc.err;

  const CliRun info = oncoquant("info --json --quiet " + quote(encoded.string()));
  ASSERT_EQ(info.exit_code, 0) << info.err;
  const auto j = nlohmann::json::parse(info.out);
  const std::string syntax = j["studies"][0]["series"][0]["transfer_syntaxes"][0];
  EXPECT_NE(syntax.find(v.expected_syntax), std::string::npos) << syntax;

  const fs::path a = dir / "ref.nii.gz", b = dir / "enc.nii.gz";
  ASSERT_EQ(oncoquant("convert --quiet " + quote(original) + " -o " + quote(a.string())).exit_code, 0);
  const CliRun conv = oncoquant("convert --quiet " + quote(encoded.string()) + " -o " + quote(b.string()));
  ASSERT_EQ(conv.exit_code, 0) << conv.err;
  const VolumeData ref = read_volume(a.string()), got = read_volume(b.string());
  ASSERT_EQ(ref.size, got.size);
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(ref.origin[i], got.origin[i], 1e-6);
  if (v.lossless) {
    EXPECT_EQ(ref.voxels, got.voxels);
  } else {
    double sum = 0;
    for (std::size_t i = 0; i < ref.voxels.size(); ++i) sum += std::fabs(ref.voxels[i] - got.voxels[i]);
    EXPECT_LT(sum / static_cast<double>(ref.voxels.size()), 25.0) << "mean absolute difference in HU";
  }
}

INSTANTIATE_TEST_SUITE_P(RealCtSlice, TransferSyntax, ::testing::ValuesIn(kVariants),
                         [](const ::testing::TestParamInfo<Variant>& i) { return std::string(i.param.name); });

TEST(TransferSyntaxBaseline, EightBitJpegBaselineSecondaryCapture) {
  const fs::path dir = scratch("ts_baseline");
  const std::string original = shared_dir() + "/data/dicom/ct/orthanc_SignedCT.dcm";
  ASSERT_EQ(shell("dcmj2pnm +oj +Ww 40 400 " + quote(original) + " " + quote((dir / "w.jpg").string())).exit_code, 0);
  ASSERT_EQ(shell("img2dcm " + quote((dir / "w.jpg").string()) + " " + quote((dir / "sc.dcm").string())).exit_code, 0);
  const CliRun conv =
      oncoquant("convert --quiet " + quote((dir / "sc.dcm").string()) + " -o " + quote((dir / "sc.mha").string()));
  ASSERT_EQ(conv.exit_code, 0) << conv.err;
  const VolumeData v = read_volume((dir / "sc.mha").string());
  EXPECT_EQ(v.size[0], 512u);
  // Soft-tissue window: the body is mid-grey, air is black.
  EXPECT_EQ(*std::min_element(v.voxels.begin(), v.voxels.end()), 0.0f);
  EXPECT_GT(*std::max_element(v.voxels.begin(), v.voxels.end()), 200.0f);
}

}  // namespace
