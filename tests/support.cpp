#include "support.h"

#include <oqtest/scratch_root.h>

#include <itkImage.h>
#include <itkImageFileReader.h>
#include <itkImageRegionConstIterator.h>
#include <unistd.h>

#include <sys/wait.h>
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace oqtest {

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

static std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

CliRun shell(const std::string& command) {
  static int counter = 0;
  const fs::path base = scratch_root() / ("run_" + std::to_string(counter++));
  const std::string full = command + " >" + quote(base.string() + ".out") + " 2>" + quote(base.string() + ".err");
  const int status = std::system(full.c_str());
  CliRun r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(base.string() + ".out");
  r.err = slurp(base.string() + ".err");
  fs::remove(base.string() + ".out");
  fs::remove(base.string() + ".err");
  return r;
}

std::string read_text(const fs::path& path) {
  return slurp(path.string());
}

std::string oncoquant_binary() {
  return std::string(OQ_BINARY_DIR) + "/bin/oncoquant";
}

CliRun oncoquant(const std::string& args) {
  return shell(quote(oncoquant_binary()) + " " + args);
}

std::string shared_dir() {
  return OQ_SHARED_DIR;
}

std::string source_dir() {
  return OQ_SOURCE_DIR;
}

fs::path scratch(const std::string& name) {
  return fresh_scratch(name);
}

VolumeData read_volume(const std::string& path) {
  using Image = itk::Image<float, 3>;
  auto reader = itk::ImageFileReader<Image>::New();
  reader->SetFileName(path);
  reader->Update();
  Image::Pointer img = reader->GetOutput();
  VolumeData v;
  const auto region = img->GetLargestPossibleRegion();
  for (unsigned i = 0; i < 3; ++i) {
    v.size[i] = region.GetSize()[i];
    v.spacing[i] = img->GetSpacing()[i];
    v.origin[i] = img->GetOrigin()[i];
    for (unsigned j = 0; j < 3; ++j) v.direction[3 * i + j] = img->GetDirection()(i, j);
  }
  v.voxels.assign(img->GetBufferPointer(), img->GetBufferPointer() + region.GetNumberOfPixels());
  return v;
}

std::vector<fs::path> files_under(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::string dicom_value(const fs::path& file, const std::string& tag) {
  const CliRun r = shell("dcmdump -q +P " + tag + " " + quote(file.string()));
  const auto open = r.out.find('['), close = r.out.find(']');
  if (open == std::string::npos || close == std::string::npos) return {};
  return r.out.substr(open + 1, close - open - 1);
}

std::array<double, 3> image_position(const fs::path& file) {
  std::array<double, 3> p{};
  std::sscanf(dicom_value(file, "0020,0032").c_str(), "%lf\\%lf\\%lf", &p[0], &p[1], &p[2]);
  return p;
}

bool set_image_position(const fs::path& file, const std::array<double, 3>& p) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%.4f\\\\%.4f\\\\%.4f", p[0], p[1], p[2]);
  return shell("dcmodify -nb -q -m \"(0020,0032)=" + std::string(buf) + "\" " + quote(file.string())).exit_code == 0;
}

nlohmann::json load_json(const fs::path& path) {
  std::ifstream f(path);
  return nlohmann::json::parse(f);
}

std::string point_arg(const nlohmann::json& p) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%.3f,%.3f,%.3f", p[0].get<double>(), p[1].get<double>(), p[2].get<double>());
  return buf;
}

Points mask_points(const VolumeData& v) {
  Points out;
  for (std::size_t k = 0; k < v.size[2]; ++k)
    for (std::size_t j = 0; j < v.size[1]; ++j)
      for (std::size_t i = 0; i < v.size[0]; ++i) {
        if (v.voxels[(k * v.size[1] + j) * v.size[0] + i] == 0) continue;
        const double idx[3] = {static_cast<double>(i) * v.spacing[0], static_cast<double>(j) * v.spacing[1],
                               static_cast<double>(k) * v.spacing[2]};
        std::array<double, 3> p{};
        for (std::size_t r = 0; r < 3; ++r) {
          p[r] = v.origin[r];
          for (std::size_t c = 0; c < 3; ++c) p[r] += v.direction[3 * r + c] * idx[c];
        }
        out.push_back(p);
      }
  std::sort(out.begin(), out.end());
  return out;
}

Points seg_points(const nlohmann::json& segment) {
  Points out;
  for (const nlohmann::json& p : segment["voxels_mm"])
    out.push_back({p[0].get<double>(), p[1].get<double>(), p[2].get<double>()});
  std::sort(out.begin(), out.end());
  return out;
}

std::size_t differing(const Points& a, const Points& b) {
  if (a.size() != b.size()) return std::max(a.size(), b.size());
  std::size_t n = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    for (std::size_t c = 0; c < 3; ++c)
      if (std::fabs(a[i][c] - b[i][c]) > 0.01) {
        ++n;
        break;
      }
  return n;
}

}  // namespace oqtest
