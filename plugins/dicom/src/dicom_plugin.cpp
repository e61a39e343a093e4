// The DICOM loader plugin: CT in HU, PET in SUV (specs/suv.md), NM planar views in counts.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <deque>
#include <filesystem>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <sstream>

#include "dicom_header.h"
#include "documents.h"
#include "oq/diagnostics.h"
#include "oq/pet/suv.h"
#include "oq/plugin.h"
#include "oq/progress.h"
#include "pixel_reader.h"
#include "series_builder.h"
#include "wsi_reader.h"

namespace oq::dicom {

namespace {

std::string iso_date(std::string da) {
  da.erase(std::remove(da.begin(), da.end(), '.'), da.end());  // ACR-NEMA "YYYY.MM.DD"
  if (da.size() == 8) return da.substr(0, 4) + "-" + da.substr(4, 2) + "-" + da.substr(6, 2);
  return da;
}

std::string nice_pet_units(const std::string& units) {
  if (units == "BQML") return "Bq/ml";
  if (units == "GML") return "g/ml";
  if (units == "CNTS") return "counts";
  return units;
}

// One assembled series part with what we need to describe and load it.
struct Assembled {
  SeriesPart part;
  StudyInfo study;
  std::optional<pet::SeriesHeader> pet_header;
  std::optional<pet::SuvFactors> suv;
  std::size_t files = 0;
  std::vector<std::string> transfer_syntaxes;
  std::vector<std::string> paths;
};

struct Assembly {
  std::vector<Assembled> series;
  std::vector<DocumentInfo> documents;
  std::vector<Unreadable> unreadable;
};

Assembly assemble(const std::vector<std::string>& input_files) {
  Assembly out;
  std::vector<FrameRecord> frames;
  std::map<std::string, pet::SeriesHeader> pet_headers;
  std::set<std::string> seen;
  // SOP Instance UID -> the first file and where its first frame lies
  std::map<std::string, std::pair<std::string, std::optional<std::array<double, 3>>>> instances;
  // Series whose files share a SOP Instance UID but are not one image: why they are not used.
  std::map<std::string, std::string> broken;
  std::deque<std::string> queue(input_files.begin(), input_files.end());
  std::error_code canon_ec;  // a file gone since it was listed is caught when read
  for (const auto& f : input_files) seen.insert(std::filesystem::weakly_canonical(f, canon_ec).string());
  while (!queue.empty()) {
    const std::string path = queue.front();
    queue.pop_front();
    auto h = read_header(path);
    if (!h.ok()) {
      out.unreadable.push_back({path, h.error().message()});
      continue;
    }
    if (h->is_dicomdir) {
      for (const auto& ref : h->dicomdir_files) {
        std::error_code ec;
        const std::string canon = std::filesystem::weakly_canonical(ref, ec).string();
        if (!std::filesystem::exists(ref, ec)) {
          out.unreadable.push_back({ref, "listed in DICOMDIR " + path + " but missing"});
        } else if (seen.insert(canon).second) {
          queue.push_back(ref);
        }
      }
      continue;
    }
    if (h->frames.empty()) {
      if (auto doc = describe_document(path)) {
        out.documents.push_back(std::move(*doc));
        continue;
      }
      out.unreadable.push_back({path, h->not_image_reason.empty() ? std::string("no image frames") : h->not_image_reason});
      continue;
    }
    // The same instance twice (a copy, or one object in two transfer syntaxes): keep the first.
    // Two different images under one UID (a broken export or anonymiser) are not a copy: which is
    // the instance cannot be told, so their series is not used, and says why.
    const FrameRecord& head = h->frames.front();
    if (!head.sop_instance_uid.empty()) {
      auto [it, fresh] = instances.emplace(head.sop_instance_uid, std::make_pair(path, head.position));
      if (!fresh) {
        const auto& other = it->second.second;
        const bool same_place =
            other.has_value() == head.position.has_value() &&
            (!other || std::abs((*other)[0] - (*head.position)[0]) + std::abs((*other)[1] - (*head.position)[1]) +
                               std::abs((*other)[2] - (*head.position)[2]) <
                           1e-3);
        if (same_place) {
          out.unreadable.push_back({path, "duplicate of " + it->second.first + " (same SOP Instance UID); not used twice"});
        } else {
          broken.emplace(head.series_uid, "images at different positions share SOP Instance UID " + head.sop_instance_uid + " (" +
                                              it->second.first + ", " + path + "): the series cannot be put together");
          out.unreadable.push_back(
              {path, "shares SOP Instance UID " + head.sop_instance_uid + " with " + it->second.first + " but is another image"});
        }
        continue;
      }
    }
    if (h->pet_series && !pet_headers.count(h->frames.front().series_uid))
      pet_headers[h->frames.front().series_uid] = *h->pet_series;
    for (auto& fr : h->frames) frames.push_back(std::move(fr));
  }

  for (auto& part : build_series(std::move(frames))) {
    if (auto it = broken.find(part.uid); it != broken.end()) {
      out.unreadable.push_back({part.frames.front().path, "series " + part.uid + " not used: " + it->second});
      continue;
    }
    Assembled a;
    const FrameRecord& first = part.frames.front();
    a.study.patient_id = first.patient_id;
    a.study.study_uid = first.study_uid;
    a.study.study_date = iso_date(first.study_date);
    a.study.description = first.study_description;
    std::set<std::string> files, ts;
    for (const auto& f : part.frames) {
      if (files.insert(f.path).second) a.paths.push_back(f.path);
      ts.insert(f.transfer_syntax);
    }
    a.files = files.size();
    for (const auto& t : ts) a.transfer_syntaxes.push_back(transfer_syntax_name(t));
    if (auto it = pet_headers.find(first.series_uid); it != pet_headers.end() && first.modality == "PT") {
      pet::SeriesHeader ph = it->second;
      ph.frames.clear();
      for (const auto& f : part.frames) ph.frames.push_back(f.pet_frame);
      a.suv = pet::compute_suv_factors(ph);
      a.pet_header = std::move(ph);
    }
    a.part = std::move(part);
    out.series.push_back(std::move(a));
  }
  return out;
}

SeriesInfo describe(const Assembled& a) {
  const SeriesPart& p = a.part;
  const FrameRecord& first = p.frames.front();
  SeriesInfo s;
  s.uid = p.uid;
  s.description = first.series_description;
  s.modality = first.modality;
  s.sop_class = sop_class_name(first.sop_class_uid);
  s.number = first.series_number;
  s.frame_of_reference_uid = first.frame_of_reference_uid;
  s.loader = "dicom";
  s.instances = a.files;
  s.frames = p.frames.size();
  s.matrix = p.grid.size;
  s.spacing = p.grid.spacing;
  s.origin = p.grid.origin;
  s.direction = p.grid.direction;
  s.transfer_syntaxes = a.transfer_syntaxes;
  s.loadable = p.loadable;
  s.problem = p.problem;
  s.warnings = p.warnings;
  s.patient_orientation_known = p.orientation_known;
  s.files = a.paths;
  for (const auto& f : p.frames)
    if (!f.view.empty() && std::find(s.views.begin(), s.views.end(), f.view) == s.views.end()) s.views.push_back(f.view);
  if (a.pet_header) {
    PetQuantInfo q;
    q.units = a.pet_header->units;
    q.decay_correction = a.pet_header->decay_correction;
    q.suv_bw_available = a.suv->bw_available;
    q.suv_bw_reason = a.suv->bw_reason;
    q.sul_lbm_available = a.suv->lbm_available;
    q.sul_lbm_reason = a.suv->lbm_reason;
    if (!a.suv->bw.empty()) q.suv_bw_factor = a.suv->bw.front();
    if (a.suv->decay_seconds > 0) q.uptake_minutes = a.suv->decay_seconds / 60;
    q.radionuclide = a.pet_header->radionuclide;
    if (a.pet_header->half_life_s) {
      std::ostringstream hl;
      hl << (q.radionuclide.empty() ? "half-life " : q.radionuclide + ", half-life ") << *a.pet_header->half_life_s << " s";
      q.radionuclide = hl.str();
    }
    s.pet = q;
    if (!a.suv->notes.empty()) s.warnings.push_back("SUV: " + a.suv->notes);
    for (const auto& f : p.frames) {
      if (f.intercept != 0) {
        s.warnings.push_back("Rescale Intercept " + std::to_string(f.intercept) +
                             " on PET is unexpected: conversion refused unless forced (--allow-pet-intercept)");
        break;
      }
    }
  }
  return s;
}

Detection detect(const FileProbe& probe) {
  const std::string& h = probe.head;
  if (h.size() >= 132 && h.compare(128, 4, "DICM") == 0) return {4, "DICM magic at offset 128"};
  // Datasets stored without preamble and meta header (old ACR-NEMA style exports) start with a
  // group 0x0002 or 0x0008 tag in little endian.
  if (h.size() >= 8) {
    const auto b0 = static_cast<unsigned char>(h[0]), b1 = static_cast<unsigned char>(h[1]);
    if ((b0 == 0x08 || b0 == 0x02) && b1 == 0x00) return {3, "starts with a DICOM group 0002/0008 tag (no preamble)"};
  }
  const std::string ext = std::filesystem::path(probe.path).extension().string();
  if (ext == ".dcm" || ext == ".DCM" || ext == ".dicom" || ext == ".ima" || ext == ".IMA")
    return {1, "DICOM file extension, but no DICOM magic"};
  const std::string name = std::filesystem::path(probe.path).filename().string();
  if (name == "DICOMDIR") return {3, "DICOMDIR"};
  return Detection::decline("no DICM magic and no leading DICOM tag");
}

// The series catalogued last in this process, so that loading one right after cataloguing it
// (convert, batch) does not parse every header again.
std::mutex g_recent_mutex;
std::map<std::string, Assembled> g_recent;

void catalog(const std::vector<std::string>& files, Catalog& out) {
  Assembly as = assemble(files);
  {
    std::lock_guard<std::mutex> lock(g_recent_mutex);
    g_recent.clear();
    for (const auto& a : as.series) g_recent.emplace(a.part.uid, a);
  }
  // Whole-slide instances are slides, not series.
  std::vector<std::string> slide_files;
  for (auto& u : as.unreadable) {
    if (u.reason == kWholeSlideReason)
      slide_files.push_back(u.path);
    else
      out.unreadable.push_back(std::move(u));
  }
  if (!slide_files.empty()) catalog_slides(slide_files, out);
  for (auto& d : as.documents) out.documents.push_back(std::move(d));
  for (const auto& a : as.series) out.add_series(a.study, describe(a));
}

// How stored values become output values for one frame: out = stored * scale + offset.
struct FrameMap {
  double scale = 1, offset = 0;
};

template <typename T>
T saturate(double v, std::size_t& clipped) {
  constexpr double lo = static_cast<double>(std::numeric_limits<T>::lowest());
  constexpr double hi = static_cast<double>(std::numeric_limits<T>::max());
  if (std::is_floating_point<T>::value) return static_cast<T>(v);
  if (v < lo) {
    ++clipped;
    return static_cast<T>(lo);
  }
  if (v > hi) {
    ++clipped;
    return static_cast<T>(hi);
  }
  return static_cast<T>(std::lround(v));
}

template <typename T>
void store_slice(Volume& vol, std::size_t k, const std::vector<double>& slice, std::size_t& clipped) {
  const std::size_t n = vol.grid().size[0] * vol.grid().size[1];
  T* dst = vol.data<T>() + k * n;
  for (std::size_t i = 0; i < n; ++i) dst[i] = saturate<T>(slice[i], clipped);
}

void store(Volume& vol, std::size_t k, const std::vector<double>& slice, std::size_t& clipped) {
  switch (vol.type()) {
    case VoxelType::kUInt8:
      store_slice<std::uint8_t>(vol, k, slice, clipped);
      break;
    case VoxelType::kInt16:
      store_slice<std::int16_t>(vol, k, slice, clipped);
      break;
    case VoxelType::kUInt16:
      store_slice<std::uint16_t>(vol, k, slice, clipped);
      break;
    case VoxelType::kFloat32:
      store_slice<float>(vol, k, slice, clipped);
      break;
  }
}

// Bilinear in-plane shift for gantry-tilt correction: out(x, y) = in(x + dx, y + dy).
void shift_slice(const std::vector<double>& in, std::vector<double>& out, std::size_t w, std::size_t h, double dx, double dy,
                 double pad) {
  out.assign(w * h, pad);
  for (std::size_t y = 0; y < h; ++y) {
    const double sy = static_cast<double>(y) + dy;
    const double fy = std::floor(sy);
    if (fy < 0 || fy + 1 > static_cast<double>(h - 1)) continue;
    const double ty = sy - fy;
    const std::size_t y0 = static_cast<std::size_t>(fy);
    for (std::size_t x = 0; x < w; ++x) {
      const double sx = static_cast<double>(x) + dx;
      const double fx = std::floor(sx);
      if (fx < 0 || fx + 1 > static_cast<double>(w - 1)) continue;
      const double tx = sx - fx;
      const std::size_t x0 = static_cast<std::size_t>(fx);
      const double a = in[y0 * w + x0], b = in[y0 * w + x0 + 1], c = in[(y0 + 1) * w + x0], d = in[(y0 + 1) * w + x0 + 1];
      out[y * w + x] = (a * (1 - tx) + b * tx) * (1 - ty) + (c * (1 - tx) + d * tx) * ty;
    }
  }
}

Result<Volume> load_volume(const SeriesInfo& info, const LoadOptions& options) {
  Assembly as;
  {
    std::lock_guard<std::mutex> lock(g_recent_mutex);
    auto it = g_recent.find(info.uid);
    if (it != g_recent.end() && it->second.paths == info.files) as.series.push_back(it->second);
  }
  if (as.series.empty()) as = assemble(info.files);
  const Assembled* found = nullptr;
  for (const auto& a : as.series)
    if (a.part.uid == info.uid) found = &a;
  // A part of a split series, re-read from its own files alone, comes back whole (no "#n").
  if (!found && as.series.size() == 1 && info.uid.rfind(as.series.front().part.uid + "#", 0) == 0) found = &as.series.front();
  if (!found) {
    std::string why = "series not found in its files";
    if (!as.unreadable.empty()) why += " (" + as.unreadable.front().path + ": " + as.unreadable.front().reason + ")";
    return Error(ErrorCode::kNotFound, why, info.uid);
  }
  const Assembled& a = *found;
  const SeriesPart& p = a.part;
  if (!p.loadable) return Error(ErrorCode::kInconsistent, p.problem, "series " + p.uid);
  if (p.resampling == Resampling::kGantryTilt && p.grid.size[2] != p.frames.size())
    return Error(ErrorCode::kUnsupported, "gantry tilt combined with uneven slice spacing is not supported", "series " + p.uid);
  const std::string modality = p.frames.front().modality;

  Units units = options.units;
  if (units == Units::kDefault) {
    if (modality == "PT")
      units = Units::kSUVbw;
    else if (modality == "CT")
      units = Units::kHU;
    else
      units = Units::kNative;
  }
  if (units == Units::kHU && modality != "CT")
    return Error(ErrorCode::kInvalidArgument, "HU applies to CT; this series is " + modality, "series " + p.uid);
  if ((units == Units::kSUVbw || units == Units::kSULlbm) && modality != "PT")
    return Error(ErrorCode::kInvalidArgument, "SUV applies to PET; this series is " + modality, "series " + p.uid);

  std::vector<FrameMap> maps(p.frames.size());
  std::string unit_label = modality == "CT" ? "HU" : (modality == "NM" ? "counts" : "native");
  bool need_float = false;
  for (std::size_t i = 0; i < p.frames.size(); ++i) {
    const FrameRecord& f = p.frames[i];
    maps[i] = {f.slope, f.intercept};
    if (f.slope != std::floor(f.slope) || f.intercept != std::floor(f.intercept)) need_float = true;
  }
  if (modality == "PT") {
    unit_label = nice_pet_units(a.pet_header ? a.pet_header->units : "");
    for (const auto& f : p.frames) {
      if (f.intercept != 0 && !options.allow_pet_intercept)
        return Error(ErrorCode::kUnsupported,
                     "Rescale Intercept " + std::to_string(f.intercept) +
                         " on PET is unexpected and would bias SUV; refused (use --allow-pet-intercept to force)",
                     f.path);
    }
    need_float = true;
    if (units == Units::kSUVbw || units == Units::kSULlbm) {
      const bool lbm = units == Units::kSULlbm;
      const bool available = lbm ? a.suv->lbm_available : a.suv->bw_available;
      if (!available)
        return Error(ErrorCode::kUnavailable,
                     std::string(lbm ? "SULlbm" : "SUVbw") + " unavailable: " + (lbm ? a.suv->lbm_reason : a.suv->bw_reason) +
                         " (use --units native for the stored values)",
                     "series " + p.uid);
      const auto& factors = lbm ? a.suv->lbm : a.suv->bw;
      for (std::size_t i = 0; i < maps.size(); ++i) {
        maps[i].scale *= factors[i];
        maps[i].offset *= factors[i];
      }
      unit_label = lbm ? "SULlbm" : "SUVbw";
    }
  }

  VoxelType type = VoxelType::kFloat32;
  if (!need_float) {
    const FrameRecord& f = p.frames.front();
    const bool unsigned_fits = f.pixel_representation == 0 && f.bits_stored >= 16 && f.slope == 1 && f.intercept == 0;
    type = unsigned_fits ? VoxelType::kUInt16 : VoxelType::kInt16;
  }
  Volume vol(p.grid, type);
  vol.set_units(unit_label);

  PixelReader reader;
  std::vector<std::int32_t> stored;
  const std::size_t w = p.grid.size[0], h = p.grid.size[1];
  auto rescaled = [&](std::size_t i, std::vector<double>& out) -> Status {
    Status s = reader.read_frame(p.frames[i], stored);
    if (!s.ok()) return s;
    out.resize(stored.size());
    for (std::size_t v = 0; v < stored.size(); ++v) out[v] = stored[v] * maps[i].scale + maps[i].offset;
    return ok_status();
  };

  std::size_t clipped = 0;
  std::vector<double> slice, other, shifted;
  Progress progress("convert " + p.uid.substr(0, 24), p.grid.size[2], "slices");
  if (p.resampling == Resampling::kUnevenSpacing) {
    std::size_t lo = 0;
    std::size_t loaded_lo = SIZE_MAX, loaded_hi = SIZE_MAX;
    for (std::size_t k = 0; k < p.grid.size[2]; ++k) {
      const double z = static_cast<double>(k) * p.grid.spacing[2];
      while (lo + 2 < p.frames.size() && p.slice_offsets[lo + 1] <= z) ++lo;
      const std::size_t hi = std::min(lo + 1, p.frames.size() - 1);
      if (loaded_lo != lo) {
        if (loaded_hi == lo)
          slice.swap(other);
        else if (Status s = rescaled(lo, slice); !s.ok())
          return s.error();
        loaded_lo = lo;
      }
      if (loaded_hi != hi) {
        if (Status s = rescaled(hi, other); !s.ok()) return s.error();
        loaded_hi = hi;
      }
      const double span = p.slice_offsets[hi] - p.slice_offsets[lo];
      const double t = span > 0 ? std::clamp((z - p.slice_offsets[lo]) / span, 0.0, 1.0) : 0.0;
      shifted.resize(slice.size());
      for (std::size_t v = 0; v < slice.size(); ++v) shifted[v] = slice[v] * (1 - t) + other[v] * t;
      store(vol, k, shifted, clipped);
      progress.advance();
    }
  } else {
    std::vector<SliceSource> sources;
    for (const FrameRecord& f : p.frames) sources.push_back({f.sop_instance_uid, f.number_of_frames > 1 ? f.frame + 1 : 0});
    vol.set_slice_sources(std::move(sources));
    for (std::size_t k = 0; k < p.frames.size(); ++k) {
      if (Status s = rescaled(k, slice); !s.ok()) return s.error();
      if (p.resampling == Resampling::kGantryTilt) {
        const double pad = *std::min_element(slice.begin(), slice.end());
        // A slice whose origin sits +d along an in-plane axis holds, at pixel j, what the
        // orthogonal grid has at j + d/spacing: so the grid reads the slice at j - d/spacing.
        shift_slice(slice, shifted, w, h, -p.tilt_shift_mm[k][0] / p.grid.spacing[0], -p.tilt_shift_mm[k][1] / p.grid.spacing[1],
                    pad);
        store(vol, k, shifted, clipped);
      } else {
        store(vol, k, slice, clipped);
      }
      progress.advance();
    }
  }
  progress.finish();
  if (clipped > 0)
    std::fprintf(oq::diag(), "warning: %s: %zu voxels outside the %s range were clipped\n", p.uid.c_str(), clipped,
                 to_string(type));
  return vol;
}

const LoaderOps kOps{detect, catalog, load_volume, open_dicom_slide};

}  // namespace

}  // namespace oq::dicom

extern const oq::PluginDescriptor oq_plugin_dicom;
const oq::PluginDescriptor oq_plugin_dicom{
    "dicom",
    oq::PluginKind::kLoader,
    "DICOM CT (HU), PET (SUVbw/SULlbm), NM planar views, whole-slide microscopy; files, folders, DICOMDIR; DCMTK "
    "codecs, GDCM for JPEG 2000",
    100,
    &oq::dicom::kOps,
    nullptr};
