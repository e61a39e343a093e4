// oncoquant convert: one series to a volume file (cli.md).
#include <cstdio>

#include <optional>
#include "args.h"
#include "commands.h"
#include "convert_segmentation.h"
#include "oq/output.h"

#include "oq/diagnostics.h"
#include "oq/plugin.h"
#include "oq/progress.h"
#include "oq/resample.h"
#include "oq/scan.h"

namespace oq::cli {

namespace {

const char* kConvertUsage =
    "usage: oncoquant convert INPUT -o OUT [--series UID] [--units native|hu|suvbw|suvlbm] [--resample-to UID]\n"
    "  Writes one series as a volume on its own grid (.nii.gz, .nii, .nrrd or .mha, by extension).\n"
    "  INPUT is a folder or file holding the series; --series picks one when there are several.\n"
    "  Default units: CT in HU, PET in SUVbw (an error when SUV is unavailable, unless --units native),\n"
    "  NM in counts. suvlbm is SULlbm (Janmahasatian lean body mass) for PERCIST.\n"
    "  --resample-to UID       resample onto the grid of series UID (same Frame of Reference, e.g. PET onto\n"
    "                          its CT of one PET-CT); trilinear, float output\n"
    "  --allow-pet-intercept   accept a PET series with a non-zero Rescale Intercept (refused by default)\n"
    "  --quiet                 no progress on stderr\n"
    "  A DICOM SEG as INPUT is written as a mask on the grid of the series it segments, which --images DIR\n"
    "  holds: every segment as its number, or --segment N|LABEL alone as 1.\n";

}  // namespace

int cmd_convert(int argc, char** argv) {
  Args args(argc, argv, 2, {"-o", "--out", "--series", "--units", "--resample-to", "--images", "--segment"},
            {"--help", "--allow-pet-intercept", "--quiet"});
  if (args.has("--help")) {
    std::fputs(kConvertUsage, stdout);
    return 0;
  }
  if (!args.ok()) return usage_fail(args.error(), kConvertUsage);
  if (args.positional().size() != 1) return usage_fail("convert needs exactly one INPUT", kConvertUsage);
  const std::string out = args.has("-o") ? args.get("-o") : args.get("--out");
  if (out.empty()) return usage_fail("convert needs -o OUT", kConvertUsage);
  LoadOptions options;
  if (args.has("--units") && !parse_units(args.get("--units"), options.units))
    return usage_fail("--units must be native, hu, suvbw or suvlbm", kConvertUsage);
  options.allow_pet_intercept = args.has("--allow-pet-intercept");
  if (args.has("--quiet")) Progress::set_quiet(true);

  const PluginDescriptor* exporter = find_exporter(out);
  if (!exporter) return usage_fail("OUT must end in .nii.gz, .nii, .nrrd or .mha: " + out, kConvertUsage);

  const std::string input = args.positional().front();
  OutputSet outputs({input});
  auto temp = outputs.add(out);
  if (!temp) return fail(temp.error().describe());
  const Catalog catalog = scan_inputs({input});
  if (catalog.studies.empty() && catalog.documents.size() == 1 &&
      catalog.documents.front().kind.find("SEG") != std::string::npos) {
    if (int code = convert_segmentation(args, catalog.documents.front(), *temp, out, *exporter); code != 0) return code;
    if (Status st = outputs.commit(); !st.ok()) return fail(st.error().describe());
    std::fprintf(oq::diag(), "wrote %s: the segmentation on its series' grid\n", out.c_str());
    return 0;
  }
  auto series = select_series(catalog, args.get("--series"), input);
  if (!series.ok()) return fail(series.error().describe());
  const SeriesInfo& s = **series;
  if (!s.loadable) return fail(s.files.front() + ": series " + s.uid + " cannot be converted: " + s.problem);
  std::optional<Grid> target;
  if (args.has("--resample-to")) {
    auto ref = select_series(catalog, args.get("--resample-to"), input);
    if (!ref.ok()) return fail(ref.error().describe());
    const SeriesInfo& r = **ref;
    if (r.frame_of_reference_uid.empty() || r.frame_of_reference_uid != s.frame_of_reference_uid)
      return fail(input + ": series " + s.uid + " and " + r.uid +
                  " do not share a Frame of Reference UID; pairing them needs a registration, not a resampling");
    if (!r.loadable) return fail(input + ": reference series " + r.uid + " is not loadable: " + r.problem);
    target = grid_of(r);
  }
  auto volume = load_series(s, options);
  // Named by the input given and by what failed in it (a series UID alone names no file).
  if (!volume.ok())
    return fail(volume.error().subject().rfind(input, 0) == 0 ? volume.error().describe()
                                                              : input + ": " + volume.error().describe());
  // Warnings only once the series loaded: a refused input gets its one error line and nothing else.
  for (const auto& w : s.warnings) std::fprintf(oq::diag(), "warning: %s\n", w.c_str());
  if (target) {
    // PET outside its own field of view is no uptake, not a number to interpolate.
    *volume = resample_linear(*volume, *target, 0.0);
  }
  if (Status st = exporter->exporter->write_volume(*volume, *temp); !st.ok()) return fail(out + ": " + st.error().message());
  if (Status st = outputs.commit(); !st.ok()) return fail(st.error().describe());
  const Grid& g = volume->grid();
  std::fprintf(oq::diag(), "wrote %s: %s %zu x %zu x %zu, %s, %s\n", out.c_str(), s.modality.c_str(), g.size[0], g.size[1],
               g.size[2], volume->units().c_str(), to_string(volume->type()));
  return 0;
}

}  // namespace oq::cli
