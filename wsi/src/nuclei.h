// Stages of nucleus detection for crowded real tissue (issue 19), apart from analyse_ihc so that
// each has its own test (wsi/test/nuclei_test.cpp). Images are OpenCV matrices at the analysis
// resolution: CV_32F stain (OD), CV_8U masks (0/255), CV_32S labels.
#pragma once

#include <opencv2/core.hpp>

#include <vector>

namespace oq::wsi::nuclei {

// How far above its local background the stain must stand to be a nucleus: a tenth of the tile's
// strong nuclei (the 95th centile of `above_bg`), never below half of `floor_od`.
double nucleus_level(const cv::Mat& above_bg, double floor_od);

// Parts of the foreground `fg` larger than `min_px` pixels that the distance seeds (`seeds`, a
// mask of small plateaus) explain poorly, more than `px_per_seed` pixels for each: sheets of
// crowded nuclei whose cytoplasm stands above the background too.
cv::Mat sheets_of(const cv::Mat& fg, const cv::Mat& seeds, double min_px, double px_per_seed);

// In `sheet`, replaces the seeds of `peaks` by the positive maxima (3 um around) of the nucleus
// stain's Laplacian of Gaussian at nucleus scale (sigma 2 um); `mpp` is microns per pixel.
void seed_sheets(const cv::Mat& nucleus_stain, const cv::Mat& sheet, double mpp, cv::Mat& peaks);

// Gives each pixel of `sheet` the label of its nearest seed (`seeds`: labels 1..nseeds-1 at the
// seed pixels, 0 elsewhere) in `markers`; returns each label's peak `above_bg` in the sheet.
std::vector<float> give_sheets_to_nearest_seeds(const cv::Mat& seeds, const cv::Mat& sheet, const cv::Mat& above_bg, int nseeds,
                                                cv::Mat& markers);

// Whether two maxima of `stain` (pixel coordinates) are one nucleus: the stain along the line
// between them dips by less than 3 % of the lower one.
bool same_blob(const cv::Mat& stain, double x0, double y0, double x1, double y1);

}  // namespace oq::wsi::nuclei
