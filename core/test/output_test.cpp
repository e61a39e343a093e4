#include <gtest/gtest.h>
#include <oqtest/scratch_root.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "oq/output.h"

namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const char* name) {
  return oqtest::fresh_scratch(name);
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

size_t entries(const fs::path& dir) {
  return static_cast<size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

std::unique_ptr<oq::AtomicOutput> reserve(const fs::path& p) {
  auto out = oq::AtomicOutput::create(p.string());
  EXPECT_TRUE(out.ok()) << out.error().describe();
  return std::move(out.value());
}

TEST(AtomicOutput, KeepsCompoundExtensionOnTheTemporaryName) {
  EXPECT_EQ(oq::full_extension("/a/b/ct.nii.gz"), ".nii.gz");
  EXPECT_EQ(oq::full_extension("x.nrrd"), ".nrrd");
  EXPECT_EQ(oq::full_extension("noext"), "");
  const fs::path dir = fresh_dir("extension");
  auto out = reserve(dir / "vol.nii.gz");
  const std::string name = fs::path(out->temp_path()).filename().string();
  EXPECT_EQ(name.rfind(".vol.oq-" + std::to_string(::getpid()) + "-", 0), 0u) << name;
  EXPECT_EQ(name.substr(name.size() - 7), ".nii.gz");
}

TEST(AtomicOutput, TemporaryFileIsCreatedExclusivelyUnderANameNobodyCouldPlant) {
  const fs::path dir = fresh_dir("exclusive");
  auto a = reserve(dir / "vol.mha");
  auto b = reserve(dir / "vol.mha");
  EXPECT_NE(a->temp_path(), b->temp_path());
  EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(a->temp_path())));
  EXPECT_EQ(fs::file_size(a->temp_path()), 0u);
}

TEST(AtomicOutput, AbandonedOutputLeavesNothing) {
  const fs::path dir = fresh_dir("abandon");
  {
    auto out = reserve(dir / "vol.mha");
    std::ofstream(out->temp_path()) << "half";
  }
  EXPECT_TRUE(fs::is_empty(dir));
}

TEST(AtomicOutput, CommitMovesIntoPlace) {
  const fs::path dir = fresh_dir("commit");
  auto out = reserve(dir / "vol.mha");
  std::ofstream(out->temp_path()) << "whole";
  ASSERT_TRUE(out->commit().ok());
  EXPECT_EQ(slurp(dir / "vol.mha"), "whole");
  EXPECT_EQ(entries(dir), 1u);
}

TEST(AtomicOutput, WhatAKilledRunLeftIsRemovedByTheNext) {
  const fs::path dir = fresh_dir("leftovers");
  // pid 2^22+1 is above Linux's pid_max ceiling: no such process can exist.
  std::ofstream(dir / ".vol.oq-4194305-abcdef.mha") << "killed";
  const std::string live = ".vol.oq-" + std::to_string(::getppid()) + "-abcdef.mha";
  std::ofstream(dir / live) << "still writing";
  std::ofstream(dir / ".other.oq-4194305-abcdef.mha") << "another output's";
  auto out = reserve(dir / "vol.mha");
  EXPECT_FALSE(fs::exists(dir / ".vol.oq-4194305-abcdef.mha"));
  EXPECT_TRUE(fs::exists(dir / live));
  EXPECT_TRUE(fs::exists(dir / ".other.oq-4194305-abcdef.mha"));
}

TEST(CheckOutput, RefusesAnInputOfTheSameRunHoweverSpelled) {
  const fs::path dir = fresh_dir("same_as_input");
  std::ofstream(dir / "ct.mha") << "input";
  const std::string in = (dir / "ct.mha").string();
  EXPECT_FALSE(oq::check_output(in, {in}).ok());
  EXPECT_FALSE(oq::check_output((dir / "." / "ct.mha").string(), {in}).ok());
  fs::create_symlink(dir / "ct.mha", dir / "link.mha");
  EXPECT_FALSE(oq::check_output((dir / "link.mha").string(), {in}).ok());
  EXPECT_TRUE(oq::check_output((dir / "out.mha").string(), {in}).ok());
}

TEST(CheckOutput, RefusesAnExistingFileInsideAnInputFolder) {
  const fs::path dir = fresh_dir("inside_input");
  fs::create_directories(dir / "series");
  std::ofstream(dir / "series" / "slice.mha") << "input";
  const auto st = oq::check_output((dir / "series" / "slice.mha").string(), {(dir / "series").string()});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message().find("inside the input folder"), std::string::npos) << st.error().message();
  EXPECT_TRUE(oq::check_output((dir / "series" / "new.mha").string(), {(dir / "series").string()}).ok());
}

TEST(CheckOutput, RefusesDevicesFoldersAndMissingFolders) {
  const fs::path dir = fresh_dir("not_regular");
  for (const std::string& bad : {std::string("/dev/null"), dir.string(), (dir / "missing" / "x.mha").string(), std::string()}) {
    const auto st = oq::check_output(bad, {});
    EXPECT_FALSE(st.ok()) << bad;
    if (!st.ok()) {
      EXPECT_EQ(st.error().subject(), bad);
    }
  }
}

TEST(OutputSet, RefusesOneNameForTwoOutputs) {
  const fs::path dir = fresh_dir("twice");
  oq::OutputSet set({});
  ASSERT_TRUE(set.add((dir / "a.png").string()).ok());
  EXPECT_FALSE(set.add((dir / "." / "a.png").string()).ok());
}

TEST(OutputSet, AllOutputsLandTogetherOrNoneDoes) {
  const fs::path dir = fresh_dir("together");
  fs::create_directories(dir / "sub");
  std::ofstream(dir / "a.txt") << "old";
  oq::OutputSet set({});
  auto a = set.add((dir / "a.txt").string());
  auto b = set.add((dir / "sub" / "b.txt").string());
  ASSERT_TRUE(a.ok() && b.ok());
  std::ofstream(*a) << "new";
  std::ofstream(*b) << "new";
  fs::remove_all(dir / "sub");  // the second cannot be moved into place
  EXPECT_FALSE(set.commit().ok());
  EXPECT_EQ(slurp(dir / "a.txt"), "old");
  EXPECT_EQ(entries(dir), 1u) << "no temporary or kept file left";
}

TEST(OutputSet, CommitReplacesEarlierResultsAndLeavesNothingElse) {
  const fs::path dir = fresh_dir("replace");
  std::ofstream(dir / "a.txt") << "old";
  oq::OutputSet set({});
  auto a = set.add((dir / "a.txt").string());
  auto b = set.add((dir / "b.txt").string());
  std::ofstream(*a) << "new a";
  std::ofstream(*b) << "new b";
  ASSERT_TRUE(set.commit().ok());
  EXPECT_EQ(slurp(dir / "a.txt"), "new a");
  EXPECT_EQ(slurp(dir / "b.txt"), "new b");
  EXPECT_EQ(entries(dir), 2u);
}

}  // namespace
