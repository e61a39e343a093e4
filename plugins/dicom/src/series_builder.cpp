#include "series_builder.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

namespace oq::dicom {

namespace {

using Vec = std::array<double, 3>;

Vec cross(const Vec& a, const Vec& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}
double dot(const Vec& a, const Vec& b) {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}
Vec normalised(Vec v) {
  const double n = std::sqrt(dot(v, v));
  if (n > 0)
    for (auto& x : v) x /= n;
  return v;
}

std::string fmt(double v, int prec = 2) {
  std::ostringstream s;
  s.setf(std::ios::fixed);
  s.precision(prec);
  s << v;
  return s.str();
}

// Frames that belong in one volume share these.
std::string group_key(const FrameRecord& r) {
  std::ostringstream k;
  k << r.series_uid << '|' << r.sop_class_uid << '|' << r.rows << 'x' << r.columns << '|' << r.samples_per_pixel << '|';
  if (r.orientation) {
    for (double v : *r.orientation) k << std::lround(v * 1000) << ',';
  } else {
    k << "no-orientation";
  }
  return k.str();
}

std::string describe_key_difference(const FrameRecord& a, const FrameRecord& b) {
  if (a.rows != b.rows || a.columns != b.columns) return "different image sizes";
  if (a.sop_class_uid != b.sop_class_uid) return "different SOP classes";
  if (a.samples_per_pixel != b.samples_per_pixel) return "different samples per pixel";
  return "different orientations";
}

bool is_planar(const std::vector<FrameRecord>& fs) {
  const FrameRecord& r = fs.front();
  if (r.modality == "NM") {
    const bool tomo = r.image_type.find("RECON") != std::string::npos || r.image_type.find("TOMO") != std::string::npos;
    if (!tomo) return true;
  }
  for (const auto& f : fs)
    if (!f.position || !f.orientation) return true;
  return false;
}

void build_planar(SeriesPart& part) {
  auto& fs = part.frames;
  std::stable_sort(fs.begin(), fs.end(), [](const FrameRecord& a, const FrameRecord& b) {
    if (a.path != b.path) return a.instance_number < b.instance_number;
    return a.frame < b.frame;
  });
  const FrameRecord& r = fs.front();
  part.kind = StackKind::kPlanar;
  part.grid.size = {static_cast<std::size_t>(r.columns), static_cast<std::size_t>(r.rows), fs.size()};
  if (r.pixel_spacing)
    part.grid.spacing = {(*r.pixel_spacing)[1], (*r.pixel_spacing)[0], 1.0};
  else
    part.warnings.push_back("no Pixel Spacing: 1 mm assumed");
  if (r.orientation) {
    const Vec row{(*r.orientation)[0], (*r.orientation)[1], (*r.orientation)[2]};
    const Vec col{(*r.orientation)[3], (*r.orientation)[4], (*r.orientation)[5]};
    const Vec n = normalised(cross(row, col));
    part.grid.direction = {row[0], col[0], n[0], row[1], col[1], n[1], row[2], col[2], n[2]};
  } else {
    part.orientation_known = false;
    if (r.modality != "NM")
      part.warnings.push_back("no Image Position/Orientation (Patient): patient orientation unknown, identity assumed");
  }
  if (r.position) part.grid.origin = *r.position;
  if (fs.size() > 1) part.warnings.push_back("planar frames stacked in acquisition order; the third axis is the frame index");
  part.slice_offsets.assign(fs.size(), 0.0);
}

void build_volume(SeriesPart& part) {
  auto& fs = part.frames;
  const auto& o = *fs.front().orientation;
  const Vec row = normalised({o[0], o[1], o[2]});
  const Vec col = normalised({o[3], o[4], o[5]});
  if (std::fabs(dot(row, col)) > 1e-3) {
    part.loadable = false;
    part.problem = "Image Orientation (Patient) row and column directions are not perpendicular";
    return;
  }
  const Vec normal = normalised(cross(row, col));
  std::stable_sort(fs.begin(), fs.end(), [&](const FrameRecord& a, const FrameRecord& b) {
    return dot(*a.position, normal) < dot(*b.position, normal);
  });
  const std::size_t n = fs.size();
  std::vector<double> d(n);
  for (std::size_t i = 0; i < n; ++i) d[i] = dot(*fs[i].position, normal);

  const FrameRecord& first = fs.front();
  Grid& g = part.grid;
  g.size = {static_cast<std::size_t>(first.columns), static_cast<std::size_t>(first.rows), n};
  if (first.pixel_spacing) {
    g.spacing = {(*first.pixel_spacing)[1], (*first.pixel_spacing)[0], 1.0};
  } else {
    part.warnings.push_back("no Pixel Spacing: 1 mm assumed");
    g.spacing = {1.0, 1.0, 1.0};
  }
  g.origin = *first.position;
  g.direction = {row[0], col[0], normal[0], row[1], col[1], normal[1], row[2], col[2], normal[2]};
  part.slice_offsets.resize(n);
  for (std::size_t i = 0; i < n; ++i) part.slice_offsets[i] = d[i] - d[0];

  if (n == 1) {
    g.spacing[2] = first.slice_thickness > 0 ? first.slice_thickness : 1.0;
    return;
  }

  std::vector<double> steps(n - 1);
  for (std::size_t i = 0; i + 1 < n; ++i) steps[i] = d[i + 1] - d[i];
  for (std::size_t i = 0; i + 1 < n; ++i) {
    if (steps[i] < 1e-3) {
      part.loadable = false;
      part.problem =
          "two slices at the same position (" + fmt(d[i]) + " mm along the normal): " + fs[i].path + " and " + fs[i + 1].path;
      return;
    }
  }
  std::vector<double> sorted = steps;
  std::sort(sorted.begin(), sorted.end());
  const double median = sorted[sorted.size() / 2];
  const double tolerance = std::max(0.01, 0.01 * median);

  // Missing slices: a step that is a whole multiple (>= 2) of the usual one.
  for (std::size_t i = 0; i + 1 < n; ++i) {
    const double ratio = steps[i] / median;
    if (ratio > 1.5 && std::fabs(ratio - std::round(ratio)) < 0.1) {
      const long missing = std::lround(ratio) - 1;
      part.loadable = false;
      part.problem = std::to_string(missing) + " missing slice" + (missing > 1 ? "s" : "") + " between " + fs[i].path + " and " +
                     fs[i + 1].path + " (gap " + fmt(steps[i]) + " mm where the spacing is " + fmt(median) + " mm)";
      return;
    }
  }

  // Gantry tilt: the slices' origins step off the normal.
  const Vec span{(*fs.back().position)[0] - g.origin[0], (*fs.back().position)[1] - g.origin[1],
                 (*fs.back().position)[2] - g.origin[2]};
  const double along = dot(span, normal);
  const double off_row = dot(span, row), off_col = dot(span, col);
  const double tilt_deg = std::atan2(std::hypot(off_row, off_col), along) * 180.0 / M_PI;
  if (tilt_deg > 0.05) {
    part.resampling = Resampling::kGantryTilt;
    part.tilt_shift_mm.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      const Vec v{(*fs[i].position)[0] - g.origin[0], (*fs[i].position)[1] - g.origin[1], (*fs[i].position)[2] - g.origin[2]};
      part.tilt_shift_mm[i] = {dot(v, row), dot(v, col)};
    }
    part.warnings.push_back("gantry tilt of " + fmt(tilt_deg) + " degrees: slices shifted in-plane onto an orthogonal grid");
  }

  const bool even = std::all_of(steps.begin(), steps.end(), [&](double s) { return std::fabs(s - median) <= tolerance; });
  if (even) {
    g.spacing[2] = (d.back() - d.front()) / static_cast<double>(n - 1);
    return;
  }
  // Uneven spacing (e.g. a protocol that changes step): interpolate onto the smallest step.
  const double step = sorted.front();
  const std::size_t out_n = static_cast<std::size_t>(std::floor((d.back() - d.front()) / step + 1e-6)) + 1;
  g.spacing[2] = step;
  g.size[2] = out_n;
  if (part.resampling == Resampling::kNone) part.resampling = Resampling::kUnevenSpacing;
  part.warnings.push_back("uneven slice spacing (" + fmt(sorted.front()) + " to " + fmt(sorted.back()) + " mm): resampled to " +
                          fmt(step) + " mm by linear interpolation");
}

}  // namespace

std::vector<SeriesPart> build_series(std::vector<FrameRecord> frames) {
  // series UID -> key -> frames, keeping first-seen order for stable part numbering.
  std::map<std::string, std::vector<std::string>> key_order;
  std::map<std::string, std::vector<FrameRecord>> groups;
  std::vector<std::string> series_order;
  for (auto& f : frames) {
    const std::string key = group_key(f);
    auto& keys = key_order[f.series_uid];
    if (keys.empty()) series_order.push_back(f.series_uid);
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
    groups[key].push_back(std::move(f));
  }

  std::vector<SeriesPart> out;
  for (const auto& uid : series_order) {
    std::vector<std::vector<FrameRecord>> parts;
    std::vector<std::string> reasons;
    const auto& keys = key_order[uid];
    const std::string reason = keys.size() > 1 ? describe_key_difference(groups[keys[0]].front(), groups[keys[1]].front()) : "";
    for (const auto& key : keys) {
      auto& fs = groups[key];
      // Repeated acquisitions at the same positions: split by Acquisition Number when that separates them.
      std::map<int, std::vector<FrameRecord>> by_acq;
      for (const auto& f : fs) by_acq[f.acquisition_number].push_back(f);
      bool split_by_acq = false;
      if (by_acq.size() > 1 && !is_planar(fs)) {
        std::map<long long, int> seen;
        for (const auto& f : fs)
          if (f.position)
            ++seen[std::llround(f.position->at(0) * 100) * 1000003LL ^ std::llround(f.position->at(1) * 100) * 7919LL ^
                   std::llround(f.position->at(2) * 100)];
        split_by_acq = std::any_of(seen.begin(), seen.end(), [](const auto& kv) { return kv.second > 1; });
      }
      if (split_by_acq) {
        for (auto& [acq, sub] : by_acq) {
          parts.push_back(std::move(sub));
          reasons.push_back("repeated acquisitions (Acquisition Number " + std::to_string(acq) + ")");
        }
      } else {
        parts.push_back(std::move(fs));
        reasons.push_back(reason);
      }
    }
    for (std::size_t i = 0; i < parts.size(); ++i) {
      SeriesPart p;
      p.uid = parts.size() == 1 ? uid : uid + "#" + std::to_string(i + 1);
      const std::string& view = parts[i].front().view;
      if (parts.size() > 1 && !view.empty() && reasons[i] == "different orientations")
        // A whole-body scan's anterior and posterior views face opposite ways: one part each.
        p.split_reason = "views in separate parts (" + std::to_string(parts.size()) + "); this part is the " + view + " view";
      else if (parts.size() > 1)
        p.split_reason = "series split into " + std::to_string(parts.size()) + " parts (" +
                         (reasons[i].empty() ? std::string("mixed content") : reasons[i]) + ")";
      p.frames = std::move(parts[i]);
      if (is_planar(p.frames))
        build_planar(p);
      else
        build_volume(p);
      if (!p.split_reason.empty()) p.warnings.push_back(p.split_reason);
      out.push_back(std::move(p));
    }
  }
  return out;
}

}  // namespace oq::dicom
