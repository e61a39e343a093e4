// Whole-slide images of an IHC-stained needle core biopsy: tumour nests, stroma with fibroblasts,
// lymphocytes, glass. Each tumour cell gets a designed class (ER/PR nuclear DAB 0/1+/2+/3+, or a
// HER2 membrane pattern), so the counts, percentages and scores are known exactly. Colours come
// from Beer-Lambert optical densities of hematoxylin and DAB with per-lab stain vectors.
#include "slide.h"

#include <tiffio.h>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <stdexcept>

#include "oq/phantom/rng.h"

namespace oq::phantom {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr int kWidth = 10240, kHeight = 2560, kTile = 256;

struct Cell {
  float x, y;        // level-0 pixels
  std::string type;  // tumour, lymphocyte, stromal
  int cls = 0;  // ER/PR: 0..3 nuclear intensity; HER2: 0 none, 1 faint incomplete, 2 weak-moderate complete, 3 intense complete
};

// Cells by kind: tumour cells per class, lymphocytes, stromal cells (the truth's counts).
struct CellCounts {
  std::array<long, 4> tumour{};
  long lymphocytes = 0, stromal = 0;
  void add(const Cell& c) {
    if (c.type == "tumour")
      ++tumour[static_cast<size_t>(c.cls)];
    else if (c.type == "lymphocyte")
      ++lymphocytes;
    else
      ++stromal;
  }
};

std::array<double, 3> normalised(std::array<double, 3> v) {
  const double n = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
  return {v[0] / n, v[1] / n, v[2] / n};
}

// Paints an ellipse into an OD plane (keeps the larger value where shapes overlap).
void paint_ellipse(std::vector<float>& plane, double cx, double cy, double rx, double ry, double angle, float value,
                   Rng* texture = nullptr, float texture_sd = 0) {
  const double r = std::max(rx, ry);
  const int x0 = std::max(0, static_cast<int>(cx - r - 1)), x1 = std::min(kWidth - 1, static_cast<int>(cx + r + 1));
  const int y0 = std::max(0, static_cast<int>(cy - r - 1)), y1 = std::min(kHeight - 1, static_cast<int>(cy + r + 1));
  const double c = std::cos(angle), s = std::sin(angle);
  for (int y = y0; y <= y1; ++y)
    for (int x = x0; x <= x1; ++x) {
      const double dx = x - cx, dy = y - cy;
      const double u = (c * dx + s * dy) / rx, v = (-s * dx + c * dy) / ry;
      if (u * u + v * v > 1) continue;
      float val = value;
      if (texture) val += static_cast<float>(texture->normal() * texture_sd);
      float& dst = plane[static_cast<size_t>(y) * kWidth + x];
      dst = std::max(dst, val);
    }
}

// A membrane ring of given width over a fraction of the circumference.
void paint_ring(std::vector<float>& plane, double cx, double cy, double radius, double width, double start, double fraction,
                float value) {
  const double r = radius + width;
  const int x0 = std::max(0, static_cast<int>(cx - r - 1)), x1 = std::min(kWidth - 1, static_cast<int>(cx + r + 1));
  const int y0 = std::max(0, static_cast<int>(cy - r - 1)), y1 = std::min(kHeight - 1, static_cast<int>(cy + r + 1));
  for (int y = y0; y <= y1; ++y)
    for (int x = x0; x <= x1; ++x) {
      const double d = std::hypot(x - cx, y - cy);
      if (std::abs(d - radius) > width / 2) continue;
      double a = std::atan2(y - cy, x - cx) - start;
      while (a < 0) a += 2 * kPi;
      if (a > 2 * kPi * fraction) continue;
      float& dst = plane[static_cast<size_t>(y) * kWidth + x];
      dst = std::max(dst, value);
    }
}

std::vector<int> exact_classes(const std::array<double, 4>& fractions, size_t n, Rng& rng) {
  std::array<size_t, 4> counts{};
  size_t assigned = 0;
  for (size_t c = 1; c < 4; ++c) {
    counts[c] = static_cast<size_t>(std::lround(fractions[c] * static_cast<double>(n)));
    assigned += counts[c];
  }
  counts[0] = n - std::min(n, assigned);
  std::vector<int> cls;
  for (int c = 0; c < 4; ++c) cls.insert(cls.end(), counts[static_cast<size_t>(c)], c);
  for (size_t i = cls.size(); i > 1; --i) std::swap(cls[i - 1], cls[static_cast<size_t>(rng.next() % i)]);
  return cls;
}

void write_level(TIFF* tif, const cv::Mat& rgb, int quality, const std::string& description, double mpp, bool reduced) {
  TIFFSetField(tif, TIFFTAG_SUBFILETYPE, reduced ? FILETYPE_REDUCEDIMAGE : 0);
  TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, static_cast<uint32_t>(rgb.cols));
  TIFFSetField(tif, TIFFTAG_IMAGELENGTH, static_cast<uint32_t>(rgb.rows));
  TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 8);
  TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 3);
  TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
  TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_JPEG);
  TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_YCBCR);
  TIFFSetField(tif, TIFFTAG_JPEGQUALITY, quality);
  TIFFSetField(tif, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB);
  TIFFSetField(tif, TIFFTAG_TILEWIDTH, kTile);
  TIFFSetField(tif, TIFFTAG_TILELENGTH, kTile);
  TIFFSetField(tif, TIFFTAG_IMAGEDESCRIPTION, description.c_str());
  TIFFSetField(tif, TIFFTAG_RESOLUTIONUNIT, RESUNIT_CENTIMETER);
  TIFFSetField(tif, TIFFTAG_XRESOLUTION, static_cast<float>(1e4 / mpp));
  TIFFSetField(tif, TIFFTAG_YRESOLUTION, static_cast<float>(1e4 / mpp));
  std::vector<unsigned char> tile(kTile * kTile * 3);
  for (int ty = 0; ty < rgb.rows; ty += kTile)
    for (int tx = 0; tx < rgb.cols; tx += kTile) {
      std::fill(tile.begin(), tile.end(), 255);
      for (int y = 0; y < kTile && ty + y < rgb.rows; ++y) {
        const int w = std::min(kTile, rgb.cols - tx);
        std::copy_n(rgb.ptr<unsigned char>(ty + y) + tx * 3, w * 3, tile.data() + y * kTile * 3);
      }
      if (TIFFWriteTile(tif, tile.data(), static_cast<uint32_t>(tx), static_cast<uint32_t>(ty), 0, 0) < 0)
        throw std::runtime_error("libtiff could not write a tile");
    }
  if (!TIFFWriteDirectory(tif)) throw std::runtime_error("libtiff could not write a directory");
}

void write_stripped(TIFF* tif, const cv::Mat& rgb, const std::string& description) {
  TIFFSetField(tif, TIFFTAG_SUBFILETYPE, FILETYPE_REDUCEDIMAGE);
  TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, static_cast<uint32_t>(rgb.cols));
  TIFFSetField(tif, TIFFTAG_IMAGELENGTH, static_cast<uint32_t>(rgb.rows));
  TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 8);
  TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 3);
  TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
  TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_LZW);
  TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_RGB);
  TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, static_cast<uint32_t>(rgb.rows));
  TIFFSetField(tif, TIFFTAG_IMAGEDESCRIPTION, description.c_str());
  for (int y = 0; y < rgb.rows; ++y)
    if (TIFFWriteScanline(tif, const_cast<unsigned char*>(rgb.ptr<unsigned char>(y)), static_cast<uint32_t>(y), 0) < 0)
      throw std::runtime_error("libtiff could not write the thumbnail");
  if (!TIFFWriteDirectory(tif)) throw std::runtime_error("libtiff could not write a directory");
}

}  // namespace

Json ihc_scores(Marker marker, const std::array<long, 4>& tumour_counts) {
  const double total = static_cast<double>(tumour_counts[0] + tumour_counts[1] + tumour_counts[2] + tumour_counts[3]);
  auto pct = [&](int c) { return total > 0 ? 100.0 * static_cast<double>(tumour_counts[static_cast<size_t>(c)]) / total : 0.0; };
  Json j;
  if (marker != Marker::kHER2) {
    const double positive = pct(1) + pct(2) + pct(3);
    const double h = pct(1) + 2 * pct(2) + 3 * pct(3);
    int proportion = 0;
    if (positive <= 0)
      proportion = 0;
    else if (positive < 1)
      proportion = 1;
    else if (positive <= 10)
      proportion = 2;
    else if (positive <= 33)
      proportion = 3;
    else if (positive <= 66)
      proportion = 4;
    else
      proportion = 5;
    const long npos = tumour_counts[1] + tumour_counts[2] + tumour_counts[3];
    const double mean_intensity =
        npos > 0 ? static_cast<double>(tumour_counts[1] + 2 * tumour_counts[2] + 3 * tumour_counts[3]) / static_cast<double>(npos)
                 : 0;
    const int intensity = npos > 0 ? std::clamp(static_cast<int>(std::lround(mean_intensity)), 1, 3) : 0;
    j["cells"] = Json{{"total", tumour_counts[0] + npos},
                      {"negative", tumour_counts[0]},
                      {"1+", tumour_counts[1]},
                      {"2+", tumour_counts[2]},
                      {"3+", tumour_counts[3]}};
    j["percent_positive"] = std::round(positive * 100) / 100;
    j["h_score"] = std::round(h * 100) / 100;
    j["allred"] =
        Json{{"proportion", proportion}, {"intensity", intensity}, {"total", proportion == 0 ? 0 : proportion + intensity}};
    j["category"] = positive > 10 ? "positive" : positive >= 1 ? "low-positive" : "negative";
  } else {
    const double none = pct(0), faint = pct(1), weak = pct(2), intense = pct(3);
    std::string score;
    if (intense > 10)
      score = "3+";
    else if (weak > 10 || intense > 0)
      score = "2+";
    else if (faint > 10)
      score = "1+";
    else
      score = "0";
    std::string category = score == "3+"   ? "positive"
                           : score == "2+" ? "equivocal"
                           : score == "1+" ? "low"
                           : faint > 0     ? "ultralow"
                                           : "negative";
    j["cells"] = Json{{"total", static_cast<long>(total)}};
    j["her2"] = Json{{"score", score},
                     {"percent_no_staining", std::round(none * 100) / 100},
                     {"percent_faint_incomplete", std::round(faint * 100) / 100},
                     {"percent_weak_moderate_complete", std::round(weak * 100) / 100},
                     {"percent_intense_complete", std::round(intense * 100) / 100},
                     {"category", category}};
  }
  return j;
}

Json phenotype_group(const Json& er, const Json& pr, const Json& her2) {
  const std::string score = her2["her2"]["score"];
  const bool hr = er["percent_positive"].get<double>() >= 1 || pr["percent_positive"].get<double>() >= 1;
  Json g;
  if (score == "3+")
    g["group"] = 2;
  else if (score == "2+")
    g["group"] = nullptr;  // ISH required
  else
    g["group"] = hr ? 1 : 3;
  g["hr_status"] = hr ? "positive" : "negative";
  g["her2_status"] = score == "3+" ? "positive" : score == "2+" ? "equivocal" : "negative";
  Json flags = Json::array();
  for (const auto* m : {&er, &pr})
    if ((*m)["category"] == "low-positive") flags.push_back(std::string(m == &er ? "ER" : "PR") + " low positive");
  const std::string cat = her2["her2"]["category"];
  if (cat == "low") flags.push_back("HER2-low");
  if (cat == "ultralow") flags.push_back("HER2-ultralow");
  if (score == "2+") flags.push_back("ISH required");
  g["flags"] = flags;
  return g;
}

namespace {

// A field of view from the middle of the core, 1024 x 384 um, wholly inside the tissue band (its
// centre line moves at most 0.13 px per px and its half-width is at least 640 px), as a JPEG at
// the lab's quality; its truth counts the cells whose centres lie in it.
Json write_tile(const cv::Mat& rgb, const std::vector<Cell>& cells, const SlidePlan& plan, double mpp, int quality,
                const Json& slide_truth, const SlideTarget& out) {
  const int w = 2048, h = 768;
  const int x0 = kWidth / 2 - w / 2;
  // The band's centre at the tile's middle, from the tumour cells there (the band's phase is the
  // slide's own draw).
  std::vector<float> ys;
  for (const Cell& c : cells)
    if (c.type == "tumour" && std::abs(c.x - (x0 + w / 2.0f)) < w / 2.0f) ys.push_back(c.y);
  std::nth_element(ys.begin(), ys.begin() + static_cast<std::ptrdiff_t>(ys.size() / 2), ys.end());
  const int y0 = std::clamp(static_cast<int>(ys.empty() ? kHeight / 2.0f : ys[ys.size() / 2]) - h / 2, 0, kHeight - h);
  cv::Mat bgr;
  cv::cvtColor(rgb(cv::Rect(x0, y0, w, h)), bgr, cv::COLOR_RGB2BGR);
  const std::string tmp = out.tile_path + ".partial.jpg";
  if (!cv::imwrite(tmp, bgr, {cv::IMWRITE_JPEG_QUALITY, quality}) || std::rename(tmp.c_str(), out.tile_path.c_str()) != 0)
    throw std::runtime_error("cannot write " + out.tile_path);
  CellCounts n;
  const float left = static_cast<float>(x0), top = static_cast<float>(y0);
  for (const Cell& c : cells)
    if (c.x >= left && c.y >= top && c.x < left + w && c.y < top + h) n.add(c);
  Json t = slide_truth;
  t["object"] = "tile";
  t["file"] = out.tile_relative_path;
  t["format"] = "JPEG";
  t["mpp"] = mpp;
  t["tile_origin_px"] = Json::array({x0, y0});
  t["tile_size_px"] = Json::array({w, h});
  t.erase("level_dimensions");
  t.erase("cells_file");
  t["lymphocytes"] = n.lymphocytes;
  t["stromal_cells"] = n.stromal;
  t["result"] = ihc_scores(plan.marker, n.tumour);
  return t;
}

}  // namespace

SlideResult generate_slide(const PlacedPatient& p, const SlidePlan& plan, const SlideTarget& out) {
  Rng rng(Rng::derive(p.seed, std::string("slide ") + marker_name(plan.marker)));
  Rng lab(Rng::derive(p.seed, "lab"));  // one lab per patient: the three slides share its stain and scanner
  const double mpp = out.svs ? 0.499 : 0.5;
  // The lab's variation is drawn either way, so that the rest of the lab (strength, blur, JPEG,
  // glass) is the same with or without it.
  const double vary = plan.lab_stain_variation ? 1 : 0;
  std::array<double, 6> lab_offset{};
  for (double& o : lab_offset) o = vary * lab.uniform(-0.05, 0.05);
  auto h_vec = normalised({0.65 + lab_offset[0], 0.70 + lab_offset[1], 0.29 + lab_offset[2]});
  auto d_vec = normalised({0.27 + lab_offset[3], 0.57 + lab_offset[4], 0.78 + lab_offset[5]});
  if (plan.stain_rotation_deg > 0) {
    // Turn each vector by the angle about a random axis perpendicular to it (an own stream, so
    // the lab's and the slide's draws are those of an unturned slide).
    Rng turn(Rng::derive(p.seed, std::string("stain rotation ") + marker_name(plan.marker)));
    for (auto* v : {&h_vec, &d_vec}) {
      std::array<double, 3> a{turn.normal(), turn.normal(), turn.normal()};
      const double along = a[0] * (*v)[0] + a[1] * (*v)[1] + a[2] * (*v)[2];
      for (size_t k = 0; k < 3; ++k) a[k] -= along * (*v)[k];
      a = normalised(a);
      const double t = plan.stain_rotation_deg * kPi / 180;
      std::array<double, 3> turned{};
      for (size_t k = 0; k < 3; ++k) turned[k] = std::cos(t) * (*v)[k] + std::sin(t) * a[k];
      // Optical densities stay positive in every channel.
      for (double& c : turned) c = std::max(c, 0.02);
      *v = normalised(turned);
    }
  }
  // Counterstain and focus also vary from slide to slide within a lab.
  const double h_strength = lab.uniform(0.85, 1.15) * rng.uniform(0.95, 1.05);
  const double dab_strength = lab.uniform(0.94, 1.06);
  const double blur = lab.uniform(0.5, 1.0) * rng.uniform(0.85, 1.15);
  const int quality = lab.integer(85, 92);
  const std::array<double, 3> glass{lab.uniform(236, 246), lab.uniform(236, 246), lab.uniform(232, 244)};

  const size_t npx = static_cast<size_t>(kWidth) * kHeight;
  std::vector<float> hem(npx, 0.0f), dab(npx, 0.0f);
  std::vector<std::uint8_t> region(npx, 0);  // 0 glass, 1 stroma, 2 tumour nest
  // The core: a wavy band with rounded ends.
  const double phase = rng.uniform(0, 2 * kPi), width = rng.uniform(700, 850);
  auto centre_y = [&](double x) { return kHeight / 2.0 + 180 * std::sin(2 * kPi * x / 9000 + phase); };
  auto half_width = [&](double x) { return width * (1 + 0.08 * std::sin(2 * kPi * x / 1300 + 2 * phase)); };
  const double x_start = 700, x_end = 9500;
  for (int y = 0; y < kHeight; ++y)
    for (int x = 0; x < kWidth; ++x) {
      double d = std::abs(y - centre_y(x)) / half_width(x);
      if (x < x_start) d = std::hypot(d, (x_start - x) / width);
      if (x > x_end) d = std::hypot(d, (x - x_end) / width);
      if (d < 1) region[static_cast<size_t>(y) * kWidth + x] = 1;
    }
  // Tumour nests: clusters of overlapping discs inside the core.
  std::vector<std::array<double, 3>> nests;
  for (int i = 0; i < 26; ++i) {
    const double x = rng.uniform(x_start + 200, x_end - 200);
    const double y = centre_y(x) + rng.uniform(-0.55, 0.55) * half_width(x);
    const double r = rng.uniform(140, 360);
    nests.push_back({x, y, r});
    for (int k = 0; k < 3; ++k)
      nests.push_back({x + rng.uniform(-r, r) * 0.7, y + rng.uniform(-r, r) * 0.5, r * rng.uniform(0.4, 0.7)});
  }
  for (const auto& n : nests) {
    const int x0 = std::max(0, static_cast<int>(n[0] - n[2])), x1 = std::min(kWidth - 1, static_cast<int>(n[0] + n[2]));
    const int y0 = std::max(0, static_cast<int>(n[1] - n[2])), y1 = std::min(kHeight - 1, static_cast<int>(n[1] + n[2]));
    for (int y = y0; y <= y1; ++y)
      for (int x = x0; x <= x1; ++x) {
        const size_t o = static_cast<size_t>(y) * kWidth + x;
        if (region[o] == 1 && std::hypot(x - n[0], y - n[1]) < n[2]) region[o] = 2;
      }
  }
  // Background stain: wavy stroma fibres (stripes bent by a smooth random field), tumour cytoplasm.
  cv::Mat warp(kHeight / 64, kWidth / 64, CV_32F);
  for (int y = 0; y < warp.rows; ++y)
    for (int x = 0; x < warp.cols; ++x) warp.at<float>(y, x) = static_cast<float>(rng.uniform(0, 2 * kPi));
  cv::resize(warp, warp, cv::Size(kWidth, kHeight), 0, 0, cv::INTER_CUBIC);
  for (int y = 0; y < kHeight; ++y)
    for (int x = 0; x < kWidth; ++x) {
      const size_t o = static_cast<size_t>(y) * kWidth + x;
      if (region[o] == 1) {
        const double fibre = std::sin(0.11 * x + 0.04 * y + 1.2 * warp.at<float>(y, x));
        hem[o] = static_cast<float>(0.05 + 0.025 * fibre * fibre);
        dab[o] = 0.015f;
      } else if (region[o] == 2) {
        hem[o] = 0.10f;
        dab[o] = plan.marker == Marker::kHER2 ? 0.02f : 0.025f;
      }
    }
  // Tumour cells on a jittered hexagonal lattice inside the nests (14 um apart).
  std::vector<Cell> cells;
  const double spacing = 28;
  for (double y = spacing / 2; y < kHeight; y += spacing * 0.866)
    for (double x = spacing / 2 + (static_cast<int>(y / (spacing * 0.866)) % 2) * spacing / 2; x < kWidth; x += spacing) {
      const double cx = x + rng.uniform(-3, 3), cy = y + rng.uniform(-3, 3);
      const size_t o = static_cast<size_t>(std::clamp(static_cast<int>(cy), 0, kHeight - 1)) * kWidth +
                       static_cast<size_t>(std::clamp(static_cast<int>(cx), 0, kWidth - 1));
      if (region[o] == 2) cells.push_back({static_cast<float>(cx), static_cast<float>(cy), "tumour", 0});
    }
  const std::vector<int> classes = exact_classes(plan.fractions, cells.size(), rng);
  for (size_t i = 0; i < cells.size(); ++i) cells[i].cls = classes[i];
  // Stroma: fibroblasts everywhere in the stroma, lymphocytes in a few aggregates.
  const size_t tumour_cells = cells.size();
  for (int i = 0; i < 2600; ++i) {
    const double x = rng.uniform(0, kWidth), y = rng.uniform(0, kHeight);
    const size_t o = static_cast<size_t>(y) * kWidth + static_cast<size_t>(x);
    if (region[o] == 1) cells.push_back({static_cast<float>(x), static_cast<float>(y), "stromal", 0});
  }
  for (int a = 0; a < 6; ++a) {
    const double ax = rng.uniform(x_start, x_end);
    const double ay = centre_y(ax) + rng.uniform(-0.5, 0.5) * half_width(ax);
    for (int i = 0; i < 140; ++i) {
      const double x = ax + rng.normal() * 90, y = ay + rng.normal() * 70;
      if (x < 0 || y < 0 || x >= kWidth || y >= kHeight) continue;
      const size_t o = static_cast<size_t>(y) * kWidth + static_cast<size_t>(x);
      if (region[o] == 1) cells.push_back({static_cast<float>(x), static_cast<float>(y), "lymphocyte", 0});
    }
  }
  // Paint nuclei (and HER2 membranes).
  const std::array<double, 4> nuclear_dab{0.03, 0.30, 0.50, 0.78};
  const std::array<double, 4> membrane_od{0, 0.13, 0.36, 0.85};
  const std::array<double, 4> membrane_width{0, 1.2, 2.0, 4.2};  // px at 0.5 um: 0.6, 1.0, 2.1 um
  for (size_t i = 0; i < cells.size(); ++i) {
    const Cell& c = cells[i];
    if (c.type == "tumour") {
      const double rx = rng.uniform(8.5, 11.5), ry = rx * rng.uniform(0.75, 0.95), ang = rng.uniform(0, kPi);
      double d = 0.02;
      if (plan.marker != Marker::kHER2) d = nuclear_dab[static_cast<size_t>(c.cls)] + rng.uniform(-0.035, 0.035);
      const double h = rng.uniform(0.42, 0.62) * (1 - 0.45 * std::min(1.0, d));
      paint_ellipse(hem, c.x, c.y, rx, ry, ang, static_cast<float>(h), &rng, 0.05f);
      paint_ellipse(dab, c.x, c.y, rx, ry, ang, static_cast<float>(d), &rng, 0.015f);
      if (plan.marker == Marker::kHER2 && c.cls > 0) {
        const double completeness = c.cls == 1 ? rng.uniform(0.25, 0.65) : 1.0;
        paint_ring(dab, c.x, c.y, rng.uniform(12.5, 14), membrane_width[static_cast<size_t>(c.cls)], rng.uniform(0, 2 * kPi),
                   completeness, static_cast<float>(membrane_od[static_cast<size_t>(c.cls)] + rng.uniform(-0.02, 0.02)));
      }
    } else if (c.type == "lymphocyte") {
      const double r = rng.uniform(5.5, 7.0);
      paint_ellipse(hem, c.x, c.y, r, r * rng.uniform(0.85, 1.0), 0, static_cast<float>(rng.uniform(0.8, 1.0)));
    } else {
      paint_ellipse(hem, c.x, c.y, rng.uniform(10, 15), rng.uniform(2.5, 4), rng.uniform(0, kPi),
                    static_cast<float>(rng.uniform(0.35, 0.5)));
    }
  }
  // Optical densities to RGB (Beer-Lambert), then the scanner's blur and noise.
  cv::Mat rgb(kHeight, kWidth, CV_8UC3);
  for (int y = 0; y < kHeight; ++y) {
    auto* row = rgb.ptr<unsigned char>(y);
    for (int x = 0; x < kWidth; ++x) {
      const size_t o = static_cast<size_t>(y) * kWidth + x;
      const double h = hem[o] * h_strength, d = dab[o] * dab_strength;
      for (int ch = 0; ch < 3; ++ch) {
        const double od = h * h_vec[static_cast<size_t>(ch)] + d * d_vec[static_cast<size_t>(ch)];
        row[x * 3 + ch] =
            cv::saturate_cast<unsigned char>(glass[static_cast<size_t>(ch)] * std::pow(10.0, -od) + rng.normal() * 1.5);
      }
    }
  }
  hem = {};
  dab = {};
  cv::GaussianBlur(rgb, rgb, cv::Size(0, 0), blur);

  // Pyramid: full resolution, 1/4, 1/16, as a 20x scanner writes it.
  cv::Mat level1, level2, thumb;
  cv::resize(rgb, level1, cv::Size(kWidth / 4, kHeight / 4), 0, 0, cv::INTER_AREA);
  cv::resize(level1, level2, cv::Size(kWidth / 16, kHeight / 16), 0, 0, cv::INTER_AREA);
  cv::resize(level2, thumb, cv::Size(kWidth / 32, kHeight / 32), 0, 0, cv::INTER_AREA);
  // OpenCV holds BGR; the TIFF wants RGB. The painting above wrote channels in RGB order already.
  const std::string tmp = out.path + ".partial";
  TIFF* tif = TIFFOpen(tmp.c_str(), "w");
  if (!tif) throw std::runtime_error("cannot create " + out.path);
  char desc[512];
  if (out.svs) {
    std::snprintf(desc, sizeof desc,
                  "Aperio Image Library v12.0.16 \r\n%dx%d [0,0 %dx%d] (%dx%d) JPEG/RGB Q=%d|AppMag = 20|MPP = %.4f|"
                  "Filename = %s|Date = %s|ScanScope ID = OQPHANTOM",
                  kWidth, kHeight, kWidth, kHeight, kTile, kTile, quality, mpp, out.slide_id.c_str(), out.date_us.c_str());
    write_level(tif, rgb, quality, desc, mpp, false);
    std::snprintf(desc, sizeof desc, "Aperio Image Library v12.0.16 \r\n%dx%d -> %dx%d - ", kWidth, kHeight, thumb.cols,
                  thumb.rows);
    write_stripped(tif, thumb, desc);
    for (const auto& [img, f] : {std::pair<const cv::Mat*, int>{&level1, 4}, {&level2, 16}}) {
      std::snprintf(desc, sizeof desc, "Aperio Image Library v12.0.16 \r\n%dx%d [0,0 %dx%d] (%dx%d) -> %dx%d JPEG/RGB Q=%d",
                    kWidth, kHeight, kWidth, kHeight, kTile, kTile, img->cols, img->rows, quality);
      write_level(tif, *img, quality, desc, mpp * f, true);
    }
  } else {
    std::snprintf(desc, sizeof desc, "OncoQuant phantom slide %s, %s IHC, %.2f um/px", out.slide_id.c_str(),
                  marker_name(plan.marker), mpp);
    write_level(tif, rgb, quality, desc, mpp, false);
    write_level(tif, level1, quality, desc, mpp * 4, true);
    write_level(tif, level2, quality, desc, mpp * 16, true);
  }
  TIFFClose(tif);
  if (std::rename(tmp.c_str(), out.path.c_str()) != 0) throw std::runtime_error("cannot rename to " + out.path);

  // Truth: counts per class among tumour cells, and the scores they give.
  CellCounts counted;
  std::ofstream csv(out.truth_dir + "/" + out.stem + ".cells.csv");
  csv << "x_px,y_px,type,class\n";
  for (size_t i = 0; i < cells.size(); ++i) {
    const Cell& c = cells[i];
    counted.add(c);
    char line[96];
    std::snprintf(line, sizeof line, "%.1f,%.1f,%s,%d\n", c.x, c.y, c.type.c_str(), c.type == "tumour" ? c.cls : -1);
    csv << line;
  }
  (void)tumour_cells;
  SlideResult r;
  r.scores = ihc_scores(plan.marker, counted.tumour);
  r.truth = Json{{"object", "whole-slide image"},
                 {"file", out.relative_path},
                 {"marker", marker_name(plan.marker)},
                 {"format", out.svs ? "Aperio SVS" : "generic tiled TIFF"},
                 {"mpp", mpp},
                 {"level_dimensions", Json::array({Json::array({kWidth, kHeight}), Json::array({level1.cols, level1.rows}),
                                                   Json::array({level2.cols, level2.rows})})},
                 {"stain_vectors", {{"hematoxylin", h_vec}, {"dab", d_vec}}},
                 {"stain_rotation_deg", plan.stain_rotation_deg},
                 {"lab_stain_variation", plan.lab_stain_variation},
                 {"stain_strength", {{"hematoxylin", h_strength}, {"dab", dab_strength}}},
                 {"glass_rgb", glass},
                 {"blur_sigma_px", blur},
                 {"jpeg_quality", quality},
                 {"nuclear_dab_od_by_class", nuclear_dab},
                 {"membrane_od_by_pattern", membrane_od},
                 {"membrane_width_um", Json::array({0, 0.6, 1.0, 2.1})},
                 {"lymphocytes", counted.lymphocytes},
                 {"stromal_cells", counted.stromal},
                 {"cells_file", out.stem + ".cells.csv"},
                 {"result", r.scores}};
  if (!out.tile_path.empty()) r.tile_truth = write_tile(rgb, cells, plan, mpp, quality, r.truth, out);
  if (!out.preview_dir.empty()) {
    cv::Mat bgr;
    cv::cvtColor(level2, bgr, cv::COLOR_RGB2BGR);
    cv::imwrite(out.preview_dir + "/" + out.stem + "_thumbnail.png", bgr);
    // A 512 x 512 zoom centred on the first tumour cell near the middle of the slide.
    const Cell* pick = &cells.front();
    for (const Cell& c : cells)
      if (c.type == "tumour" && std::abs(c.x - kWidth / 2.0f) < std::abs(pick->x - kWidth / 2.0f)) pick = &c;
    const int x0 = std::clamp(static_cast<int>(pick->x) - 256, 0, kWidth - 512),
              y0 = std::clamp(static_cast<int>(pick->y) - 256, 0, kHeight - 512);
    cv::cvtColor(rgb(cv::Rect(x0, y0, 512, 512)), bgr, cv::COLOR_RGB2BGR);
    cv::imwrite(out.preview_dir + "/" + out.stem + "_tile_x" + std::to_string(x0) + "_y" + std::to_string(y0) + ".png", bgr);
  }
  return r;
}

}  // namespace oq::phantom
