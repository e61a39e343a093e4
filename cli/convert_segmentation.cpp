// oncoquant convert SEG.dcm --images DIR -o mask.nii.gz [--segment N|LABEL]: a DICOM SEG back as a
// mask on the grid of the series it segments (what OncoQuant's own SEGs and others' read back to).
#include <algorithm>
#include <cstdio>

#include "convert_segmentation.h"
#include "image_archive.h"
#include "oq/diagnostics.h"
#include "oq/dicom/segmentation.h"

namespace oq::cli {

int convert_segmentation(const Args& args, const DocumentInfo& seg, const std::string& temp, const std::string& out,
                         const PluginDescriptor& exporter) {
  if (seg.referenced_series.empty()) return fail(seg.path + ": the SEG names no series it segments");
  if (!args.has("--images"))
    return fail(seg.path + ": a SEG is written onto the series it segments: give --images DIR, the folder holding series " +
                seg.referenced_series.front());
  ImageArchive archive(args.get("--images"));
  auto grid = archive.grid(seg.referenced_series.front());
  if (!grid) return fail(seg.path + ": " + grid.error().describe());
  const std::string wanted = args.get("--segment");
  auto segments = dicom::read_segmentation(seg.path, *grid, wanted);
  if (!segments) return fail(segments.error().describe());
  // One segment as a 0/1 mask; all of them as their numbers (8 bits when they fit).
  const bool one = !wanted.empty();
  std::uint16_t highest = 0;
  for (const dicom::SegmentInfo& s : segments->segments)
    highest = std::max<std::uint16_t>(highest, static_cast<std::uint16_t>(s.number));
  Volume mask(*grid, one || highest < 256 ? VoxelType::kUInt8 : VoxelType::kUInt16);
  mask.set_units(one ? "mask" : "segment number");
  for (std::size_t n = 0; n < segments->labels.size(); ++n)
    if (segments->labels[n]) mask.set_value(n, one ? 1 : segments->labels[n]);
  if (segments->overlapping > 0)
    std::fprintf(oq::diag(), "warning: %zu voxels lie in several segments; each holds the highest segment number\n",
                 segments->overlapping);
  if (Status st = exporter.exporter->write_volume(mask, temp); !st.ok()) return fail(out + ": " + st.error().message());
  return 0;
}

}  // namespace oq::cli
