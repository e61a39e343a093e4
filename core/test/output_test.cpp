#include <gtest/gtest.h>
#include <oqtest/scratch_root.h>

#include <filesystem>
#include <fstream>

#include "oq/output.h"

namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const char* name) {
  return oqtest::fresh_scratch(name);
}

TEST(AtomicOutput, KeepsCompoundExtensionOnTheTemporaryName) {
  EXPECT_EQ(oq::full_extension("/a/b/ct.nii.gz"), ".nii.gz");
  EXPECT_EQ(oq::full_extension("x.nrrd"), ".nrrd");
  EXPECT_EQ(oq::full_extension("noext"), "");
  oq::AtomicOutput out("/tmp/some/vol.nii.gz");
  EXPECT_EQ(oq::full_extension(out.temp_path()), ".partial-" + std::to_string(::getpid()) + ".nii.gz");
}

TEST(AtomicOutput, AbandonedOutputLeavesNothing) {
  const fs::path dir = fresh_dir("abandon");
  {
    oq::AtomicOutput out((dir / "vol.mha").string());
    std::ofstream(out.temp_path()) << "half";
  }
  EXPECT_TRUE(fs::is_empty(dir));
}

TEST(AtomicOutput, CommitMovesIntoPlace) {
  const fs::path dir = fresh_dir("commit");
  oq::AtomicOutput out((dir / "vol.mha").string());
  std::ofstream(out.temp_path()) << "whole";
  ASSERT_TRUE(out.commit().ok());
  EXPECT_TRUE(fs::exists(dir / "vol.mha"));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
}

}  // namespace
