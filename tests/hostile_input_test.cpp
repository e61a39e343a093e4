// Hostile input (issue 20): flags and files that once gave clinical answers OncoQuant had no right
// to give, crashed it or overwrote its input (../shared/data/bad-input/README.md lists each). Every
// one is now refused with the reason, or, where a slide simply holds nothing to count, answered as
// not evaluable - and `phenotype` never derives a group from that.
#include <gtest/gtest.h>

#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support.h"

namespace {

using namespace oqtest;
using nlohmann::json;

std::string bad(const std::string& name) {
  return shared_dir() + "/data/bad-input/" + name;
}
// How many entries a folder holds: what a run left behind.
size_t entries(const fs::path& dir) {
  return static_cast<size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}
std::string tile() {
  return shared_dir() + "/data/ihc/skimage_ihc.png";
}

// Exit 2 (a usage error) whose message names `flag`.
void expect_usage_error(const std::string& args, const std::string& flag) {
  SCOPED_TRACE(args);
  const CliRun r = oncoquant(args);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err.rfind("usage error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(flag), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << "no answer on stdout: " << r.out;
}

TEST(HostileFlags, NumbersMustBeWholeFiniteAndInRange) {
  const std::string ihc = "ihc " + quote(tile()) + " --marker ER --json";
  for (const char* mpp : {"nan", "1e-300", "5abc", "0x10", "100", "inf", "-0.5", " 0.5", ""})
    expect_usage_error(ihc + " --mpp " + quote(mpp), "--mpp");
  expect_usage_error(ihc + " --mpp 0.5 --threads 100000", "--threads");
  expect_usage_error(ihc + " --mpp 0.5 --threads 2x", "--threads");
  expect_usage_error(ihc + " --mpp 0.5 --background nan,nan,nan", "--background");
  expect_usage_error(ihc + " --mpp 0.5 --background 240,240", "--background");
  expect_usage_error("phenotype --er-pct nan --pr-pct nan --her2-score 0", "--er-pct");
  expect_usage_error("phenotype --er-pct 5 --pr-pct 1e999 --her2-score 0", "--pr-pct");
  const std::string ct = quote(shared_dir() + "/data/dicom/ct/orthanc_SignedCT.dcm");
  expect_usage_error("segment " + ct + " --seed nan,nan,nan", "--seed");
  expect_usage_error("segment " + ct + " --seed 1,2,inf", "--seed");
  expect_usage_error("segment " + ct + " --line nan,0,0,1,1,1", "--line");
  expect_usage_error("segment " + ct + " --seed 1e300,0,0", "--seed");
  expect_usage_error("recist assess --db " + quote((scratch("flags") / "none.db").string()) + " --patient P --line nan",
                     "--line");
  expect_usage_error("store import-case x.json --db s.db --patient P --line 1e999", "--line");
}

TEST(HostileFlags, TheSameNumbersWrittenPlainlyAreAccepted) {
  const CliRun r = oncoquant("phenotype --er-pct 12.5 --pr-pct 0 --her2-score 0 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["group"], 1);
}

// An all-white image (a binary PPM): glass, no tissue, nothing to count.
fs::path blank_image(const fs::path& dir) {
  const fs::path ppm = dir / "glass.ppm";
  std::ofstream out(ppm, std::ios::binary);
  out << "P6\n64 64\n255\n" << std::string(64 * 64 * 3, '\xff');
  return ppm;
}

TEST(NotEvaluable, NoCellsFoundIsNotNegativeAndGivesNoPhenotype) {
  const fs::path dir = scratch("not_evaluable");
  const fs::path glass = blank_image(dir);
  const CliRun r = oncoquant("ihc " + quote(glass.string()) + " --marker ER --mpp 0.5 --json --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_FALSE(j["evaluable"].get<bool>());
  EXPECT_NE(j["not_evaluable_reason"].get<std::string>().find("no tissue"), std::string::npos) << j["not_evaluable_reason"];
  EXPECT_EQ(j["category"], "not evaluable");
  EXPECT_TRUE(j["percent_positive"].is_null());
  const fs::path er = dir / "er.json";
  std::ofstream(er) << r.out;
  // Whatever the other markers say, no group comes from a slide that could not be scored.
  const CliRun p = oncoquant("phenotype --er " + quote(er.string()) + " --pr-pct 0 --her2-score 0");
  EXPECT_EQ(p.exit_code, 1) << p.out;
  EXPECT_NE(p.err.find("not evaluable"), std::string::npos) << p.err;
  EXPECT_EQ(p.out.find("group"), std::string::npos) << p.out;
  // The text form says so too.
  const CliRun text = oncoquant("ihc " + quote(glass.string()) + " --marker PR --mpp 0.5 --quiet");
  EXPECT_NE(text.out.find("NOT EVALUABLE"), std::string::npos) << text.out;
}

TEST(NotEvaluable, RegionsAndStainsThatLeaveNothingToCountAreRefused) {
  const std::string ihc = "ihc " + quote(tile()) + " --marker ER --mpp 0.5 --json --quiet";
  struct Case {
    std::string args, file, says;
  };
  for (const Case& c : {Case{" --roi ", "roi_empty_coordinates.json", "no coordinates"},
                        Case{" --roi ", "roi_outside_image.json", "outside the slide"},
                        Case{" --stains ", "stains_parallel.json", "cannot be told apart"}}) {
    SCOPED_TRACE(c.file);
    const CliRun r = oncoquant(ihc + c.args + quote(bad(c.file)));
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(c.file), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
}

TEST(HostileOutputs, OutputsAreCheckedBeforeTheAnalysisAndNeverReplaceTheInput) {
  const fs::path dir = scratch("hostile_outputs");
  const fs::path slide = dir / "slide.png";
  fs::copy_file(tile(), slide);
  const auto before = fs::file_size(slide);
  const std::string ihc = "ihc " + quote(slide.string()) + " --marker ER --mpp 0.5 --quiet";
  expect_usage_error(ihc + " --overlay " + quote((dir / "out.txt").string()), "--overlay");
  expect_usage_error(ihc + " --overlay " + quote((dir / "noextension").string()), "--overlay");
  const CliRun same = oncoquant(ihc + " --overlay " + quote(slide.string()));
  EXPECT_EQ(same.exit_code, 1);
  EXPECT_NE(same.err.find("is also an input of this run"), std::string::npos) << same.err;
  EXPECT_EQ(fs::file_size(slide), before);
  // Not a regular file (a named pipe here; a device node the same): refused, left as it was.
  const fs::path fifo = dir / "d.geojson";
  ASSERT_EQ(shell("mkfifo " + quote(fifo.string())).exit_code, 0);
  const CliRun pipe = oncoquant(ihc + " --detections " + quote(fifo.string()));
  EXPECT_EQ(pipe.exit_code, 1);
  EXPECT_NE(pipe.err.find("not a regular file"), std::string::npos) << pipe.err;
  EXPECT_TRUE(fs::is_fifo(fifo));
  EXPECT_EQ(entries(dir), 2u) << "nothing else written";
  // The two outputs of one run cannot share a name (the second would replace the first).
  const CliRun twice =
      oncoquant(ihc + " --overlay " + quote((dir / "o.png").string()) + " --detections " + quote((dir / "." / "o.png").string()));
  EXPECT_NE(twice.exit_code, 0);
}

// `convert same.mha -o same.mha` once replaced the DICOM input with its own conversion.
TEST(HostileOutputs, ConvertNeverReplacesItsInputNorANonRegularFile) {
  const fs::path dir = scratch("convert_outputs");
  const fs::path input = dir / "same.mha";  // a DICOM file with a volume's name
  fs::copy_file(shared_dir() + "/data/dicom/ct/orthanc_SignedCT.dcm", input);
  const auto before = fs::file_size(input);
  const CliRun same = oncoquant("convert --quiet " + quote(input.string()) + " -o " + quote(input.string()));
  EXPECT_EQ(same.exit_code, 1);
  EXPECT_EQ(same.err.rfind("error: ", 0), 0u) << same.err;
  EXPECT_NE(same.err.find("is also an input of this run"), std::string::npos) << same.err;
  EXPECT_EQ(fs::file_size(input), before);
  // A folder input: an existing file inside it may be one of the slices read.
  const CliRun inside = oncoquant("convert --quiet " + quote(dir.string()) + " -o " + quote(input.string()));
  EXPECT_EQ(inside.exit_code, 1) << inside.err;
  EXPECT_EQ(fs::file_size(input), before);
  const fs::path fifo = dir / "pipe.nii.gz";
  ASSERT_EQ(shell("mkfifo " + quote(fifo.string())).exit_code, 0);
  const CliRun pipe = oncoquant("convert --quiet " + quote(input.string()) + " -o " + quote(fifo.string()));
  EXPECT_EQ(pipe.exit_code, 1);
  EXPECT_NE(pipe.err.find("not a regular file"), std::string::npos) << pipe.err;
  EXPECT_TRUE(fs::is_fifo(fifo));
}

// What `kill -9` left (hidden temporary files of a process that is gone) is cleaned by the next run
// writing the same output; the next run's own output is complete and nothing else remains.
TEST(HostileOutputs, TheNextRunCleansWhatAKilledRunLeft) {
  const fs::path dir = scratch("killed_leftovers");
  const fs::path left = dir / ".ct.oq-4194305-AbCdEf.nii.gz";  // pid beyond Linux's pid_max: gone
  std::ofstream(left) << "half a volume";
  const CliRun r = oncoquant("convert --quiet " + quote(shared_dir() + "/data/dicom/ct/orthanc_SignedCT.dcm") + " -o " +
                             quote((dir / "ct.nii.gz").string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(left));
  EXPECT_EQ(entries(dir), 1u);
}

// An answer that never reached stdout is not a success.
TEST(HostileOutputs, AFullStandardOutputIsAFailure) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full here";
  const std::string example = quote(shared_dir() + "/specs/examples/recist-case-pr.json");
  for (const std::string& args :
       {"info --json --quiet " + quote(shared_dir() + "/data/dicom/ct/orthanc_SignedCT.dcm"), "recist assess " + example,
        "recist assess --json " + example, std::string("phenotype --er-pct 50 --pr-pct 20 --her2-score 0 --json")}) {
    SCOPED_TRACE(args);
    const CliRun r = shell("{ " + quote(oncoquant_binary()) + " " + args + " > /dev/full; }");
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find("standard output"), std::string::npos) << r.err;
  }
}

// Each DICOM file of ../shared/data/bad-input that once crashed `info` or `convert`, hung, took
// gigabytes or wrote NaN volumes: refused at once (exit 1, "error:" naming the file and the reason,
// no output), and `info` lists it as unusable instead of aborting.
TEST(HostileDicom, EveryBadFileIsRefusedWithItsReasonAndNothingWritten) {
  struct Case {
    const char* file;
    const char* says;
  };
  const Case cases[] = {{"pixel_spacing_nan.dcm", "Pixel Spacing"},
                        {"pixel_spacing_inf.dcm", "Pixel Spacing"},
                        {"pixel_spacing_1e308.dcm", "Pixel Spacing"},
                        {"pixel_spacing_zero.dcm", "Pixel Spacing"},
                        {"orientation_nan.dcm", "Image Orientation"},
                        {"orientation_zero.dcm", "Image Orientation"},
                        {"position_nan.dcm", "Image Position"},
                        {"ct_rescale_slope_nan.dcm", "Rescale Slope"},
                        {"pet_rescale_slope_nan.dcm", "Rescale Slope"},
                        {"pet_dose_nan.dcm", "Radionuclide Total Dose (0018,1074) is not a number"},
                        {"pet_weight_nan.dcm", "Patient's Weight (0010,1030) is not a number"},
                        {"pet_halflife_nan.dcm", "Radionuclide Half Life (0018,1075) is not a number"},
                        {"deep_sequence_20000.dcm", "nested more than"},
                        {"jpegls_numberofframes_2147483647.dcm", "2147483647 frames"},
                        {"rle_numberofframes_2147483647.dcm", "2147483647 frames"},
                        {"jpegls_rows_cols_65535.dcm", "65535 x 65535"},
                        {"rle_rows_cols_65535.dcm", "65535 x 65535"},
                        {"rle_bitsallocated_64.dcm", "Bits Allocated"},
                        {"rle_bitsallocated_7.dcm", "Bits Allocated"},
                        {"pet_series_same_sop_uid", "share SOP Instance UID"}};
  const fs::path out = scratch("hostile_dicom") / "out.nii.gz";
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    const CliRun r = oncoquant("convert --quiet " + quote(bad(c.file)) + " -o " + quote(out.string()));
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(c.file), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(out));
    const CliRun info = oncoquant("info --json --quiet " + quote(bad(c.file)));
    EXPECT_LT(info.exit_code, 2) << info.err;  // a listing, or "nothing usable": never a crash
    EXPECT_TRUE(json::accept(info.out)) << info.out;
  }
}

TEST(HostileDicom, Latin1TextIsShownAsTextNotACrash) {
  for (const char* input : {"latin1_series_description.dcm", "folder_with_latin1"}) {
    SCOPED_TRACE(input);
    const CliRun info = oncoquant("info --json --quiet " + quote(bad(input)));
    ASSERT_EQ(info.exit_code, 0) << info.err;
    EXPECT_NE(info.out.find("\u00fc"), std::string::npos) << "ISO_IR 100 'ue' as its code point: " << info.out.substr(0, 600);
  }
}

}  // namespace

namespace {

// The study store under hostile conditions (issue 20 part 3).
std::string example_case() {
  return quote(shared_dir() + "/specs/examples/recist-case-pr.json");
}

TEST(HostileStore, TwoWritersCreatingOneNewStoreBothSucceed) {
  const fs::path dir = scratch("store_race");
  for (int round = 0; round < 8; ++round) {
    SCOPED_TRACE(round);
    const fs::path db = dir / ("s" + std::to_string(round) + ".sqlite");
    auto writer = [&](const char* patient, const char* rc) {
      return "(" + quote(oncoquant_binary()) + " store import-case " + example_case() + " --db " + quote(db.string()) +
             " --patient " + patient + " --line 1 --author a; echo $? > " + quote((dir / rc).string()) + ")";
    };
    ASSERT_EQ(shell(writer("P-1", "rc1") + " & " + writer("P-2", "rc2") + " & wait").exit_code, 0);
    EXPECT_EQ(read_text(dir / "rc1"), "0\n");
    EXPECT_EQ(read_text(dir / "rc2"), "0\n");
    for (const char* p : {"P-1", "P-2"})
      EXPECT_EQ(oncoquant("recist assess --db " + quote(db.string()) + " --patient " + p).exit_code, 0) << p;
  }
}

TEST(HostileStore, AForeignSqliteFileIsRefusedAndLeftAsItWas) {
  const fs::path db = scratch("store_foreign") / "pacs_cache.sqlite";
  ASSERT_EQ(shell("sqlite3 " + quote(db.string()) + " 'CREATE TABLE images(uid TEXT); INSERT INTO images VALUES (1);'").exit_code,
            0);
  const auto before = read_text(db);
  for (const std::string& args : {"store audit --db " + quote(db.string()),
                                  "store import-case " + example_case() + " --db " + quote(db.string()) + " --patient P --line 1",
                                  "recist assess --db " + quote(db.string()) + " --patient P"}) {
    SCOPED_TRACE(args);
    const CliRun r = oncoquant(args);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("not an OncoQuant study store"), std::string::npos) << r.err;
  }
  EXPECT_TRUE(read_text(db) == before) << "no schema added";
}

TEST(HostileStore, ReadingAMissingStoreCreatesNothing) {
  const fs::path db = scratch("store_missing") / "none.sqlite";
  for (const std::string& args :
       {"store history --db " + quote(db.string()) + " --patient P --lesion T1", "store audit --db " + quote(db.string()),
        "recist assess --db " + quote(db.string()) + " --patient P"}) {
    SCOPED_TRACE(args);
    const CliRun r = oncoquant(args);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("no such study store"), std::string::npos) << r.err;
    EXPECT_TRUE(fs::is_empty(db.parent_path()));
  }
}

// A store on a read-only share (the file and its folder not writable): it is read as it is.
// Permissions do not bind root, so as root the commands run as `nobody`.
TEST(HostileStore, AReadOnlyStoreCanBeRead) {
  const fs::path dir = scratch("store_read_only") / "share";
  fs::create_directories(dir);
  const fs::path db = dir / "study.sqlite";
  ASSERT_EQ(oncoquant("store import-case " + example_case() + " --db " + quote(db.string()) + " --patient P --line 1 --author a")
                .exit_code,
            0);
  const std::string as_reader = ::geteuid() == 0 ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : "";
  ASSERT_EQ(shell("chmod 0444 " + quote(db.string()) + " && chmod 0555 " + quote(dir.string())).exit_code, 0);
  const auto before = read_text(db);
  for (const std::string& args :
       {"store audit --json --db " + quote(db.string()), "store history --db " + quote(db.string()) + " --patient P --lesion T1",
        "recist assess --db " + quote(db.string()) + " --patient P"}) {
    SCOPED_TRACE(args);
    const CliRun r = shell(as_reader + quote(oncoquant_binary()) + " " + args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_FALSE(r.out.empty());
  }
  EXPECT_TRUE(read_text(db) == before);
  shell("chmod 0755 " + quote(dir.string()));
}

}  // namespace

namespace {

// RECIST case JSON that once threw, answered from impossible numbers, or read endlessly: refused
// naming the file and what is wrong in it, by `recist assess` and `store import-case` alike.
TEST(HostileJson, CasesThatCannotBeAssessedAreRefusedNamingThePath) {
  const fs::path dir = scratch("hostile_json");
  const fs::path dup = dir / "duplicate_key.json";
  std::ofstream(dup) << R"({"criteria": "RECIST1.1", "criteria": "iRECIST", "baseline": {}, "followups": []})";
  struct Case {
    std::string file, says;
  };
  for (const Case& c : {Case{bad("recist_number_1e999.json"), "number overflow"},
                        Case{bad("recist_baseline_1e308.json"), "$.baseline.lesions[0].long_axis_mm: must be <= 1000 mm"},
                        Case{bad("recist_merge_cycle.json"), "itself merged into"},
                        Case{dup.string(), "$.criteria: the key is given twice"}, Case{"/dev/zero", "larger than 64 MiB"}}) {
    SCOPED_TRACE(c.file);
    for (const std::string& cmd :
         {"recist assess " + quote(c.file),
          "store import-case " + quote(c.file) + " --db " + quote((dir / "s.sqlite").string()) + " --patient P --line 1"}) {
      const CliRun r = oncoquant(cmd);
      EXPECT_EQ(r.exit_code, 1) << cmd;
      EXPECT_EQ(r.err.rfind("error: " + c.file, 0), 0u) << r.err;
      EXPECT_NE(r.err.find(c.says), std::string::npos) << r.err;
      EXPECT_TRUE(r.out.empty());
    }
  }
}

TEST(HostileJson, RoiAndStainFilesAreReadStrictlyToo) {
  const fs::path dir = scratch("hostile_json_ihc");
  const fs::path roi = dir / "roi.json";
  std::ofstream(roi) << R"({"type": "Polygon", "coordinates": [[[0, 0], [1e999, 0], [5, 5]]]})";
  const std::string ihc = "ihc " + quote(tile()) + " --marker ER --mpp 0.5 --quiet";
  for (const std::string& args : {" --roi " + quote(roi.string()), std::string(" --stains /dev/zero")}) {
    const CliRun r = oncoquant(ihc + args);
    EXPECT_EQ(r.exit_code, 1) << args;
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  }
}

}  // namespace

namespace {

// A tiled RGB TIFF claiming `side` x `side` px whose every tile entry points at one shared
// deflate-compressed white tile: a few MB on disk, as a hostile or corrupt scanner file would be.
// Written byte by byte (little-endian TIFF 6.0) so that nothing of OncoQuant's makes it.
fs::path claimed_slide(const fs::path& dir, std::uint32_t side) {
  constexpr std::uint32_t kTile = 1024;
  std::vector<unsigned char> raw(kTile * kTile * 3, 255);
  uLongf packed_size = compressBound(static_cast<uLong>(raw.size()));
  std::vector<unsigned char> packed(packed_size);
  compress(packed.data(), &packed_size, raw.data(), static_cast<uLong>(raw.size()));
  const std::uint32_t across = (side + kTile - 1) / kTile, tiles = across * across;
  std::string f;
  auto u16 = [&](std::uint32_t v) { f.append({static_cast<char>(v & 255), static_cast<char>(v >> 8)}); };
  auto u32 = [&](std::uint32_t v) {
    for (int i = 0; i < 4; ++i) f.push_back(static_cast<char>((v >> (8 * i)) & 255));
  };
  constexpr std::uint32_t kEntries = 11, kIfd = 8, kBits = kIfd + 2 + kEntries * 12 + 4, kData = kBits + 6;
  const std::uint32_t offsets_at = kData + static_cast<std::uint32_t>(packed_size), counts_at = offsets_at + 4 * tiles;
  f += "II";
  u16(42);
  u32(kIfd);
  u16(kEntries);
  auto entry = [&](std::uint32_t tag, std::uint32_t type, std::uint32_t count, std::uint32_t value) {
    u16(tag), u16(type), u32(count);
    if (type == 3 && count == 1) {
      u16(value), u16(0);
    } else {
      u32(value);
    }
  };
  entry(256, 4, 1, side);            // ImageWidth
  entry(257, 4, 1, side);            // ImageLength
  entry(258, 3, 3, kBits);           // BitsPerSample 8,8,8
  entry(259, 3, 1, 8);               // Compression: deflate
  entry(262, 3, 1, 2);               // Photometric: RGB
  entry(277, 3, 1, 3);               // SamplesPerPixel
  entry(284, 3, 1, 1);               // PlanarConfiguration: contiguous
  entry(322, 4, 1, kTile);           // TileWidth
  entry(323, 4, 1, kTile);           // TileLength
  entry(324, 4, tiles, offsets_at);  // TileOffsets
  entry(325, 4, tiles, counts_at);   // TileByteCounts
  u32(0);
  u16(8), u16(8), u16(8);
  f.append(reinterpret_cast<const char*>(packed.data()), packed_size);
  for (std::uint32_t i = 0; i < tiles; ++i) u32(kData);
  for (std::uint32_t i = 0; i < tiles; ++i) u32(static_cast<std::uint32_t>(packed_size));
  const fs::path path = dir / ("claims_" + std::to_string(side) + "px.tif");
  std::ofstream(path, std::ios::binary) << f;
  return path;
}

TEST(HostileSlides, ASlideLargerThanAnyGlassIsRefusedBeforeItIsRead) {
  const fs::path slide = claimed_slide(scratch("huge_slide"), 1000000);
  const CliRun r = oncoquant("ihc " + quote(slide.string()) + " --marker ER --mpp 0.5 --quiet");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err.rfind("error: " + slide.string(), 0), 0u) << r.err;
  EXPECT_NE(r.err.find("larger than any glass slide"), std::string::npos) << r.err;
  const CliRun info = oncoquant("info --json --quiet " + quote(slide.string()));
  EXPECT_LT(info.exit_code, 2) << info.err;
}

// A plausible size (25 mm at 0.25 um/px) with no low-resolution level: reading it takes minutes.
// SIGTERM stops it between blocks, with the error line and nothing written.
TEST(HostileSlides, SigtermStopsALongReadAndLeavesNothing) {
  const fs::path dir = scratch("sigterm_slide");
  const fs::path slide = claimed_slide(dir, 100000);
  const fs::path overlay = dir / "overlay.png";
  // `timeout` only guards against a hang; what is checked is the exit and what is left behind.
  const CliRun r = shell("cd " + quote(dir.string()) + " && { timeout -s KILL 300 " + quote(oncoquant_binary()) + " ihc " +
                         quote(slide.string()) + " --marker ER --mpp 0.25 --quiet --overlay " + quote(overlay.string()) +
                         " & pid=$!; sleep 3; kill -TERM $pid; wait $pid; }");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("interrupted"), std::string::npos) << r.err;
  EXPECT_EQ(entries(dir), 1u) << "only the slide";
}

}  // namespace

namespace {

// libpng (through OpenCV) printed "libpng error: Read Error" before OncoQuant's own error line.
TEST(HostileChatter, LibraryMessagesNeverPrecedeTheErrorLine) {
  const fs::path dir = scratch("chatter");
  const fs::path cut = dir / "cut.png";
  std::ofstream(cut, std::ios::binary) << read_text(tile()).substr(0, 3000);
  const CliRun r = oncoquant("ihc " + quote(cut.string()) + " --marker ER --mpp 0.5 --quiet");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("error: " + cut.string(), 0), 0u) << r.err;
  const auto libpng = r.err.find("libpng");
  if (libpng != std::string::npos) {
    EXPECT_GT(libpng, r.err.find('\n')) << "after the error line: " << r.err;
  }
  // A run that succeeds shows no library noise at all.
  const CliRun fine = oncoquant("ihc " + quote(tile()) + " --marker ER --mpp 0.5 --quiet");
  ASSERT_EQ(fine.exit_code, 0) << fine.err;
  EXPECT_EQ(fine.err.find("libpng"), std::string::npos) << fine.err;
}

}  // namespace

namespace {

// Fault injection (issue 20 part 4): the disk fills, the output folder is read-only, the process is
// killed at any moment. Each ends with a clear message or a clean retry, never a half-written output.
std::string series() {
  return quote(shared_dir() + "/data/dicom/ct/egsnrc_bone_phantom_series");
}

TEST(Faults, ADiskThatFillsMidWriteIsAnErrorAndLeavesNothing) {
  const fs::path dir = scratch("disk_full");
  // 64 KiB of file size allowed (ulimit -f counts KiB): the volume cannot fit.
  const CliRun r = shell("ulimit -f 64; " + quote(oncoquant_binary()) + " convert --quiet " + series() + " -o " +
                         quote((dir / "ct.nrrd").string()));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err.rfind("error: " + (dir / "ct.nrrd").string(), 0), 0u) << r.err;
  EXPECT_EQ(entries(dir), 0u) << "no temporary or partial file";
}

TEST(Faults, AReadOnlyOutputFolderIsRefusedBeforeTheWork) {
  if (::geteuid() != 0 && ::access("/", W_OK) == 0) GTEST_SKIP() << "permissions do not bind this user";
  const fs::path dir = scratch("read_only_out") / "out";
  fs::create_directories(dir);
  ASSERT_EQ(shell("chmod 0555 " + quote(dir.string())).exit_code, 0);
  const std::string as_user = ::geteuid() == 0 ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : "";
  const CliRun r =
      shell(as_user + quote(oncoquant_binary()) + " convert --quiet " + series() + " -o " + quote((dir / "ct.nii.gz").string()));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("cannot be written to"), std::string::npos) << r.err;
  shell("chmod 0755 " + quote(dir.string()));
}

// kill -9 at 20 moments of a conversion: the final name holds a whole volume or nothing, and a
// rerun cleans what the killed runs left and writes the volume.
TEST(Faults, KillNineDuringConvertLeavesNoHalfVolume) {
  const fs::path dir = scratch("kill_convert");
  const fs::path out = dir / "ct.nii.gz";
  for (int i = 0; i < 20; ++i) {
    const std::string delay = std::to_string(0.02 * i);
    shell("{ " + quote(oncoquant_binary()) + " convert --quiet " + series() + " -o " + quote(out.string()) + " & pid=$!; sleep " +
          delay + "; kill -9 $pid; wait $pid; } 2>/dev/null");
    if (fs::exists(out)) {
      // The run ended before the kill: the volume must then be whole (ITK reads every voxel).
      VolumeData v;
      EXPECT_NO_THROW(v = read_volume(out.string())) << "after kill " << i;
      EXPECT_EQ(v.voxels.size(), v.size[0] * v.size[1] * v.size[2]);
      EXPECT_GT(v.voxels.size(), 0u);
      fs::remove(out);
    }
  }
  const CliRun again = oncoquant("convert --quiet " + series() + " -o " + quote(out.string()));
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(entries(dir), 1u) << "the rerun removed every leftover";
}

// kill -9 at 20 moments of an IHC analysis writing an overlay and detections: the two land together,
// each whole (the PNG ends in its IEND chunk, the GeoJSON parses), or neither does; a rerun cleans
// what the killed runs left.
TEST(Faults, KillNineDuringIhcLeavesBothOutputsWholeOrNeither) {
  const fs::path dir = scratch("kill_ihc");
  const fs::path overlay = dir / "er.png", detections = dir / "er.geojson";
  const std::string slide = quote(shared_dir() + "/data/wsi/CMU-1-Small-Region.svs");
  const std::string outputs = " --overlay " + quote(overlay.string()) + " --detections " + quote(detections.string());
  int whole = 0;
  for (int i = 0; i < 20; ++i) {
    const std::string delay = std::to_string(0.07 * i);
    shell("{ " + quote(oncoquant_binary()) + " ihc --quiet " + slide + " --marker ER" + outputs + " >/dev/null & pid=$!; sleep " +
          delay + "; kill -9 $pid; wait $pid; } 2>/dev/null");
    EXPECT_EQ(fs::exists(overlay), fs::exists(detections)) << "after kill " << i << ": one output without the other";
    if (!fs::exists(overlay)) continue;
    const std::string png = read_text(overlay);
    EXPECT_EQ(png.substr(png.size() >= 8 ? png.size() - 8 : 0, 4), "IEND") << "after kill " << i << ": a cut PNG";
    json parsed;
    EXPECT_NO_THROW(parsed = json::parse(read_text(detections))) << "after kill " << i << ": cut GeoJSON";
    ++whole;
    fs::remove(overlay);
    fs::remove(detections);
  }
  const CliRun again = oncoquant("ihc --quiet " + slide + " --marker ER" + outputs);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(entries(dir), 2u) << "the rerun removed every leftover";
  RecordProperty("runs_that_finished_before_the_kill", whole);
}

// The series' files deleted at 20 moments of a conversion (a network share that drops, a colleague
// tidying up): the answer is a volume, or one error line naming what vanished, and never a
// half-written output.
TEST(Faults, FilesVanishingMidRunAreNamedAndLeaveNoOutput) {
  const fs::path dir = scratch("vanishing");
  const fs::path out = dir / "ct.nii.gz", copy = dir / "series";
  int refused = 0;
  for (int i = 0; i < 20; ++i) {
    fs::remove_all(copy);
    fs::remove(out);
    fs::copy(shared_dir() + "/data/dicom/ct/egsnrc_bone_phantom_series", copy);
    const CliRun r =
        shell("{ " + quote(oncoquant_binary()) + " convert --quiet " + quote(copy.string()) + " -o " + quote(out.string()) +
              " & pid=$!; sleep " + std::to_string(0.01 * i) + "; rm -f " + quote(copy.string()) + "/*; wait $pid; }");
    ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 1) << "run " << i << ": " << r.err;
    if (r.exit_code == 0) {
      VolumeData v;
      EXPECT_NO_THROW(v = read_volume(out.string())) << "run " << i;
      continue;
    }
    ++refused;
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(copy.string()), std::string::npos) << "the error names the folder or file: " << r.err;
    EXPECT_FALSE(fs::exists(out)) << "run " << i;
  }
  EXPECT_GT(refused, 0) << "the files never vanished in time: the test tested nothing";
}

// kill -9 of `store import-case` at 20 moments: the store stays consistent (SQLite's own check)
// and the next import succeeds.
TEST(Faults, KillNineDuringStoreImportKeepsTheStoreConsistent) {
  const fs::path dir = scratch("kill_store");
  const fs::path db = dir / "study.sqlite";
  for (int i = 0; i < 20; ++i) {
    const std::string delay = std::to_string(0.005 * i);
    shell("{ " + quote(oncoquant_binary()) + " store import-case " + example_case() + " --db " + quote(db.string()) +
          " --patient P-" + std::to_string(i) + " --line 1 --author a & pid=$!; sleep " + delay +
          "; kill -9 $pid; wait $pid; } 2>/dev/null");
    if (!fs::exists(db)) continue;
    const CliRun check = shell("sqlite3 " + quote(db.string()) + " 'PRAGMA integrity_check;'");
    EXPECT_EQ(check.out, "ok\n") << "after kill " << i << ": " << check.err;
  }
  const CliRun again =
      oncoquant("store import-case " + example_case() + " --db " + quote(db.string()) + " --patient P-final --line 1 --author a");
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(oncoquant("recist assess --db " + quote(db.string()) + " --patient P-final").exit_code, 0);
}

}  // namespace

namespace {

// Found by fuzz_dicom: a JPEG-LS CT whose Pixel Representation came as UL (2 bytes) made GDCM's
// decoder abort the process on an assertion. The corrupt header is refused, naming the element.
TEST(HostileDicom, APixelModuleElementWithTheWrongTypeIsRefusedBeforeDecoding) {
  const fs::path dir = scratch("pixel_module_vr");
  std::string bytes = read_text(shared_dir() + "/data/dicom/ct/nema-wg04_CT2_JLSN.dcm");
  const std::string us("\x28\x00\x03\x01US", 6);
  const auto at = bytes.find(us);
  ASSERT_NE(at, std::string::npos);
  bytes[at + 5] = 'L';  // (0028,0103) US -> UL, length still 2
  const fs::path bad_file = dir / "pixel_representation_ul.dcm";
  std::ofstream(bad_file, std::ios::binary) << bytes;
  const CliRun r = oncoquant("convert --quiet " + quote(bad_file.string()) + " -o " + quote((dir / "out.nii.gz").string()));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("Pixel Representation (0028,0103) is UL"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "out.nii.gz"));
}

}  // namespace

namespace {

// Found by fuzz_slide: a DICOM whole-slide image whose Total Pixel Matrix claims 2^31 x 2^31 px
// had `info` allocate its tile map (16 GB) before anything was read. It is listed as unusable.
TEST(HostileSlides, ADicomSlideClaimingAnEndlessPixelMatrixIsUnusable) {
  const fs::path dir = scratch("dicom_wsi_matrix");
  const fs::path slide = dir / "claims.dcm";
  fs::copy_file(shared_dir() + "/data/wsi/openslide-python_boxes_0.dcm", slide);
  ASSERT_EQ(shell("dcmodify -nb -m '(0048,0006)=2147483647' -m '(0048,0007)=2147483647' " + quote(slide.string())).exit_code, 0);
  const CliRun r = oncoquant("info --json --quiet " + quote(slide.string()));
  EXPECT_LT(r.exit_code, 2) << r.err;
  EXPECT_NE(r.out.find("more than any slide holds"), std::string::npos) << r.out;
}

}  // namespace

namespace {

// Found by fuzz_slide: a DICOM file whose corrupt JPEG stream DCMTK refuses made GDCM 3.0's JPEG
// header parser fail an assertion, which aborted `convert` (and would abort a batch). Compressed
// pixel data is now decoded in a separate process: the abort costs that file, with the reason.
TEST(HostileDicom, ADecoderThatAbortsOnACorruptStreamCostsThatFileNotTheProcess) {
  const fs::path dir = scratch("decoder_abort");
  const std::string found = read_text(source_dir() + "/fuzz/regressions/fuzz_slide/gdcm-jpeg-header-assert");
  ASSERT_GT(found.size(), 1u);
  const fs::path file = dir / "corrupt_jpeg.dcm";
  std::ofstream(file, std::ios::binary) << found.substr(1);  // the fuzzer's first byte chose the extension
  const fs::path out = dir / "out.nii.gz";
  const CliRun r = oncoquant("convert --quiet " + quote(file.string()) + " -o " + quote(out.string()));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err.rfind("error: " + file.string() + ": the decoder crashed on it", 0), 0u) << r.err;
  EXPECT_FALSE(fs::exists(out));
  EXPECT_EQ(entries(dir), 1u);
}

}  // namespace
