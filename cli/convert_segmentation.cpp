// oncoquant convert SEG.dcm --images DIR -o mask.nii.gz [--segment N|LABEL]: a DICOM SEG back as a
// mask on the grid of the series it segments (what OncoQuant's own SEGs and others' read back to).
#include <cstdio>

#include "convert_segmentation.h"
#include "image_archive.h"
#include "oq/diagnostics.h"
#include "oq/dicom/segmentation.h"

namespace oq::cli {

namespace {

// The segments to write: the one --segment names (number or label), else all, as a label map.
Result<std::vector<const dicom::SegmentVoxels*>> chosen(const std::vector<dicom::SegmentVoxels>& segments,
                                                        const std::string& wanted, const std::string& path) {
  std::vector<const dicom::SegmentVoxels*> out;
  for (const auto& s : segments)
    if (wanted.empty() || wanted == s.label || wanted == std::to_string(s.number)) out.push_back(&s);
  if (out.empty()) {
    std::string names;
    for (const auto& s : segments) names += " " + std::to_string(s.number) + " (" + s.label + ")";
    return Error(ErrorCode::kNotFound, "no segment '" + wanted + "'; it holds:" + names, path);
  }
  return out;
}

}  // namespace

int convert_segmentation(const Args& args, const DocumentInfo& seg, const std::string& temp, const std::string& out,
                         const PluginDescriptor& exporter) {
  if (seg.referenced_series.empty()) return fail(seg.path + ": the SEG names no series it segments");
  if (!args.has("--images"))
    return fail(seg.path + ": a SEG is written onto the series it segments: give --images DIR, the folder holding series " +
                seg.referenced_series.front());
  ImageArchive archive(args.get("--images"));
  auto grid = archive.grid(seg.referenced_series.front());
  if (!grid) return fail(seg.path + ": " + grid.error().describe());
  auto segments = dicom::read_segmentation(seg.path, *grid);
  if (!segments) return fail(segments.error().describe());
  auto wanted = chosen(*segments, args.get("--segment"), seg.path);
  if (!wanted) return fail(wanted.error().describe());
  Volume mask(*grid, VoxelType::kUInt8);
  mask.set_units(wanted->size() == 1 ? "mask" : "segment number");
  std::size_t overlaps = 0;
  for (const dicom::SegmentVoxels* s : *wanted)
    for (std::size_t n = 0; n < s->inside.size(); ++n)
      if (s->inside[n]) {
        if (mask.value(n) != 0) ++overlaps;
        mask.set_value(n, wanted->size() == 1 ? 1 : s->number);
      }
  if (overlaps > 0)
    std::fprintf(oq::diag(), "warning: %zu voxels lie in several segments; each holds the highest segment number\n", overlaps);
  if (Status st = exporter.exporter->write_volume(mask, temp); !st.ok()) return fail(out + ": " + st.error().message());
  return 0;
}

}  // namespace oq::cli
