#include <cmath>
#include <cstdlib>
#include <optional>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcsequen.h>

#include "oq/dicom/segmentation.h"

#include "dataset_access.h"

namespace oq::dicom {

namespace {

using access::items;
using access::text;

DcmItem* first(DcmItem* item, const DcmTagKey& sequence) {
  return access::first_item(item, sequence);
}

std::optional<Vec3> triple(DcmItem* item, const DcmTagKey& tag) {
  if (!item) return std::nullopt;
  Float64 v[3];
  for (unsigned long i = 0; i < 3; ++i)
    if (item->findAndGetFloat64(tag, v[i], i).bad()) return std::nullopt;
  return Vec3{v[0], v[1], v[2]};
}

// The plane position of frame `f`: its own, else the shared one.
std::optional<Vec3> frame_position(DcmItem* shared, DcmItem* frame) {
  if (auto p = triple(first(frame, DCM_PlanePositionSequence), DCM_ImagePositionPatient)) return p;
  return triple(first(shared, DCM_PlanePositionSequence), DCM_ImagePositionPatient);
}

Error misfit(const std::string& path, std::size_t frame, const std::string& why) {
  return Error(ErrorCode::kInconsistent, "frame " + std::to_string(frame + 1) + " does not fit the series: " + why, path);
}

// The slice of the grid frame `f` lies on: its position must be a slice's first voxel.
Result<std::size_t> slice_of(const Grid& g, const Vec3& position, const std::string& path, std::size_t f) {
  const Vec3 idx = g.to_index(position);
  const double k = std::round(idx[2]);
  if (std::fabs(idx[0]) > 0.01 || std::fabs(idx[1]) > 0.01 || std::fabs(idx[2] - k) > 0.05 || k < 0 ||
      k >= static_cast<double>(g.size[2]))
    return misfit(path, f, "its plane position is on none of the series' slices");
  return static_cast<std::size_t>(k);
}

}  // namespace

namespace {

// The frames' pixels, checked against the grid and the number of frames.
struct FramePixels {
  const Uint8* data = nullptr;
  Uint16 bits = 0, max_fraction = 255;
  std::size_t plane = 0;  // pixels per frame
  bool inside(std::size_t frame, std::size_t p) const {
    const std::size_t at = frame * plane + p;
    return bits == 1 ? (data[at / 8] >> (at % 8)) & 1 : data[at] * 2 > max_fraction;
  }
};

Result<FramePixels> frame_pixels(DcmDataset& ds, const Grid& g, std::size_t frames, const std::string& path) {
  FramePixels px;
  Uint16 rows = 0, cols = 0;
  ds.findAndGetUint16(DCM_Rows, rows);
  ds.findAndGetUint16(DCM_Columns, cols);
  ds.findAndGetUint16(DCM_BitsAllocated, px.bits);
  ds.findAndGetUint16(DCM_MaximumFractionalValue, px.max_fraction);
  if (rows != g.size[1] || cols != g.size[0])
    return misfit(path, 0,
                  std::to_string(cols) + " x " + std::to_string(rows) + " pixels, the series' images are " +
                      std::to_string(g.size[0]) + " x " + std::to_string(g.size[1]));
  px.plane = std::size_t{rows} * cols;
  DcmElement* pd = nullptr;
  Uint8* data = nullptr;
  if (ds.findAndGetElement(DCM_PixelData, pd).bad() || !pd || pd->getUint8Array(data).bad() || !data)
    return Error(ErrorCode::kUnreadable, "no pixel data", path);
  px.data = data;
  const std::size_t needed = px.bits == 1 ? (frames * px.plane + 7) / 8 : frames * px.plane;
  if (pd->getLength() < needed) return Error(ErrorCode::kUnreadable, "its pixel data is shorter than its frames", path);
  return px;
}

Result<std::vector<SegmentInfo>> segments_of(DcmDataset& ds, const std::string& path) {
  std::vector<SegmentInfo> out;
  for (DcmItem* s : items(ds, DCM_SegmentSequence)) {
    const int number = std::atoi(text(*s, DCM_SegmentNumber).c_str());
    if (number < 1 || number > 65535)
      return Error(ErrorCode::kUnreadable, "a segment number out of range (" + text(*s, DCM_SegmentNumber) + ")", path);
    out.push_back({number, text(*s, DCM_SegmentLabel), text(*s, DCM_TrackingUID), 0});
  }
  return out;
}

// The number of the segment `wanted` names (by number or label); 0 for all.
Result<int> wanted_number(const std::vector<SegmentInfo>& segments, const std::string& wanted, const std::string& path) {
  if (wanted.empty()) return 0;
  std::string names;
  for (const SegmentInfo& s : segments) {
    if (wanted == s.label || wanted == std::to_string(s.number)) return s.number;
    names += " " + std::to_string(s.number) + " (" + s.label + ")";
  }
  return Error(ErrorCode::kNotFound, "no segment '" + wanted + "'; it holds:" + names, path);
}

// Rows and columns must run as the series' do.
Status check_orientation(DcmItem* shared, const Grid& g, const std::string& path) {
  DcmItem* o = first(shared, DCM_PlaneOrientationSequence);
  if (!o) return ok_status();
  Float64 v[6];
  for (unsigned long i = 0; i < 6; ++i)
    if (o->findAndGetFloat64(DCM_ImageOrientationPatient, v[i], i).bad()) return ok_status();
  const Vec3 x = g.axis(0), y = g.axis(1);
  if (v[0] * x[0] + v[1] * x[1] + v[2] * x[2] < 0.999 || v[3] * y[0] + v[4] * y[1] + v[5] * y[2] < 0.999)
    return misfit(path, 0, "its rows and columns do not run as the series' images do");
  return ok_status();
}

}  // namespace

Result<SegmentationOnGrid> read_segmentation(const std::string& path, const Grid& g, const std::string& wanted) {
  DcmFileFormat ff;
  if (OFCondition c = ff.loadFile(path.c_str()); c.bad())
    return Error(ErrorCode::kUnreadable, std::string("not a readable DICOM file: ") + c.text(), path);
  DcmDataset& ds = *ff.getDataset();
  if (text(ds, DCM_Modality) != "SEG") return Error(ErrorCode::kInvalidArgument, "not a DICOM SEG", path);
  const std::string type = text(ds, DCM_SegmentationType);
  if (type != "BINARY" && type != "FRACTIONAL")
    return Error(ErrorCode::kUnsupported, "a " + type + " segmentation (binary and fractional ones are read)", path);
  const std::vector<DcmItem*> frames = items(ds, DCM_PerFrameFunctionalGroupsSequence);
  auto px = frame_pixels(ds, g, frames.size(), path);
  if (!px) return px.error();
  SegmentationOnGrid out;
  auto segments = segments_of(ds, path);
  if (!segments) return segments.error();
  out.segments = std::move(*segments);
  auto only = wanted_number(out.segments, wanted, path);
  if (!only) return only.error();
  DcmItem* shared = first(&ds, DCM_SharedFunctionalGroupsSequence);
  if (auto s = check_orientation(shared, g, path); !s) return s.error();
  out.labels.assign(g.voxel_count(), 0);
  for (std::size_t f = 0; f < frames.size(); ++f) {
    DcmItem* id = first(frames[f], DCM_SegmentIdentificationSequence);
    if (!id) id = first(shared, DCM_SegmentIdentificationSequence);
    const int number = id ? std::atoi(text(*id, DCM_ReferencedSegmentNumber).c_str()) : 0;
    SegmentInfo* seg = nullptr;
    for (SegmentInfo& s : out.segments) seg = s.number == number ? &s : seg;
    if (!seg) return misfit(path, f, "it names segment " + std::to_string(number) + ", which the SEG does not describe");
    if (*only != 0 && number != *only) continue;
    const auto position = frame_position(shared, frames[f]);
    if (!position) return misfit(path, f, "it has no plane position");
    auto k = slice_of(g, *position, path, f);
    if (!k) return k.error();
    for (std::size_t p = 0; p < px->plane; ++p) {
      if (!px->inside(f, p)) continue;
      std::uint16_t& label = out.labels[*k * px->plane + p];
      if (label != 0 && label != number) ++out.overlapping;
      if (label < number) label = static_cast<std::uint16_t>(number);
      ++seg->voxels;
    }
  }
  return out;
}

}  // namespace oq::dicom
