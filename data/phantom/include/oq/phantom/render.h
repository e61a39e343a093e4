// Samples the anatomy onto image planes. Each output pixel averages k x k points in-plane and
// m planes across the slice thickness, which gives the partial-volume edges a scanner produces.
#pragma once

#include <cstdint>
#include <vector>

#include "oq/phantom/anatomy.h"

namespace oq::phantom {

// An axial image plane: pixel (0, 0) is centred at (origin_x, origin_y); rows run along +y.
struct PlaneGrid {
  int nx = 0, ny = 0;
  double spacing_x = 1, spacing_y = 1;
  double origin_x = 0, origin_y = 0;
};

struct Slab {
  std::vector<float> hu;             // mean CT number over the pixel's slab
  std::vector<float> suv;            // mean FDG uptake over the slab
  std::vector<std::int16_t> lesion;  // lesion index covering at least half the slab, else -1
};

class SlabRenderer {
 public:
  SlabRenderer(const Anatomy& anatomy, PlaneGrid grid, int in_plane_samples, int planes);
  // The slab of `thickness` mm centred at z; `shift` moves the patient (table position).
  void render(double z, double thickness, Vec3 shift, Slab& out);

 private:
  void paint_plane(double z, Vec3 shift);

  const Anatomy& anatomy_;
  PlaneGrid grid_;
  int k_, m_;
  int fw_, fh_;
  std::vector<float> hu_, suv_;
  std::vector<std::uint8_t> tissue_;
  std::vector<std::int16_t> lesion_;
};

}  // namespace oq::phantom
