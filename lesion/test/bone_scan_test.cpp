// Pairing the anterior and posterior views' hot spots into metastases.
#include <gtest/gtest.h>

#include "oq/lesion/bone_scan.h"

namespace oq::lesion {
namespace {

HotSpot spot(const char* view, double row, double column) {
  HotSpot h;
  h.view = view;
  h.row = row;
  h.column = column;
  return h;
}

// 256 columns of 2.4 mm, as a whole-body bone scan.
ViewGeometry whole_body(bool mirrored) {
  ViewGeometry g;
  g.columns = 256;
  g.pixel_mm = 2.4;
  g.posterior_mirrored = mirrored;
  return g;
}

// A rib metastasis on the patient's left: on the anterior view (patient's right on the image
// left) at column 200; the posterior view, seen from behind, shows it at column 55.
TEST(BoneScanPairing, ALateralMetastasisIsOneLesionWhenThePosteriorIsMirrored) {
  const std::vector<HotSpot> spots = {spot("anterior", 300, 200), spot("posterior", 301, 55.5)};
  const auto lesions = pair_views(spots, whole_body(true));
  ASSERT_EQ(lesions.size(), 1u);
  EXPECT_EQ(lesions[0].anterior, 0);
  EXPECT_EQ(lesions[0].posterior, 1);
  // Read with the posterior taken as already flipped, the two spots are 145 columns apart: two
  // lesions, each on one view.
  const auto unpaired = pair_views(spots, whole_body(false));
  ASSERT_EQ(unpaired.size(), 2u);
  EXPECT_EQ(unpaired[0].posterior + unpaired[1].posterior, 0);  // one is -1, the other 1
}

// Two adjacent vertebrae, 14 rows apart, slightly off on each view: each pairs with its own,
// not crosswise, and a posterior-only spot (a scapula) stays on its own.
TEST(BoneScanPairing, AdjacentVertebraePairWithTheirOwnAndOneViewSpotsStayAlone) {
  const std::vector<HotSpot> spots = {spot("anterior", 195, 128), spot("anterior", 208, 129), spot("posterior", 209, 126.5),
                                      spot("posterior", 194.5, 127.5), spot("posterior", 150, 60)};
  const auto lesions = pair_views(spots, whole_body(true));
  ASSERT_EQ(lesions.size(), 3u);
  // Head to foot: the scapula (row 150), then the two vertebrae.
  EXPECT_EQ(lesions[0].anterior, -1);
  EXPECT_EQ(lesions[0].posterior, 4);
  EXPECT_EQ(lesions[1].anterior, 0);
  EXPECT_EQ(lesions[1].posterior, 3);
  EXPECT_EQ(lesions[2].anterior, 1);
  EXPECT_EQ(lesions[2].posterior, 2);
}

// Farther apart than the tolerance (here 20 mm, 8 px): not the same metastasis.
TEST(BoneScanPairing, SpotsFartherApartThanTheToleranceAreTwoLesions) {
  const std::vector<HotSpot> spots = {spot("anterior", 400, 100), spot("posterior", 409, 155)};
  EXPECT_EQ(pair_views(spots, whole_body(true), 20).size(), 2u);
  EXPECT_EQ(pair_views(spots, whole_body(true), 25).size(), 1u);
}

}  // namespace
}  // namespace oq::lesion
