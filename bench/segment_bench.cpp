// Times one lesion's segmentation + measurement (lesion::segment_ct) on a CT series, median of
// several runs, beside ITK's classic one-click pipeline on the same region around the same seed
// (ITK Software Guide: CurvatureFlow smoothing, 5 iterations, then ConnectedThreshold), which
// measures nothing; then the same lesion clicked off its middle. Loading the series is not timed.
#include <itkCastImageFilter.h>
#include <itkConnectedThresholdImageFilter.h>
#include <itkCurvatureFlowImageFilter.h>
#include <itkImage.h>
#include <itkImageRegionConstIterator.h>
#include <itkImportImageFilter.h>
#include <itkRegionOfInterestImageFilter.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <vector>

#include "oq/lesion/ct_segment.h"
#include "oq/plugin.h"
#include "oq/scan.h"

namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: segment_bench CT_DIR X Y Z\n");
    return 2;
  }
  const oq::Vec3 seed{std::atof(argv[2]), std::atof(argv[3]), std::atof(argv[4])};
  const oq::Catalog catalog = oq::scan_inputs({argv[1]});
  auto series = oq::select_series(catalog, "", argv[1]);
  if (!series.ok()) return 1;
  const oq::PluginDescriptor* loader = oq::find_plugin((*series)->loader);
  oq::LoadOptions load;
  load.units = oq::Units::kHU;
  auto ct = loader->loader->load_volume(**series, load);
  if (!ct.ok()) {
    std::fprintf(stderr, "%s\n", ct.error().describe().c_str());
    return 1;
  }
  const int runs = 7;
  // Median seconds of `runs` clicks at `click`; the last result kept in `last`.
  oq::lesion::CtSegmentation last;
  auto time_clicks = [&](const oq::Vec3& click) -> std::optional<double> {
    std::vector<double> seconds;
    for (int r = 0; r < runs; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      auto seg = oq::lesion::segment_ct(*ct, click);
      seconds.push_back(seconds_since(t0));
      if (!seg.ok()) {
        std::fprintf(stderr, "%s\n", seg.error().describe().c_str());
        return std::nullopt;
      }
      last = std::move(*seg);
    }
    return median(seconds);
  };
  const auto ours = time_clicks(seed);
  if (!ours) return 1;
  const oq::lesion::CtSegmentation centred = last;
  std::vector<double> itk_times;
  // ITK: import the volume (not timed), then ConnectedThreshold within the same 136 mm cube.
  using Image = itk::Image<short, 3>;
  const oq::Grid& g = ct->grid();
  auto import = itk::ImportImageFilter<short, 3>::New();
  Image::SizeType size;
  for (unsigned a = 0; a < 3; ++a) size[a] = g.size[a];
  Image::RegionType region;
  region.SetSize(size);
  import->SetRegion(region);
  double spacing[3] = {g.spacing[0], g.spacing[1], g.spacing[2]};
  import->SetSpacing(spacing);
  import->SetImportPointer(const_cast<short*>(ct->data<short>()), g.voxel_count(), false);
  import->Update();
  const oq::Vec3 si = g.to_index(seed);
  Image::IndexType seed_index, start;
  Image::SizeType roi_size;
  for (unsigned a = 0; a < 3; ++a) {
    seed_index[a] = std::lround(si[a]);
    const long half = static_cast<long>(68 / g.spacing[a]);
    start[a] = std::max(0L, seed_index[a] - half);
    roi_size[a] =
        static_cast<unsigned long>(std::min<long>(static_cast<long>(g.size[a]) - 1, seed_index[a] + half) - start[a] + 1);
  }
  unsigned long grown_voxels = 0;
  for (int r = 0; r < runs; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    auto roi = itk::RegionOfInterestImageFilter<Image, Image>::New();
    roi->SetInput(import->GetOutput());
    roi->SetRegionOfInterest(Image::RegionType(start, roi_size));
    using Real = itk::Image<float, 3>;
    auto cast = itk::CastImageFilter<Image, Real>::New();
    cast->SetInput(roi->GetOutput());
    auto smooth = itk::CurvatureFlowImageFilter<Real, Real>::New();
    smooth->SetInput(cast->GetOutput());
    smooth->SetNumberOfIterations(5);
    smooth->SetTimeStep(0.125);
    auto grow = itk::ConnectedThresholdImageFilter<Real, Image>::New();
    grow->SetInput(smooth->GetOutput());
    // Thresholds halfway to the background, as segment_ct finds the boundary.
    const double half = std::abs(centred.background_hu - centred.lesion_hu) / 2;
    grow->SetLower(static_cast<float>(centred.lesion_hu - half));
    grow->SetUpper(static_cast<float>(centred.lesion_hu + half));
    Image::IndexType local;
    for (unsigned a = 0; a < 3; ++a) local[a] = seed_index[a] - start[a];
    grow->AddSeed(local);
    grow->SetReplaceValue(1);
    grow->Update();
    itk_times.push_back(seconds_since(t0));
    grown_voxels = 0;
    for (itk::ImageRegionConstIterator<Image> it(grow->GetOutput(), grow->GetOutput()->GetLargestPossibleRegion()); !it.IsAtEnd();
         ++it)
      grown_voxels += it.Get() != 0;
  }
  // A click away from the middle (a quarter of the short axis off, inside the inner half) costs
  // the passes that re-centre the rays.
  const auto off_centre = time_clicks({seed[0] + 0.25 * centred.short_axis.length_mm, seed[1], seed[2]});
  if (!off_centre) return 1;
  std::printf("%.4f %.4f %.2f %.2f %lu %.4f\n", *ours, median(itk_times), centred.long_axis.length_mm, centred.volume_ml,
              grown_voxels, *off_centre);
  return 0;
}
