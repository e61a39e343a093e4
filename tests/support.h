// Helpers for the integration tests: run the real programs, make scratch folders, read volumes back.
#pragma once

#include <array>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace oqtest {

namespace fs = std::filesystem;

struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs build/bin/oncoquant with the given argument string (shell-quoted by the caller).
CliRun oncoquant(const std::string& args);
std::string oncoquant_binary();
// Runs any shell command; returns exit code and output.
CliRun shell(const std::string& command);
std::string quote(const std::string& s);

std::string shared_dir();                   // ../shared
std::string source_dir();                   // the repository
fs::path scratch(const std::string& name);  // a fresh, empty folder for one test

struct VolumeData {
  std::array<std::size_t, 3> size{};
  std::array<double, 3> spacing{};
  std::array<double, 3> origin{};
  std::array<double, 9> direction{};
  std::vector<float> voxels;
};
VolumeData read_volume(const std::string& path);  // via ITK, any format ITK reads

std::vector<fs::path> files_under(const fs::path& dir);
std::string read_text(const fs::path& path);  // a file's bytes; empty when it cannot be read

// A JSON document from a file (the truth and manifests the generator writes).
nlohmann::json load_json(const fs::path& path);
// A point [x, y, z] (JSON array, mm) as the "X,Y,Z" argument of --seed.
std::string point_arg(const nlohmann::json& point);

// A DICOM attribute's value as DCMTK's dcmdump prints it between brackets ("" when absent).
std::string dicom_value(const fs::path& file, const std::string& tag);
// Image Position (Patient) of a single-frame file, and setting it with DCMTK's dcmodify.
std::array<double, 3> image_position(const fs::path& file);
bool set_image_position(const fs::path& file, const std::array<double, 3>& p);

// Voxel centres in patient coordinates (LPS mm), sorted: a mask read by ITK (`read_volume`, nonzero
// voxels), or the "voxels_mm" list of tests/tools/read_seg.py (pydicom's reading of a SEG segment).
using Points = std::vector<std::array<double, 3>>;
Points mask_points(const VolumeData& v);
Points seg_points(const nlohmann::json& segment);
// How many voxels differ: a count mismatch, or pairs (in sorted order) more than 0.01 mm apart.
std::size_t differing(const Points& a, const Points& b);

}  // namespace oqtest
